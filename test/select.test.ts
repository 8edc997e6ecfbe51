/** `auto` picks by size and availability; asking for a missing backend is a typed error. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chooseBackend, grpoAdvantages, nativeStatus, thresholds } from '../lib/index.js';

const small = { scores: [1, 0], mask: new Uint8Array([1, 1]), shape: [2, 1] as const, groups: { size: 2 } };

test('small calls run on js', async () => {
  assert.is(chooseBackend('grpoAdvantages', 3), 'js');
  assert.is((await grpoAdvantages(small)).backend, 'js');
});

test('from the native threshold, native when the addon is loaded, else js', () => {
  const n = thresholds['grpoAdvantages']!.native;
  assert.is(chooseBackend('grpoAdvantages', n), nativeStatus().available ? 'native' : 'js');
  assert.is(chooseBackend('grpoAdvantages', n - 1), 'js');
});

test('auto on a large call runs and reports where', async () => {
  const B = 4096, T = 64;
  const r = await grpoAdvantages({ scores: new Float32Array(B).map((_, i) => i % 3), mask: new Uint8Array(B * T).fill(1), shape: [B, T], groups: { size: 16 } });
  assert.is(r.backend, nativeStatus().available ? 'native' : 'js'); // lavapipe is never auto-picked
});

test('unknown op names fall back to the default thresholds', () => {
  assert.is(chooseBackend('noSuchOp', 1), 'js');
});

test.run();
