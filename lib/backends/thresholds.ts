/**
 * `auto` crossovers, in elements per call (for token ops: tokens + rows), per op.
 *
 * Three layers, later ones winning:
 * 1. the fallback below: native from 65,536 elements (the addon's async hand-off costs ~0.04 ms, so
 *    below that the JS reference wins on the development machine); webgpu from 16,777,216 — an
 *    estimate until a hardware GPU run re-derives it (uploads cost about what the addon needs on a
 *    many-core host, so the GPU pays off only for large calls). A software adapter is never picked.
 * 2. `thresholds.json` in the package: per-op crossovers measured by `rewardkit bench
 *    --derive-thresholds` on the development machine (its `derivedFrom` says which run).
 * 3. the user's file, `thresholdsFile()`, written by the same command on their machine.
 * The bench sizes are in each op's unit (tokens, rows, latent elements), which is the element
 * count `auto` sees up to the per-row terms.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../paths.js';

export interface Threshold { native: number; webgpu: number }

const fallback: Record<string, Threshold> = {
  default: { native: 65_536, webgpu: 16_777_216 },
  grpoAdvantages: { native: 65_536, webgpu: 16_777_216 },
};

/** Where derived thresholds live: $REWARDKIT_THRESHOLDS, else $XDG_CONFIG_HOME (~/.config)/rewardkit/thresholds.json. */
export function thresholdsFile(): string {
  return process.env['REWARDKIT_THRESHOLDS']
    ?? join(process.env['XDG_CONFIG_HOME'] || join(homedir(), '.config'), 'rewardkit', 'thresholds.json');
}

/** Entries of a thresholds file that are well formed (others are ignored: a bad file must not break `auto`). */
export function parseThresholds(text: string): Record<string, Threshold> {
  const out: Record<string, Threshold> = {};
  const json = JSON.parse(text) as { thresholds?: Record<string, Partial<Threshold>> };
  for (const [op, t] of Object.entries(json.thresholds ?? {})) {
    const ok = (x: unknown) => typeof x === 'number' && x >= 0;
    if (ok(t.native) || ok(t.webgpu)) {
      const base = fallback[op] ?? fallback['default']!;
      out[op] = { native: ok(t.native) ? t.native! : base.native, webgpu: ok(t.webgpu) ? t.webgpu! : base.webgpu };
    }
  }
  return out;
}

/** The entries of a thresholds file, or none when it is absent, unreadable or malformed (never fatal). */
function read(file: string): Record<string, Threshold> | undefined {
  try {
    return existsSync(file) ? parseThresholds(readFileSync(file, 'utf8')) : undefined;
  } catch {
    return undefined;
  }
}

function load(): { table: Record<string, Threshold>; source: string } {
  const shipped = read(join(packageRoot(), 'thresholds.json'));
  const user = read(thresholdsFile());
  const table = { ...fallback, ...shipped, ...user };
  return { table, source: user ? thresholdsFile() : shipped ? 'built-in (thresholds.json)' : 'built-in' };
}

const loaded = load();
export const thresholds: Record<string, Threshold> = loaded.table;
/** 'built-in', or the file the table was read from. */
export const thresholdsSource: string = loaded.source;
