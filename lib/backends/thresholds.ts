/**
 * `auto` crossovers, in elements (tokens + rows) per call.
 *
 * native: 65,536 — from `npm run bench` on the 2-core development machine (docs/benchmarks.md):
 * below it the JS reference wins (the addon's async hand-off costs ~0.04 ms); at 65,536 tokens the
 * addon is 1.6–1.8× faster and the gap widens to 6.6× at 4M tokens.
 *
 * webgpu: 16,777,216 — not yet measured on a hardware GPU. Estimated from the figures in
 * ENVIRONMENT.md for host-resident inputs: uploading the mask through queue.writeBuffer (2.4 GB/s)
 * plus reading back f32 advantages (46 GB/s) costs ~0.5 ns per token, about what the addon needs
 * on a many-core host, so the GPU only pays off for very large calls until the upload path is
 * faster. Applies to hardware adapters only; a software adapter (lavapipe) is never picked.
 */
export interface Threshold { native: number; webgpu: number }
export const thresholds: Record<string, Threshold> = {
  default: { native: 65_536, webgpu: 16_777_216 },
  grpoAdvantages: { native: 65_536, webgpu: 16_777_216 },
};
