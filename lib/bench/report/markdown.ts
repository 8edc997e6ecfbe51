/**
 * The markdown summary of a bench run: the machine, the rooflines, one row per op at its largest size
 * (the fastest rewardkit backend there, against js and the fastest peer), the peers and the failures.
 */
import { formatUpload } from '../upload.js';
import type { BenchReport } from '../types.js';
import { best, bestPeer, bytesText, count, largestSize, measure, num, percent, resultsOf, speedup, times } from './figures.js';

/** Table cells: no pipe, newline or raw HTML may break the row. */
const cell = (s: string) => s.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const row = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;

export function renderMarkdown(report: BenchReport): string {
  const m = report.machine, a = report.adapter;
  const adapter = a ? `${a.description || a.device}${a.software ? ' (software)' : ''}` : 'no WebGPU adapter';
  const out = [
    `# rewardkit bench — ${cell(report.date)}`,
    '',
    `**Machine:** ${cell(`${m.cpu}, ${m.cores} cores, ${num(m.memoryGiB)} GiB, ${m.os}; Node ${m.node}; ${adapter}; native ${report.native ? 'built' : 'not built'}`)}.`,
    `**Run:** \`${report.command.replace(/`/g, "'")}\`, preset ${cell(report.preset)}, ${num(report.durationS)} s${report.partial ? ' — **stopped early: partial results**' : ''}.`,
    '',
    '## Rooflines',
    '',
  ];
  if (report.rooflines.length) {
    const sizes = [...new Set(report.rooflines.flatMap((l) => l.points.map((p) => p.bytes)))].sort((x, y) => x - y);
    out.push(row(['bytes', ...report.rooflines.map((l) => `${l.label} GB/s`)]), `|---:|${'---:|'.repeat(report.rooflines.length)}`);
    for (const b of sizes) out.push(row([bytesText(b), ...report.rooflines.map((l) => num(l.points.find((p) => p.bytes === b)?.gbps))]));
  } else out.push('None measured.');

  out.push('', '## Ops at their largest size', '', row(['op', 'size', 'best', 'median ms', 'throughput', '% roofline', '× js', '× best peer']), '|---|---:|---|---:|---:|---:|---:|---|');
  for (const o of report.ops) {
    const res = resultsOf(report, o.id), size = largestSize(res);
    const top = size === undefined ? undefined : best(res, size);
    if (!top) { out.push(row([o.id, '—', 'no result', '—', '—', '—', '—', '—'])); continue; }
    const ms = measure(o.bound, o.unit), js = res.find((x) => x.backend === 'js' && x.size === size);
    const peer = bestPeer(res, size!);
    out.push(row([
      o.id, `${count(size!)} ${o.unit}`, top.backend, num(top.medianMs), `${num(ms.value(top))} ${ms.label}`,
      percent(top.roofline?.fraction), times(speedup(js, top)), peer ? `${times(speedup(peer, top))} (${peer.backend})` : '—',
    ]));
  }

  out.push('', '## Peers', '');
  if (!report.peers.length) out.push('None asked for.');
  for (const p of report.peers) out.push(`- ${cell(p.name)}: ${p.status === 'ok' ? `ok${p.version ? ` (${cell(p.version)})` : ''}` : `**${p.status}**${p.reason ? ` — ${cell(p.reason)}` : ''}`}`);

  if (report.upload) out.push('', '## Host → device upload', '', formatUpload(report.upload));

  out.push('', '## Failures', '');
  if (!report.failures.length) out.push('None.');
  else {
    out.push(row(['op', 'size', 'backend', 'error']), '|---|---:|---|---|');
    for (const f of report.failures) out.push(row([f.id, count(f.size), f.backend, f.error]));
  }
  if (report.skipped?.length) {
    out.push('', `Skipped on purpose: ${report.skipped.length} measurements (${[...new Set(report.skipped.map((x) => x.backend))].join(', ')}) whose calls were predicted to take longer than the --max-call limit.`);
  }
  return out.join('\n') + '\n';
}
