#!/usr/bin/env node
/** The `rewardkit` command: `doctor` (what runs here and why not), `demo` (the README's main job) and `bench` (benchmarks). */
import { doctor } from './doctor.js';
import { demo } from './demo.js';
import { bench } from './bench.js';

const usage = `usage: rewardkit <command>

  doctor [--json]   each backend's availability and why not, the GPU adapter, the addon's build
  bench [options]   time every op on every backend, with rooflines and peers (--help)
  demo              a GRPO step on a synthetic batch (512 prompts × 16 responses, up to 2,048
                    tokens) on every available backend: checks they agree, prints time per backend
`;

const [command, ...args] = process.argv.slice(2);
try {
  if (command === 'doctor') await doctor(args.includes('--json'));
  else if (command === 'demo') process.exitCode = await demo();
  else if (command === 'bench') process.exitCode = await bench(args);
  else { process.stdout.write(usage); process.exitCode = command === undefined || command === '--help' || command === 'help' ? 0 : 2; }
} catch (e) {
  console.error(`rewardkit ${command}: ${(e as Error).message}`);
  process.exitCode = 1;
}
