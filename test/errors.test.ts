/** Bad input: a RewardkitError with a code naming the argument, what was expected and what came. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { grpoAdvantages, RewardkitError, type GrpoOptions } from '../lib/index.js';

const ok = (): GrpoOptions => ({ scores: [1, 2, 3, 4], mask: new Uint8Array(8).fill(1), shape: [4, 2], groups: { size: 2 }, backend: 'js' });
const cases: Array<[string, () => unknown, string, string | RegExp]> = [
  ['options not an object', () => null, 'E_VALUE', 'options'],
  ['unknown preset', () => ({ ...ok(), preset: 'openai' }), 'E_VALUE', 'preset'],
  ['unknown scale', () => ({ ...ok(), scale: 'global' }), 'E_VALUE', 'scale'],
  ['NaN epsilon', () => ({ ...ok(), epsilon: NaN }), 'E_VALUE', 'epsilon'],
  ['negative epsilon', () => ({ ...ok(), epsilon: -1e-6 }), 'E_VALUE', 'epsilon'],
  ['scores as Int32Array', () => ({ ...ok(), scores: new Int32Array(4) }), 'E_DTYPE', 'scores'],
  ['scores as a string', () => ({ ...ok(), scores: '1,2,3,4' }), 'E_DTYPE', 'scores'],
  ['a string inside scores', () => ({ ...ok(), scores: [1, '2', 3, 4] }), 'E_DTYPE', 'scores[1]'],
  ['scores of the wrong length', () => ({ ...ok(), scores: [1, 2, 3] }), 'E_SHAPE', 'scores'],
  ['scoreLevel token with row-length scores', () => ({ ...ok(), scoreLevel: 'token' }), 'E_SHAPE', 'scores'],
  ['mask as Int16Array', () => ({ ...ok(), mask: new Int16Array(8) }), 'E_DTYPE', 'mask'],
  ['mask of the wrong length', () => ({ ...ok(), mask: new Uint8Array(7) }), 'E_SHAPE', 'mask'],
  ['no layout', () => ({ scores: [1], groups: { size: 1 } }), 'E_VALUE', 'mask'],
  ['missing shape', () => ({ ...ok(), shape: undefined }), 'E_SHAPE', 'shape'],
  ['non-integer rows', () => ({ ...ok(), shape: [2.5, 2] }), 'E_VALUE', 'shape[0]'],
  ['negative columns', () => ({ ...ok(), shape: [4, -2] }), 'E_VALUE', 'shape[1]'],
  ['zero rows (empty batch)', () => ({ ...ok(), scores: [], mask: new Uint8Array(0), shape: [0, 2] }), 'E_VALUE', 'shape[0]'],
  ['both layouts', () => ({ ...ok(), offsets: [0, 1, 2, 3, 4] }), 'E_VALUE', 'offsets'],
  ['offsets not starting at 0', () => ({ scores: [1, 2], offsets: [1, 2, 3], groups: { size: 1 } }), 'E_VALUE', 'offsets[0]'],
  ['decreasing offsets', () => ({ scores: [1, 2], offsets: [0, 3, 2], groups: { size: 1 } }), 'E_VALUE', 'offsets[2]'],
  ['a single offset (empty batch)', () => ({ scores: [], offsets: [0], groups: { size: 1 } }), 'E_SHAPE', 'offsets'],
  ['fractional offsets', () => ({ scores: [1, 2], offsets: [0, 1.5, 3], groups: { size: 1 } }), 'E_VALUE', 'offsets[1]'],
  ['ambiguous score level', () => ({ scores: [1, 2], offsets: [0, 0, 2], groups: { size: 1 } }), 'E_VALUE', 'scoreLevel'],
  ['groups of the wrong length', () => ({ ...ok(), groups: [0, 0, 1] }), 'E_SHAPE', 'groups'],
  ['fractional group label', () => ({ ...ok(), groups: [0, 0.5, 1, 1] }), 'E_VALUE', 'groups[1]'],
  ['groups as Float32Array', () => ({ ...ok(), groups: new Float32Array(4) }), 'E_DTYPE', 'groups'],
  ['group size not dividing B', () => ({ ...ok(), groups: { size: 3 } }), 'E_SHAPE', 'groups.size'],
  ['group size 0', () => ({ ...ok(), groups: { size: 0 } }), 'E_VALUE', 'groups.size'],
  ['group id out of range', () => ({ ...ok(), groups: [0, 0, 1, 5], numGroups: 2 }), 'E_RANGE', 'groups[3]'],
  ['negative group id with numGroups', () => ({ ...ok(), groups: [0, -1, 1, 1], numGroups: 2 }), 'E_RANGE', 'groups[1]'],
  ['NaN score under verl', () => ({ ...ok(), scores: [1, NaN, 3, 4] }), 'E_VALUE', 'scores[1]'],
  ['Infinity score under TRL', () => ({ ...ok(), preset: 'trl', scores: [1, 2, Infinity, 4] }), 'E_VALUE', 'scores[2]'],
  ['NaN padding summed as verl does', () => ({ ...ok(), scores: [1, NaN, 1, 1, 1, 1, 1, 1], mask: new Uint8Array([1, 0, 1, 1, 1, 1, 1, 1]) }), 'E_VALUE', /^scores/],
  ['unknown backend', () => ({ ...ok(), backend: 'cuda' }), 'E_VALUE', 'backend'],
  ['sumMasked not a boolean', () => ({ ...ok(), sumMasked: 1 }), 'E_VALUE', 'sumMasked'],
];

for (const [name, make, code, argument] of cases) {
  test(name, async () => {
    try {
      await grpoAdvantages(make() as GrpoOptions);
      assert.unreachable('no error');
    } catch (e) {
      assert.instance(e, RewardkitError, String(e));
      const err = e as RewardkitError;
      assert.is(err.code, code, err.message);
      if (typeof argument === 'string') assert.is(err.argument, argument, err.message);
      else assert.match(err.argument ?? '', argument);
      assert.match(err.message, /Expected .+ but received /);
    }
  });
}

test('the message says what was expected and what came', async () => {
  try { await grpoAdvantages({ ...ok(), mask: new Uint8Array(7) }); } catch (e) {
    assert.is((e as Error).message, 'Expected length B*T = 4*2 = 8 for mask but received length 7');
  }
});

test('NaN on padding is fine once only masked tokens are summed', async () => {
  const r = await grpoAdvantages({ ...ok(), scores: [1, NaN, 1, Infinity, 2, 0, 2, 0], mask: new Uint8Array([1, 0, 1, 0, 1, 0, 1, 0]), sumMasked: true });
  assert.equal([...r.rowAdvantages], [0, 0, 0, 0]);
});

test.run();
