/** The native addon against the JS reference. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { nativeStatus } from '../lib/index.js';
import { agreementSuite } from './agreement.js';
import { isCI } from './helpers.js';

const status = nativeStatus();
if (status.available) {
  test('native reports its build', () => {
    assert.ok(status.info);
  });
  agreementSuite('native');
} else if (isCI) {
  test('native addon is available in CI', () => assert.unreachable(`native unavailable: ${status.reason}`));
} else {
  console.error(`\n!!! SKIPPING native tests: ${status.reason}\n`);
  test.skip('native (unavailable)', () => {});
}
test.run();
