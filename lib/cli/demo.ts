/**
 * The main job: one GRPO step's advantages for a realistic batch — 512 prompts × 16 responses of up
 * to 2,048 tokens, 0/1 rewards from a rule-based verifier (exact match of the final answer) — on
 * every available backend, checked against the JS reference, timed.
 */
import { grpoAdvantages, type GrpoResult } from '../advantage/grpo.js';
import { nativeStatus } from '../backends/native.js';
import { disposeDefaultContext, gpuStatus } from '../backends/webgpu/context.js';

const PROMPTS = 512, G = 16, T = 2048;

/** A deterministic synthetic batch: response lengths, final answers, and the rule reward. */
export function demoBatch(seed = 1): { scores: Float32Array; mask: Uint8Array; labels: Int32Array; rows: number } {
  let x = seed >>> 0;
  const rand = () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const rows = PROMPTS * G;
  const scores = new Float32Array(rows), mask = new Uint8Array(rows * T), labels = new Int32Array(rows);
  for (let p = 0; p < PROMPTS; p++) {
    const truth = Math.floor(rand() * 100);
    const skill = rand(); // how often this prompt is solved
    for (let k = 0; k < G; k++) {
      const i = p * G + k;
      const answer = rand() < skill ? truth : Math.floor(rand() * 100);
      scores[i] = answer === truth ? 1 : 0; // the verifier: exact match
      labels[i] = p;
      const len = 16 + Math.floor(rand() ** 2 * (T - 16)); // most responses short, a long tail
      mask.fill(1, i * T, i * T + len);
    }
  }
  return { scores, mask, labels, rows };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export async function demo(): Promise<number> {
  const t0 = performance.now();
  const batch = demoBatch();
  const tokens = batch.rows * T;
  let trained = 0;
  for (let i = 0; i < batch.mask.length; i++) trained += batch.mask[i]!;
  const solved = batch.scores.reduce((s, v) => s + v, 0);
  console.log(`GRPO step: ${PROMPTS} prompts × ${G} responses, padded to ${T} tokens (${(tokens / 1e6).toFixed(1)}M slots, ${(trained / 1e6).toFixed(1)}M trained tokens), ${solved} of ${batch.rows} responses rewarded 1\n`);
  const available: Array<'js' | 'native' | 'webgpu'> = ['js'];
  const notes: string[] = [];
  const n = nativeStatus();
  if (n.available) available.push('native'); else notes.push(`native skipped: ${n.reason}`);
  const g = await gpuStatus();
  if (g.available) available.push('webgpu'); else notes.push(`webgpu skipped: ${g.reason}`);

  const run = (backend: 'js' | 'native' | 'webgpu') => grpoAdvantages({ scores: batch.scores, mask: batch.mask, shape: [batch.rows, T], groups: batch.labels, preset: 'verl', backend });
  let reference: GrpoResult | undefined;
  let failures = 0;
  const rows: string[][] = [['backend', 'median ms', 'Mtokens/s', 'max |diff| vs js', 'agrees']];
  for (const backend of available) {
    const times: number[] = [];
    let result!: GrpoResult;
    for (let k = 0; k < 3; k++) {
      const s = performance.now();
      result = await run(backend);
      times.push(performance.now() - s);
    }
    times.sort((a, b) => a - b);
    reference ??= result;
    const diff = Math.max(maxDiff(result.tokenAdvantages, reference.tokenAdvantages), maxDiff(result.rowAdvantages, reference.rowAdvantages));
    const agrees = diff <= 1e-5;
    if (!agrees) failures++;
    rows.push([backend + (backend === 'webgpu' && g.adapter ? ` (${g.adapter.device || g.adapter.architecture || g.adapter.vendor})` : ''),
      times[1]!.toFixed(1), (tokens / times[1]! / 1e3).toFixed(0), diff.toExponential(1), agrees ? 'yes' : 'NO']);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) console.log(r.map((v, c) => (c === 0 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join('  '));
  for (const note of notes) console.log(`\n${note}`);
  const a = reference!.rowAdvantages;
  console.log(`\nfirst group's advantages: ${[...a.subarray(0, G)].map((v) => v.toFixed(3)).join(' ')}`);
  console.log(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s${failures ? ` — ${failures} backend(s) DISAGREE` : ', all backends agree'}`);
  disposeDefaultContext();
  return failures ? 1 : 0;
}
