/**
 * `npm run bench:suites [-- <suite> ...] [--flags]`: runs the named suites (bench/<suite>.ts), or every
 * suite when none is named, each in its own process, passing the flags through.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const suites = readdirSync(here).filter((f) => f.endsWith('.js') && f !== 'run.js').map((f) => f.slice(0, -3)).sort();
const args = process.argv.slice(2);
const named = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1]!.startsWith('--')));
const flags = args.filter((a) => !named.includes(a));
const unknown = named.filter((n) => !suites.includes(n));
if (unknown.length) {
  console.error(`unknown bench suite ${unknown.join(', ')}; suites: ${suites.join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const suite of named.length ? named : suites) {
  console.log(`\n## bench/${suite}`);
  const r = spawnSync(process.execPath, [join(here, `${suite}.js`), ...flags], { stdio: 'inherit' });
  if (r.status !== 0) { failed++; console.error(`bench/${suite} exited with ${r.status ?? r.signal}`); }
}
process.exit(failed ? 1 : 0);
