/**
 * `npm test`: runs every test file in its own process (a crash fails that file, not the run),
 * then prints the closing line `N passed, N failed, N skipped` that CI reads.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here).filter((f) => f.endsWith('.test.js') && (!only.length || only.some((o) => f.includes(o)))).sort();
let passed = 0, failed = 0, skipped = 0;
const broken: string[] = [];
for (const file of files) {
  console.log(`\n# ${file}`);
  const r = spawnSync(process.execPath, [join(here, file)], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 << 20 });
  process.stdout.write(r.stdout);
  // Dawn prints two harmless "artificially reduced" warnings per device: keep the rest.
  process.stderr.write(r.stderr.split('\n').filter((l) => !/artificially reduced/.test(l)).join('\n'));
  const num = (label: string) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(r.stdout)?.[1] ?? NaN);
  const total = num('Total'), ok = num('Passed'), skip = num('Skipped');
  if (Number.isNaN(total) || r.status === null) {
    failed++;
    broken.push(`${file} (exit ${r.status ?? r.signal})`);
    continue;
  }
  passed += ok;
  skipped += skip || 0;
  failed += total - ok;
  if (r.status !== 0 && total === ok) { failed++; broken.push(`${file} (exit ${r.status})`); }
}
if (broken.length) console.log(`\nfiles that did not finish cleanly: ${broken.join(', ')}`);
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed ? 1 : 0);
