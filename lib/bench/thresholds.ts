/**
 * Deriving `auto` crossovers from a bench report: for each op, the smallest size from which a backend
 * beats the JS reference at that size and every larger one measured (the median over the op's
 * variants). WebGPU crossovers only come from a hardware adapter (`auto` never picks a software one).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { thresholds as current, parseThresholds, thresholdsFile, type Threshold } from '../backends/thresholds.js';
import type { BenchReport } from './types.js';

/** Where `backend` overtakes js for good, in the elements `auto` sees; Infinity if never, undefined if not compared. */
function crossover(report: BenchReport, id: string, backend: string): number | undefined {
  const mine = report.results.filter((r) => r.id === id && !r.peer);
  const sizes = [...new Set(mine.map((r) => r.size))].sort((a, b) => a - b);
  let from: number | undefined;
  let compared = false;
  for (const size of sizes) {
    const js = mine.find((r) => r.size === size && r.backend === 'js'), b = mine.find((r) => r.size === size && r.backend === backend);
    if (!js || !b) continue;
    compared = true;
    // Reports written before `elements` existed count in sizes.
    if (b.medianMs < js.medianMs) from ??= b.elements ?? size; else from = undefined;
  }
  return compared ? from ?? Infinity : undefined;
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor((s.length - 1) / 2)]!; };

/** Thresholds per op name from `report` (ops it did not measure keep their current value). */
export function deriveThresholds(report: BenchReport): Record<string, Threshold> {
  const out: Record<string, Threshold> = {};
  const hardwareGpu = report.adapter !== null && !report.adapter.software;
  for (const op of new Set(report.ops.map((o) => o.op))) {
    const ids = report.ops.filter((o) => o.op === op).map((o) => o.id);
    const pick = (backend: string) => {
      const xs = ids.map((id) => crossover(report, id, backend)).filter((x): x is number => x !== undefined);
      return xs.length ? median(xs) : undefined;
    };
    const base = current[op] ?? current['default']!;
    const native = pick('native'), webgpu = hardwareGpu ? pick('webgpu') : undefined;
    if (native === undefined && webgpu === undefined) continue;
    // JSON has no Infinity: "never faster" is stored as the largest safe integer.
    const finite = (x: number) => (Number.isFinite(x) ? x : Number.MAX_SAFE_INTEGER);
    out[op] = { native: finite(native ?? base.native), webgpu: finite(webgpu ?? base.webgpu) };
  }
  return out;
}

/** Write derived thresholds where `auto` reads them (merged over the file's earlier entries). */
export function saveThresholds(derived: Record<string, Threshold>, report: BenchReport, file = thresholdsFile()): string {
  let earlier: Record<string, Threshold> = {};
  try { if (existsSync(file)) earlier = parseThresholds(readFileSync(file, 'utf8')); } catch { /* replaced below */ }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({
    derivedFrom: { date: report.date, preset: report.preset, machine: report.machine, adapter: report.adapter },
    thresholds: { ...earlier, ...derived },
  }, null, 2) + '\n');
  return file;
}
