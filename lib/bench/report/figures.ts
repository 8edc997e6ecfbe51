/**
 * What the HTML and markdown reports both derive from a `BenchReport`: the throughput measure per op,
 * speed-ups, the roofline at a given byte count, the colour of each backend and number formatting.
 */
import type { BenchReport, BenchResult, Bound, Roofline } from '../types.js';

export type ReportOp = BenchReport['ops'][number];

export const backendOrder = ['js', 'native', 'webgpu'];

const fixed: Record<string, string> = { js: '#4e79a7', native: '#f28e2b', webgpu: '#59a14f' };
const others = ['#b07aa1', '#e15759', '#76b7b2', '#9c755f', '#edc948', '#ff9da7', '#bab0ac'];

/** One colour per backend and per peer, the same in every chart: peers in the report's order. */
export function colours(report: BenchReport): Map<string, string> {
  const map = new Map(Object.entries(fixed));
  let next = 0;
  for (const name of [...report.peers.map((p) => p.name), ...report.results.map((r) => r.backend)]) {
    if (!map.has(name)) map.set(name, others[next++ % others.length]!);
  }
  return map;
}

/** What a chart plots for an op: GB/s (memory-bound), GFLOP/s (compute-bound) or items/s (cpu-bound). */
export function measure(bound: Bound, unit: string): { label: string; value(r: BenchResult): number | undefined } {
  if (bound === 'compute') return { label: 'GFLOP/s', value: (r) => r.gflops ?? (r.flops ? r.flops / r.medianMs / 1e6 : undefined) };
  if (bound === 'cpu') return { label: `${unit}/s`, value: (r) => (r.medianMs > 0 ? r.size / (r.medianMs / 1e3) : undefined) };
  return { label: 'GB/s', value: (r) => r.gbps };
}

/** The results of one op, rewardkit backends first (js, native, webgpu), then peers. */
export function resultsOf(report: BenchReport, id: string): BenchResult[] {
  const rank = (r: BenchResult) => (r.peer ? 10 + report.peers.findIndex((p) => p.name === r.backend) : backendOrder.indexOf(r.backend));
  return report.results.filter((r) => r.id === id).sort((a, b) => a.size - b.size || rank(a) - rank(b));
}

/** Backends (then peers) in the order they appear in `results`. */
export function seriesNames(results: BenchResult[]): string[] {
  return [...new Set(results.map((r) => r.backend))];
}

/** How many times faster `r` is than `ref` on the same case. */
export function speedup(ref: BenchResult | undefined, r: BenchResult): number | undefined {
  return ref && r.medianMs > 0 ? ref.medianMs / r.medianMs : undefined;
}

/** The largest size an op ran at on `backend` (any rewardkit backend when omitted). */
export function largestSize(results: BenchResult[], backend?: string): number | undefined {
  const sizes = results.filter((r) => (backend ? r.backend === backend : !r.peer)).map((r) => r.size);
  return sizes.length ? Math.max(...sizes) : undefined;
}

/** The rewardkit backend with the lowest median at one size. */
export function best(results: BenchResult[], size: number): BenchResult | undefined {
  return results.filter((r) => !r.peer && r.size === size).reduce<BenchResult | undefined>((b, r) => (!b || r.medianMs < b.medianMs ? r : b), undefined);
}

/** The fastest peer at one size. */
export function bestPeer(results: BenchResult[], size: number): BenchResult | undefined {
  return results.filter((r) => r.peer && r.size === size).reduce<BenchResult | undefined>((b, r) => (!b || r.medianMs < b.medianMs ? r : b), undefined);
}

/** The roofline's GB/s at `bytes`: log-log interpolation between measured points, held flat past the ends. */
export function rooflineAt(roofline: Roofline, bytes: number): number | undefined {
  const pts = [...roofline.points].filter((p) => p.bytes > 0 && p.gbps > 0).sort((a, b) => a.bytes - b.bytes);
  if (!pts.length) return undefined;
  if (bytes <= pts[0]!.bytes) return pts[0]!.gbps;
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1]!, b = pts[i]!;
    if (bytes <= b.bytes) {
      const t = Math.log(bytes / a.bytes) / Math.log(b.bytes / a.bytes);
      return Math.exp(Math.log(a.gbps) + t * Math.log(b.gbps / a.gbps));
    }
  }
  return pts[pts.length - 1]!.gbps;
}

/** The rooflines an op's results are judged against (host memcpy when none says). */
export function rooflinesOf(report: BenchReport, results: BenchResult[]): Roofline[] {
  const kinds = new Set(results.flatMap((r) => (r.roofline ? [r.roofline.kind] : [])));
  if (!kinds.size) kinds.add('host-memcpy');
  return report.rooflines.filter((r) => kinds.has(r.kind));
}

/** 3 significant digits, grouped thousands: 0.00123, 1.23, 123, 12,345. */
export function num(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '—';
  if (v === 0) return '0';
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(v))));
  return v.toLocaleString('en-US', { maximumFractionDigits: Math.min(digits, 6), minimumFractionDigits: 0 });
}

/** Short form for tick labels and sizes: 1k, 64k, 16M, 0.5. */
export function short(v: number): string {
  return v.toLocaleString('en-US', { notation: 'compact', maximumSignificantDigits: 3 });
}

export { count } from '../inputs.js';

/** Bytes in binary units: 64 KiB, 8 MiB, 1.5 GiB. */
export function bytesText(b: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (b >= 1024 && i < units.length - 1) { b /= 1024; i++; }
  return `${num(b)} ${units[i]}`;
}

export const times = (x: number | undefined) => (x === undefined ? '—' : `${num(x)}×`);
export const percent = (f: number | undefined) => (f === undefined ? '—' : `${num(f * 100)}%`);
