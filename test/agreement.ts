/**
 * One suite run per accelerated backend: every edge case × layout × convention at several sizes,
 * compared with the JS reference.
 *
 * Tolerance rel 1e-5, abs 1e-6 (the issue's bound; for `scale: 'none'` the absolute part scales
 * with the scores' magnitude, since those advantages are in score units). Native computes in f64 like the reference and
 * matches it exactly in practice; WGSL computes in f32 with exact power-of-two scaling and a shifted
 * mean, so its error is a few f32 ulps of the result (~1e-7 relative), well inside the bound.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { grpoAdvantages, type GrpoOptions } from '../lib/index.js';
import { caseMatrix, makeCase, mismatch } from './helpers.js';

export const sizes: Array<[number, number]> = [[1, 1], [2, 3], [7, 5], [64, 33], [300, 130]];

export async function agree(options: GrpoOptions, backend: 'native' | 'webgpu', extra: Partial<GrpoOptions> = {}, abs = 1e-6): Promise<void> {
  const ref = await grpoAdvantages({ ...options, backend: 'js' });
  const got = await grpoAdvantages({ ...options, ...extra, backend });
  assert.is(got.backend, backend);
  const rows = mismatch(got.rowAdvantages, ref.rowAdvantages, 1e-5, abs);
  assert.is(rows, '', `rows: ${rows}`);
  const tokens = mismatch(got.tokenAdvantages, ref.tokenAdvantages, 1e-5, abs);
  assert.is(tokens, '', `tokens: ${tokens}`);
}

export function agreementSuite(backend: 'native' | 'webgpu', extra: () => Partial<GrpoOptions> = () => ({})): void {
  let seed = 1;
  for (const [B, T] of sizes) {
    const cases = caseMatrix(B, T);
    test(`${backend} agrees with js on ${cases.length} cases at ${B}×${T}`, async () => {
      for (const { name, spec } of cases) {
        const s = seed++;
        // Unnormalised advantages are in score units: the absolute bound scales with the scores
        // (f32 keeps 2^-24 of the largest |s|, so s − mean of 1e30-sized scores is exact to ~1e23).
        const magnitude = spec.special === 'huge' ? 1e30 : spec.special === 'tiny' ? 1e-30 : 1;
        const abs = spec.scale === 'none' ? 1e-6 * magnitude : 1e-6;
        try { await agree(makeCase(spec, s), backend, extra(), abs); } catch (e) { throw new Error(`${name} (seed ${s}): ${(e as Error).message}`); }
      }
    });
  }

  test(`${backend}: verl rejects a NaN token-level row sum like js does`, async () => {
    const options: GrpoOptions = { scores: [1, NaN, 2, 3], mask: new Uint8Array([1, 0, 1, 1]), shape: [2, 2], groups: { size: 2 } };
    for (const b of ['js', backend] as const) {
      try { await grpoAdvantages({ ...options, ...extra(), backend: b }); assert.unreachable(); } catch (e: any) {
        assert.is(e.code, 'E_VALUE', b);
        assert.match(e.message, /row 0/);
      }
    }
  });

  test(`${backend}: 1,048,576 rows (labels, u8 mask, verl group and TRL batch)`, async () => {
    await agree(makeCase({ rows: 1 << 20, cols: 8, groups: 'labels', groupSize: 16, tokenScores: true }, 99), backend, extra());
    await agree(makeCase({ rows: 1 << 20, cols: 4, packed: true, preset: 'trl', scale: 'batch', groupSize: 8, special: 'trlNaN' }, 98), backend, extra());
  });
}
