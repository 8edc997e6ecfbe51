/**
 * The report's charts as inline SVG strings, no library: a log-log line chart (throughput vs size) and a
 * horizontal bar chart on a log axis (speed-ups, bars growing left or right from 1×). Text is measured
 * by estimate (0.6 em a character, wide enough for DejaVu Sans) to place legends and labels.
 */
import { short } from './figures.js';

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface Line {
  name: string;
  colour: string;
  points: Array<[number, number]>;
  /** Dashed, without markers: the roofline. */
  dashed?: boolean;
  /** Hollow markers: peers. */
  hollow?: boolean;
}

const font = 12;
const textWidth = (s: string, size = font) => s.length * size * 0.6;
const r1 = (v: number) => Math.round(v * 10) / 10;

/** A log axis from the decade at or below `min` to the decade at or above `max`, with its ticks. */
function logAxis(values: number[]): { lo: number; hi: number; ticks: number[] } {
  const ok = values.filter((v) => v > 0 && Number.isFinite(v));
  const lo = 10 ** Math.floor(Math.log10(ok.length ? Math.min(...ok) : 1));
  let hi = 10 ** Math.ceil(Math.log10(ok.length ? Math.max(...ok) : 10));
  if (hi <= lo) hi = lo * 10;
  const decades = Math.round(Math.log10(hi / lo));
  const step = Math.ceil(decades / 6);
  const ticks: number[] = [];
  for (let d = 0; d <= decades; d += step) ticks.push(lo * 10 ** d);
  if (decades <= 2) for (let d = 0; d < decades; d++) ticks.push(2 * lo * 10 ** d, 5 * lo * 10 ** d);
  return { lo, hi, ticks: ticks.sort((a, b) => a - b) };
}

const scale = (lo: number, hi: number, a: number, b: number) => (v: number) => r1(a + ((Math.log10(v) - Math.log10(lo)) / Math.log10(hi / lo)) * (b - a));

