/**
 * `rewardkit bench`: every declared op on every available backend over a size sweep, with rooflines
 * and peers in the same run; progress on stderr, a summary on stdout, JSON / HTML / markdown files.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { disposeDefaultContext, gpuStatus } from '../backends/webgpu/context.js';
import { allOps } from '../bench/ops/index.js';
import { allPeers } from '../bench/peers/index.js';
import { renderHtml } from '../bench/report/html.js';
import { renderMarkdown } from '../bench/report/markdown.js';
import { runBench, selectOps } from '../bench/runner.js';
import { deriveThresholds, saveThresholds } from '../bench/thresholds.js';
import { presets, type BenchReport, type BenchResult, type Preset } from '../bench/types.js';

export const benchUsage = `usage: rewardkit bench [options]

  --preset P          smoke | small | laptop | datacenter (default: datacenter with a hardware
                      GPU, laptop with >= 8 cores, else small)
  --op a,b            ops by family, or by the start of the op name or variant (default: all)
  --backend a,b       js, native, webgpu and peers numpy, torch-cpu, torch-cuda, tfjs-wasm, tfjs-cpu
  --min-size N        skip sizes below N (in each op's unit)
  --max-size N        skip sizes above N
  --no-peers          measure rewardkit only
  --no-upload         skip the host→device upload paths (measured with WebGPU when no --op is given)
  --time MS           minimum time per measurement (default 100)
  --iterations N      minimum timed calls per measurement (default 3)
  --max-call MS       skip a backend or peer at sizes where a call would take longer (default 1000)
  --json FILE         write the full report as JSON
  --html FILE         write the self-contained HTML report
  --md FILE           write the markdown summary
  --out DIR           write all three into DIR (rewardkit-bench-<date>.{json,html,md})
  --from FILE         render an earlier JSON report instead of running
  --derive-thresholds write the measured native/webgpu crossovers where \`auto\` reads them
  --list              list the op declarations and exit
  --quiet             no progress lines
`;

const MiB = 2 ** 20;
/** Upload sizes per preset: from latency-bound to bandwidth-bound for the machine the preset is for. */
const uploadSizes: Record<Preset, number[]> = {
  smoke: [64 * 1024], small: [MiB, 16 * MiB], laptop: [MiB, 16 * MiB, 256 * MiB], datacenter: [MiB, 16 * MiB, 256 * MiB, 1024 * MiB],
};

const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toPrecision(2));

function progress(r: BenchResult, done: number, total: number): string {
  const rate = r.gflops !== undefined ? `${fmt(r.gflops)} GFLOP/s` : `${fmt(r.gbps)} GB/s`;
  const roof = r.roofline ? `, ${(100 * r.roofline.fraction).toFixed(0)}% of ${r.roofline.kind}` : '';
  return `[${String(done).padStart(String(total).length)}/${total}] ${r.id} @ ${r.size.toLocaleString('en-US')} ${r.unit}  ${r.backend}  ${fmt(r.medianMs)} ms  (${rate}${roof})`;
}

async function defaultPreset(): Promise<Preset> {
  const gpu = await gpuStatus();
  if (gpu.available && !gpu.adapter?.software) return 'datacenter';
  return cpus().length >= 8 ? 'laptop' : 'small';
}

const list = (s: string | undefined) => s?.split(',').map((x) => x.trim()).filter(Boolean);
function count(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(n >= 0)) throw new Error(`--${name} expects a non-negative number but received '${v}'`);
  return n;
}

