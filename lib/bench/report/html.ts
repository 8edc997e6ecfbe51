/**
 * `rewardkit bench --html`: one self-contained page (inline CSS and SVG, nothing fetched) with the run's
 * header, rooflines, peers, speed-up summaries, then per family and op a throughput-vs-size chart against
 * the roofline and the table of every result, and the failures.
 */
import type { BenchReport, BenchResult } from '../types.js';
import type { UploadReport } from '../upload.js';
import {
  bytesText, colours, count, largestSize, measure, num, percent, resultsOf, rooflineAt, rooflinesOf, seriesNames, short, speedup, times,
  type ReportOp,
} from './figures.js';
import { barChart, esc, lineChart, type BarRow, type Line } from './svg.js';

const css = `
body { font: 14px/1.45 system-ui, "DejaVu Sans", sans-serif; color: #222; margin: 0 auto; padding: 16px 24px; max-width: 1240px; }
h1 { font-size: 22px; margin: 4px 0 12px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; }
h3 { font-size: 15px; margin: 20px 0 6px; } h3 small { font-weight: normal; color: #666; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
dl.meta dt { color: #666; } dl.meta dd { margin: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 6px 0; }
th, td { padding: 2px 8px; border-bottom: 1px solid #eee; text-align: right; white-space: nowrap; }
th { background: #f6f6f6; } th.text, td.text { text-align: left; }
td.text { white-space: normal; } tr.best td { font-weight: 600; }
.missing { color: #a33; } .swatch { display: inline-block; width: 10px; height: 10px; margin-right: 5px; }
.op { display: flex; flex-wrap: wrap; gap: 8px 24px; align-items: flex-start; } .scroll { overflow-x: auto; max-width: 100%; }
nav a { margin-right: 10px; } svg.chart { font: 12px system-ui, "DejaVu Sans", sans-serif; display: block; max-width: 100%; height: auto; }
svg .title { font-weight: 600; } svg .frame { fill: none; stroke: #999; } svg .grid { stroke: #e4e4e4; }
svg .tick, svg .value { fill: #555; } svg .series { fill: none; stroke-width: 2; } svg .one { stroke: #222; stroke-width: 1.5; }
`;