/** A log-log chart, one path per line, a legend on the right. */
export function lineChart(o: { op: string; title: string; xLabel: string; yLabel: string; lines: Line[] }): string {
  const legendW = Math.max(120, ...o.lines.map((l) => 30 + textWidth(l.name)));
  const left = 64, top = 30, plotW = 440, plotH = 260;
  const width = left + plotW + 20 + legendW, height = top + plotH + 50;
  const pts = o.lines.flatMap((l) => l.points);
  const xs = logAxis(pts.map((p) => p[0])), ys = logAxis(pts.map((p) => p[1]));
  const x = scale(xs.lo, xs.hi, left, left + plotW), y = scale(ys.lo, ys.hi, top + plotH, top);
  const parts = [
    `<svg class="chart" data-op="${esc(o.op)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(o.title)}">`,
    `<title>${esc(o.title)}</title>`,
    `<text class="title" x="${left}" y="18">${esc(o.title)}</text>`,
    `<rect class="frame" x="${left}" y="${top}" width="${plotW}" height="${plotH}"/>`,
  ];
  for (const t of xs.ticks) {
    parts.push(`<line class="grid" x1="${x(t)}" x2="${x(t)}" y1="${top}" y2="${top + plotH}"/>`);
    parts.push(`<text class="tick" x="${x(t)}" y="${top + plotH + 18}" text-anchor="middle">${esc(short(t))}</text>`);
  }
  for (const t of ys.ticks) {
    parts.push(`<line class="grid" x1="${left}" x2="${left + plotW}" y1="${y(t)}" y2="${y(t)}"/>`);
    parts.push(`<text class="tick" x="${left - 8}" y="${y(t) + 4}" text-anchor="end">${esc(short(t))}</text>`);
  }
  parts.push(`<text class="axis" x="${left + plotW / 2}" y="${height - 8}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  parts.push(`<text class="axis" transform="translate(16 ${top + plotH / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`);
  for (const l of o.lines) {
    if (!l.points.length) continue;
    const d = l.points.map(([px, py], i) => `${i ? 'L' : 'M'}${x(px)} ${y(py)}`).join(' ');
    const cls = l.dashed ? 'series roofline' : 'series';
    parts.push(`<path class="${cls}" data-series="${esc(l.name)}" d="${d}" stroke="${l.colour}"${l.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    if (!l.dashed) for (const [px, py] of l.points) parts.push(marker(x(px), y(py), l));
  }
  const lx = left + plotW + 20;
  o.lines.forEach((l, i) => {
    const ly = top + 8 + i * 20;
    parts.push(`<g class="legend-item" data-series="${esc(l.name)}">`
      + `<line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${l.colour}" stroke-width="2"${l.dashed ? ' stroke-dasharray="6 4"' : ''}/>`
      + (l.dashed ? '' : marker(lx + 11, ly, l))
      + `<text x="${lx + 28}" y="${ly + 4}">${esc(l.name)}</text></g>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function marker(cx: number, cy: number, l: Line): string {
  return `<circle cx="${cx}" cy="${cy}" r="3.5" stroke="${l.colour}" fill="${l.hollow ? '#fff' : l.colour}"/>`;
}

export interface BarRow { label: string; bars: Array<{ name: string; colour: string; value: number }> }

/** Horizontal bars per row on a log axis, each growing from 1× to its value; a legend on top, in `order`. */
export function barChart(o: { summary: string; title: string; xLabel: string; rows: BarRow[]; order: string[] }): string {
  const used = new Map(o.rows.flatMap((r) => r.bars.map((b) => [b.name, b.colour] as const)));
  const names = [...used].sort((a, b) => o.order.indexOf(a[0]) - o.order.indexOf(b[0]));
  const left = Math.max(100, 16 + Math.max(...o.rows.map((r) => textWidth(r.label)))), plotW = 560;
  const width = left + plotW + 60;
  // The legend: items left to right, wrapping to a new line when the next would not fit.
  const legend: string[] = [];
  let lx = left, ly = 40;
  for (const [name, colour] of names) {
    const w = 26 + textWidth(name) + 16;
    if (lx + w > width && lx > left) { lx = left; ly += 18; }
    legend.push(`<g class="legend-item" data-series="${esc(name)}"><rect x="${lx}" y="${ly - 9}" width="16" height="10" fill="${colour}"/>`
      + `<text x="${lx + 22}" y="${ly}">${esc(name)}</text></g>`);
    lx += w;
  }
  const top = ly + 16, bar = 12;
  const rowH = (r: BarRow) => Math.max(1, r.bars.length) * (bar + 2) + 10;
  const plotH = o.rows.reduce((s, r) => s + rowH(r), 0);
  const height = top + plotH + 44;
  const ax = logAxis([1, ...o.rows.flatMap((r) => r.bars.map((b) => b.value))]);
  const x = scale(ax.lo, ax.hi, left, left + plotW);
  const parts = [
    `<svg class="chart" data-summary="${esc(o.summary)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(o.title)}">`,
    `<title>${esc(o.title)}</title>`,
    `<text class="title" x="${left}" y="18">${esc(o.title)}</text>`,
    ...legend,
    `<rect class="frame" x="${left}" y="${top}" width="${plotW}" height="${plotH}"/>`,
  ];
  for (const t of ax.ticks) {
    parts.push(`<line class="grid" x1="${x(t)}" x2="${x(t)}" y1="${top}" y2="${top + plotH}"/>`);
    parts.push(`<text class="tick" x="${x(t)}" y="${top + plotH + 18}" text-anchor="middle">${esc(short(t))}×</text>`);
  }
  let y0 = top;
  for (const r of o.rows) {
    const h = rowH(r);
    parts.push(`<text class="row" x="${left - 8}" y="${r1(y0 + h / 2 + 4)}" text-anchor="end">${esc(r.label)}</text>`);
    r.bars.forEach((b, i) => {
      const by = y0 + 5 + i * (bar + 2), a = x(Math.min(1, b.value)), e = x(Math.max(1, b.value));
      parts.push(`<rect class="bar" data-series="${esc(b.name)}" x="${a}" y="${by}" width="${r1(Math.max(1, e - a))}" height="${bar}" fill="${b.colour}"/>`);
      parts.push(`<text class="value" x="${r1(e + 4)}" y="${by + 10}">${esc(short(b.value))}×</text>`);
    });
    y0 += h;
  }
  parts.push(`<line class="one" x1="${x(1)}" x2="${x(1)}" y1="${top}" y2="${top + plotH}"/>`);
  parts.push(`<text class="axis" x="${left + plotW / 2}" y="${height - 8}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}