export async function bench(argv: string[]): Promise<number> {
  const { values: o } = parseArgs({
    args: argv, strict: true, allowPositionals: false, options: {
      preset: { type: 'string' }, op: { type: 'string' }, backend: { type: 'string' },
      'min-size': { type: 'string' }, 'max-size': { type: 'string' }, 'no-peers': { type: 'boolean' }, 'no-upload': { type: 'boolean' },
      time: { type: 'string' }, 'max-call': { type: 'string' }, iterations: { type: 'string' }, json: { type: 'string' }, html: { type: 'string' },
      md: { type: 'string' }, out: { type: 'string' }, from: { type: 'string' }, 'derive-thresholds': { type: 'boolean' },
      list: { type: 'boolean' }, quiet: { type: 'boolean' }, help: { type: 'boolean' },
    },
  });
  if (o.help) { process.stdout.write(benchUsage); return 0; }
  if (o.preset !== undefined && !(presets as readonly string[]).includes(o.preset)) {
    throw new Error(`--preset expects one of ${presets.join(', ')} but received '${o.preset}'`);
  }
  if (o.list) {
    const preset = (o.preset as Preset | undefined) ?? 'small';
    for (const op of selectOps(allOps, list(o.op))) {
      console.log(`${op.id.padEnd(44)} ${op.family.padEnd(11)} ${op.bound.padEnd(7)} ${op.backends.join(',').padEnd(17)} ${op.sizes[preset].join(', ')} ${op.unit}`);
    }
    return 0;
  }

  let report: BenchReport;
  if (o.from) {
    if (!existsSync(o.from)) throw new Error(`--from: no file ${o.from}`);
    report = JSON.parse(readFileSync(o.from, 'utf8')) as BenchReport;
  } else {
    const preset = (o.preset as Preset | undefined) ?? await defaultPreset();
    const peers = o['no-peers'] ? [] : allPeers();
    // Ctrl-C or a `timeout` ends the run after the measurement in progress; what was measured is still written.
    const stopper = new AbortController();
    const onSignal = (signal: string) => { console.error(`rewardkit bench: ${signal}: stopping after the current measurement`); stopper.abort(); };
    process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
    if (!o.quiet) console.error(`rewardkit bench: preset ${preset}${o.op ? `, ops ${o.op}` : ''}`);
    try {
      report = await runBench(allOps, {
        preset, ops: list(o.op), backends: list(o.backend), minSize: count('min-size', o['min-size']), maxSize: count('max-size', o['max-size']),
        peers, minTimeMs: count('time', o.time), minIterations: count('iterations', o.iterations),
        maxCallMs: count('max-call', o['max-call']),
        uploadSizes: o['no-upload'] || o.op ? [] : uploadSizes[preset], signal: stopper.signal,
        command: `rewardkit bench ${argv.join(' ')}`.trim(),
        onResult: o.quiet ? undefined : (r, done, total) => console.error(progress(r, done, total)),
        onFailure: (f) => console.error(`FAILED ${f.id} @ ${f.size} on ${f.backend}: ${f.error}`),
      });
    } finally {
      process.removeListener('SIGINT', onSignal).removeListener('SIGTERM', onSignal);
      await Promise.all(peers.map((p) => p.close().catch(() => undefined)));
      disposeDefaultContext();
    }
  }

  const stamp = report.date.slice(0, 19).replace(/:/g, '');
  const files: Array<[string | undefined, () => string]> = [
    [o.json ?? (o.out && join(o.out, `rewardkit-bench-${stamp}.json`)), () => JSON.stringify(report, null, 2) + '\n'],
    [o.html ?? (o.out && join(o.out, `rewardkit-bench-${stamp}.html`)), () => renderHtml(report)],
    [o.md ?? (o.out && join(o.out, `rewardkit-bench-${stamp}.md`)), () => renderMarkdown(report)],
  ];
  const summary = renderMarkdown(report);
  for (const [file, render] of files) {
    if (!file) continue;
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, render());
    console.error(`wrote ${file}`);
  }
  console.log(summary);
  if (o['derive-thresholds']) {
    const derived = deriveThresholds(report);
    const file = saveThresholds(derived, report);
    console.log(`\nauto thresholds derived for ${Object.keys(derived).length} ops, written to ${file}:`);
    for (const [op, t] of Object.entries(derived)) console.log(`  ${op}: native >= ${t.native}, webgpu >= ${t.webgpu}`);
  }
  if (report.partial) console.error('rewardkit bench: the run was stopped early; the report is partial');
  return report.failures.length || report.partial ? 1 : 0;
}