/** The whole page for one report. */
export function renderHtml(report: BenchReport): string {
  const colour = colours(report);
  const families = [...new Set(report.ops.map((o) => o.family))];
  const body = [
    `<h1>rewardkit bench — ${esc(report.date)}</h1>`,
    header(report),
    `<nav>${families.map((f) => `<a href="#family-${esc(f)}">${esc(f)}</a>`).join('')}<a href="#failures">failures (${report.failures.length})</a></nav>`,
    `<h2>Rooflines</h2>`, rooflines(report),
    `<h2>Peers</h2>`, peers(report, colour),
    `<h2>Speed-ups at the largest size</h2>`, summaries(report, colour),
    ...families.flatMap((f) => [
      `<h2 id="family-${esc(f)}">${esc(f)}</h2>`,
      ...report.ops.filter((o) => o.family === f).map((o) => opSection(report, o, colour)),
    ]),
    ...(report.upload ? [`<h2>Host → device upload</h2>`, upload(report.upload)] : []),
    `<h2 id="failures">Failures</h2>`, failures(report),
    ...(report.skipped?.length ? [`<h2>Skipped</h2>`, table(['op', 'size', 'backend', 'why'], report.skipped.map((x) => [tdText(x.id), td(count(x.size)), tdText(x.backend), tdText(x.reason)]), [0, 2, 3])] : []),
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>rewardkit bench — ${esc(report.date)}</title><style>${css}</style></head>
<body>
${body.join('\n')}
</body></html>
`;
}

/** GB/s of each upload path per size, and the tiny op's latency. */
function upload(u: UploadReport): string {
  const sizes = [...new Set(u.uploads.map((x) => x.bytes))];
  const labels = [...new Set([...u.uploads, ...u.overhead].map((x) => x.label))];
  const note = `<p>${esc(u.adapter)}${u.software ? ' — a software adapter (a CPU): these show relative API cost only.' : ''}</p>`;
  return note + table(['path', ...sizes.map((b) => `${bytesText(b)} GB/s`), 'tiny op ms'], labels.map((label) => [
    tdText(label),
    ...sizes.map((b) => { const x = u.uploads.find((y) => y.label === label && y.bytes === b); return td(x ? num(x.gbps) : '—'); }),
    td(((o) => (o ? num(o.medianMs) : '—'))(u.overhead.find((y) => y.label === label))),
  ]), [0]);
}

/** A table; `text` names the left-aligned (text) columns by index. */
function table(head: string[], rows: string[][], text: number[], rowClass: (i: number) => string = () => ''): string {
  const tr = (cells: string[], i: number) => `<tr${rowClass(i) ? ` class="${rowClass(i)}"` : ''}>${cells.join('')}</tr>`;
  const th = (h: string, i: number) => `<th${text.includes(i) ? ' class="text"' : ''}>${esc(h)}</th>`;
  return `<div class="scroll"><table><thead><tr>${head.map(th).join('')}</tr></thead><tbody>\n`
    + rows.map(tr).join('\n') + '\n</tbody></table></div>';
}
const td = (s: string) => `<td>${esc(s)}</td>`;
const tdText = (s: string) => `<td class="text">${esc(s)}</td>`;

function header(r: BenchReport): string {
  const m = r.machine, a = r.adapter;
  const native = r.native
    ? Object.entries(r.native).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ')
    : 'not built';
  const rows: Array<[string, string]> = [
    ['date', r.date],
    ['machine', `${m.cpu}, ${m.cores} cores, ${num(m.memoryGiB)} GiB, ${m.os}`],
    ['node', m.node],
    ['adapter', a ? `${a.description || a.device} (${[a.vendor, a.architecture].filter(Boolean).join(', ')})${a.software ? ', software' : ''}` : 'none'],
    ['native build', native],
    ['preset', r.preset],
    ['command', r.command],
    ['duration', `${num(r.durationS)} s${r.partial ? ' (stopped early: partial results)' : ''}`],
  ];
  return `<dl class="meta">${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`;
}

function rooflines(r: BenchReport): string {
  if (!r.rooflines.length) return '<p>No roofline was measured.</p>';
  const sizes = [...new Set(r.rooflines.flatMap((l) => l.points.map((p) => p.bytes)))].sort((a, b) => a - b);
  const rows = sizes.map((bytes) => [td(bytesText(bytes)), ...r.rooflines.map((l) => {
    const p = l.points.find((q) => q.bytes === bytes);
    return td(p ? `${num(p.gbps)} GB/s (${num(p.ms)} ms)` : '—');
  })]);
  return table(['bytes moved', ...r.rooflines.map((l) => `${l.kind}: ${l.label}`)], rows, []);
}

function peers(r: BenchReport, colour: Map<string, string>): string {
  if (!r.peers.length) return '<p>No peer was asked for.</p>';
  return table(['peer', 'status', 'version', 'note'], r.peers.map((p) => [
    `<td class="text"><span class="swatch" style="background:${colour.get(p.name)}"></span>${esc(p.name)}</td>`,
    p.status === 'ok' ? tdText('ok') : `<td class="text missing">${esc(p.status)}</td>`,
    tdText(p.version ?? ''), tdText(p.reason ?? ''),
  ]), [0, 1, 2, 3]);
}

/** Speed-up over js per op at its largest js size (bars per backend and peer), then over each installed peer. */
function summaries(r: BenchReport, colour: Map<string, string>): string {
  const order = [...colour.keys()], charts: string[] = [];
  const overJs = speedupRows(r, colour, 'js', () => true);
  if (overJs.length) charts.push(barChart({ summary: 'js', title: 'Speed-up over the JS reference (largest size)', xLabel: 'times faster than js (log)', rows: overJs, order }));
  for (const p of r.peers.filter((q) => q.status === 'ok')) {
    const rows = speedupRows(r, colour, p.name, (x) => !x.peer);
    if (rows.length) charts.push(barChart({ summary: `peer:${p.name}`, title: `Speed-up over ${p.name} (largest size it ran)`, xLabel: `times faster than ${p.name} (log)`, rows, order }));
  }
  return charts.length ? charts.join('\n') : '<p>Nothing to compare: no op ran on more than one backend.</p>';
}

/** Per op, at the largest size `against` ran: how many times faster than it each other (kept) backend was. */
function speedupRows(r: BenchReport, colour: Map<string, string>, against: string, keep: (x: BenchResult) => boolean): BarRow[] {
  return r.ops.flatMap((o) => {
    const res = resultsOf(r, o.id), size = largestSize(res, against);
    const ref = res.find((x) => x.backend === against && x.size === size);
    const bars = res.filter((x) => x.size === size && x !== ref && keep(x)).flatMap((x) => {
      const value = speedup(ref, x);
      return value ? [{ name: x.backend, colour: colour.get(x.backend)!, value }] : [];
    });
    return bars.length ? [{ label: `${o.id} @ ${short(size!)}`, bars }] : [];
  });
}

function opSection(r: BenchReport, o: ReportOp, colour: Map<string, string>): string {
  const res = resultsOf(r, o.id), m = measure(o.bound, o.unit);
  const lines: Line[] = seriesNames(res).map((name) => ({
    name, colour: colour.get(name)!, hollow: res.find((x) => x.backend === name)!.peer,
    points: res.filter((x) => x.backend === name).flatMap((x) => {
      const v = m.value(x);
      return v && v > 0 ? [[x.size, v] as [number, number]] : [];
    }),
  }));
  if (o.bound === 'memory') {
    const bytes = new Map(res.map((x) => [x.size, x.bytes]));
    for (const roof of rooflinesOf(r, res)) {
      const points = [...bytes].sort((a, b) => a[0] - b[0]).flatMap(([size, b]) => {
        const g = rooflineAt(roof, b);
        return g ? [[size, g] as [number, number]] : [];
      });
      lines.push({ name: `roofline: ${roof.label}`, colour: roof.kind === 'device-copy' ? '#555' : '#111', points, dashed: true });
    }
  }
  const chart = res.length
    ? lineChart({ op: o.id, title: `${o.id}: ${m.label} vs ${o.unit}`, xLabel: `${o.unit} (log)`, yLabel: `${m.label} (log)`, lines })
    : `<p class="missing" data-op="${esc(o.id)}">No result: every case failed.</p>`;
  return `<h3 id="op-${esc(o.id)}">${esc(o.id)} <small>${esc(o.op)} · ${esc(o.bound)}-bound · backends ${esc(o.backends.join(', '))}</small></h3>
<div class="op">${chart}\n${opTable(res, o.unit, m)}</div>`;
}

function opTable(res: BenchResult[], unit: string, m: ReturnType<typeof measure>): string {
  const peerNames = seriesNames(res.filter((x) => x.peer));
  const extra = m.label === 'GB/s' ? [] : [m.label];
  const roof = res.some((x) => x.roofline);
  const head = [unit, 'backend', 'median ms', 'p25–p75 ms', 'GB/s', ...extra, ...(roof ? ['% roofline'] : []), '× js', ...peerNames.map((p) => `× ${p}`)];
  const fastest = new Map<number, number>();
  for (const x of res) if (!x.peer) fastest.set(x.size, Math.min(fastest.get(x.size) ?? Infinity, x.medianMs));
  const at = (size: number, backend: string) => res.find((x) => x.size === size && x.backend === backend);
  const rows = res.map((x) => [
    `<td title="${esc(x.label)}">${esc(count(x.size))}</td>`, tdText(x.backend), td(num(x.medianMs)),
    td(`${num(x.p25Ms)}–${num(x.p75Ms)}`), td(num(x.gbps)), ...extra.map(() => td(num(m.value(x)))),
    ...(roof ? [td(percent(x.roofline?.fraction))] : []), td(x.backend === 'js' ? '1×' : times(speedup(at(x.size, 'js'), x))),
    ...peerNames.map((p) => td(p === x.backend ? '' : times(speedup(at(x.size, p), x)))),
  ]);
  return table(head, rows, [1], (i) => (!res[i]!.peer && fastest.get(res[i]!.size) === res[i]!.medianMs ? 'best' : ''));
}

function failures(r: BenchReport): string {
  if (!r.failures.length) return '<p>None.</p>';
  return table(['op', 'size', 'backend', 'error'], r.failures.map((f) => [tdText(f.id), td(count(f.size)), tdText(f.backend), tdText(f.error)]), [0, 2, 3]);
}
