/**
 * The bench report: the HTML page and markdown summary of `sampleReport()` have their structure (a chart
 * per op with a legend entry per backend and the roofline, summaries, escaped text, nothing fetched), and
 * the page renders in headless Chromium: a probe script checks every chart has painted paths or bars and
 * no overlapping or clipped text, and a screenshot shows each backend's colour.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { renderHtml } from '../lib/bench/report/html.js';
import { renderMarkdown } from '../lib/bench/report/markdown.js';
import { sampleReport } from '../lib/bench/report/sample.js';
import { colours, rooflineAt } from '../lib/bench/report/figures.js';
import type { BenchReport } from '../lib/bench/types.js';
import { isCI } from './helpers.js';

const report = sampleReport();
const html = renderHtml(report);
const dir = mkdtempSync(join(tmpdir(), 'rewardkit-report-'));

/** The `<svg class="chart" …>…</svg>` elements of a page, by data-op or data-summary. */
function charts(page: string): Array<{ key: string; svg: string }> {
  return [...page.matchAll(/<svg class="chart" data-(?:op|summary)="([^"]*)"[\s\S]*?<\/svg>/g)].map((m) => ({ key: m[1]!, svg: m[0] }));
}
const opCharts = charts(html).filter((c) => c.svg.includes('data-op='));

test('one chart per op, each with a legend entry and a line per backend and peer', () => {
  assert.equal(opCharts.map((c) => c.key), report.ops.map((o) => o.id));
  for (const o of report.ops) {
    const svg = opCharts.find((c) => c.key === o.id)!.svg;
    const names = [...new Set(report.results.filter((r) => r.id === o.id).map((r) => r.backend))];
    for (const name of names) {
      assert.ok(svg.includes(`<g class="legend-item" data-series="${name}">`), `${o.id}: no legend entry for ${name}`);
      assert.match(svg, new RegExp(`<path class="series" data-series="${name}" d="M[\\d.]+ [\\d.]+( L[\\d.]+ [\\d.]+)+"`), `${o.id}: no line for ${name}`);
    }
    assert.match(svg, /<text class="tick"/, `${o.id}: no tick labels`);
    const roof = (svg.match(/class="series roofline"/g) ?? []).length;
    if (o.bound === 'memory') assert.ok(roof >= 1, `${o.id}: no roofline`);
    else assert.is(roof, 0, `${o.id}: a roofline on a ${o.bound}-bound op`);
  }
  // outcomeAdvantages/grpo runs on webgpu too: both the host and the device roofline.
  assert.is((opCharts[0]!.svg.match(/class="series roofline"/g) ?? []).length, 2);
});

test('the same colour for a backend in every chart, a different one per backend', () => {
  const seen = new Map<string, Set<string>>();
  for (const { svg } of charts(html)) {
    for (const m of svg.matchAll(/data-series="([^"]+)"><(?:line|rect)[^>]*(?:stroke|fill)="(#[0-9a-f]{6})"/g)) {
      if (!seen.has(m[1]!)) seen.set(m[1]!, new Set());
      seen.get(m[1]!)!.add(m[2]!);
    }
  }
  for (const name of ['js', 'native', 'webgpu', 'numpy']) assert.is(seen.get(name)?.size, 1, `${name}: ${[...(seen.get(name) ?? [])]}`);
  const backends = ['js', 'native', 'webgpu', 'numpy'].map((n) => [...seen.get(n)!][0]);
  assert.is(new Set(backends).size, 4);
});

test('speed-up summaries over js and over each installed peer; a missing peer shown plainly', () => {
  const summaries = charts(html).filter((c) => c.svg.includes('data-summary=')).map((c) => c.key);
  assert.equal(summaries, ['js', 'peer:numpy']);
  const js = charts(html).find((c) => c.key === 'js')!.svg;
  // Four ops ran on more than js; ruleRewards/math (js only) has no bar.
  assert.is((js.match(/<text class="row"/g) ?? []).length, 4);
  assert.not.match(js, /ruleRewards/);
  assert.match(html, /torch-cpu<\/td><td class="text missing">not installed<\/td>/);
  assert.match(html, /<th>× numpy<\/th>/);
});

test('nothing is fetched: no URL, no external script, style, font or image', () => {
  assert.not.match(html, /https?:\/\//);
  assert.not.match(html, /<(script|link|img|iframe|object|embed)\b/i);
  assert.not.match(html, /\bsrc\s*=|@import|url\(/i);
});

test('all text is escaped', () => {
  const error = report.failures[0]!.error;
  assert.ok(error.includes('<512 MiB>') && !html.includes(error));
  assert.ok(html.includes('pool &#60;512 MiB&#62; &#38; &#34;poolBytes&#34;'));
  const evil = '"><script>alert(1)</script><img src=x>|';
  const hostile: BenchReport = {
    ...report,
    date: evil, command: evil,
    machine: { ...report.machine, cpu: evil },
    peers: [...report.peers, { name: evil, status: 'not installed', reason: evil }],
    ops: report.ops.map((o, i) => (i ? o : { ...o, id: evil, unit: evil })),
    results: report.results.map((r) => (r.id === report.ops[0]!.id ? { ...r, id: evil, unit: evil, label: evil } : r)),
    failures: [{ id: evil, size: 1, backend: evil, error: evil }],
  };
  const page = renderHtml(hostile);
  assert.not.match(page, /<script|<img/i);
  assert.is(charts(page).filter((c) => c.svg.includes('data-op=')).length, report.ops.length);
  const md = renderMarkdown(hostile);
  assert.ok(md.includes('`"><script>'), 'the command, in a code span, is literal'); // code spans are never HTML
  assert.not.match(md.replace(/`[^`\n]*`/g, ''), /<script|<img/i);
  const failureRow = md.split('\n').filter((l) => l.startsWith('| "&gt;')).at(-1)!;
  assert.is(failureRow.split(/(?<!\\)\|/).length - 2, 4, failureRow);
});

test('a run that measured nothing still renders, saying so', () => {
  const empty: BenchReport = { ...report, native: null, adapter: null, rooflines: [], peers: [], results: [], failures: [] };
  const page = renderHtml(empty);
  assert.is(charts(page).length, 0);
  assert.is((page.match(/No result: every case failed/g) ?? []).length, report.ops.length);
  assert.match(page, /No roofline was measured/);
  assert.match(page, /<dt>adapter<\/dt><dd>none<\/dd>/);
  assert.match(renderMarkdown(empty), /\| gae \| — \| no result \|/);
});

test('markdown: machine, rooflines, one row per op at its largest size, peers, failures', () => {
  const md = renderMarkdown(report);
  assert.match(md, /\*\*Machine:\*\* AMD EPYC 7B13, 2 cores/);
  assert.match(md, /\| 64 KiB \| 12 \| 0\.4 \|/);
  const section = md.slice(md.indexOf('## Ops'), md.indexOf('## Peers')).split('\n');
  const rows = section.filter((l) => report.ops.some((o) => l.startsWith(`| ${o.id} |`)));
  assert.is(rows.length, report.ops.length);
  assert.match(rows[0]!, /^\| outcomeAdvantages\/grpo \| 16,777,216 tokens \| native \| [\d.]+ \| [\d.]+ GB\/s \| [\d.]+% \| [\d.]+× \| [\d.]+× \(numpy\) \|$/);
  assert.match(rows[2]!, /GFLOP\/s/);
  assert.match(rows[4]!, /answers\/s \| — \| 1× \| — \|$/);
  assert.match(md, /- torch-cpu: \*\*not installed\*\*/);
  assert.match(md, /\| outcomeAdvantages\/grpo \| 16,777,216 \| webgpu \| RewardkitError/);
});

test('the roofline is interpolated over bytes, log-log, and held flat past its ends', () => {
  const roof = report.rooflines[0]!;
  const [a, b] = roof.points;
  assert.is(rooflineAt(roof, a!.bytes), a!.gbps);
  assert.is(rooflineAt(roof, 1), a!.gbps);
  assert.is(rooflineAt(roof, 2 ** 40), roof.points.at(-1)!.gbps);
  const mid = rooflineAt(roof, Math.sqrt(a!.bytes * b!.bytes))!;
  assert.ok(Math.abs(mid - Math.sqrt(a!.gbps * b!.gbps)) < 1e-9, `${mid}`);
});

// ---- headless Chromium ----

const chromium = spawnSync('chromium', ['--version'], { encoding: 'utf8' });
const browser = (args: string[], url: string) => {
  const r = spawnSync('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', `--user-data-dir=${join(dir, 'profile')}`, ...args, url],
    { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 << 20 });
  assert.is(r.status, 0, `chromium exited with ${r.status ?? r.signal}: ${r.stderr.slice(-2000)}`);
  return r.stdout;
};

/** Runs in the page: each chart's size, painted paths and bars, and any overlapping or clipped text. */
const probe = `<script>
const box = (e) => e.getBoundingClientRect();
const hit = (a, b) => a.left + 1 < b.right && b.left + 1 < a.right && a.top + 2 < b.bottom && b.top + 2 < a.bottom;
const out = [...document.querySelectorAll('svg.chart')].map((svg) => {
  const s = box(svg), texts = [...svg.querySelectorAll('text')].map((t) => [t.textContent, box(t)]);
  const overlaps = [], clipped = [];
  texts.forEach(([t, r], i) => {
    if (r.left < s.left - 1 || r.right > s.right + 1 || r.top < s.top - 1 || r.bottom > s.bottom + 1) clipped.push(t);
    for (const [u, q] of texts.slice(i + 1)) if (hit(r, q)) overlaps.push(t + ' / ' + u);
  });
  return {
    key: svg.dataset.op ?? 'summary:' + svg.dataset.summary, width: s.width, height: s.height, overlaps, clipped,
    paths: [...svg.querySelectorAll('path.series')].filter((p) => p.getTotalLength() > 0).length,
    bars: [...svg.querySelectorAll('rect.bar')].filter((r) => box(r).width > 0).length,
    legend: [...svg.querySelectorAll('.legend-item')].map((g) => g.dataset.series),
  };
});
const s = document.createElement('script');
s.type = 'application/json'; s.id = 'probe';
s.textContent = JSON.stringify({ charts: out, overflow: document.documentElement.scrollWidth - innerWidth });
document.body.append(s);
</script>`;

if (chromium.status === 0) {
  // One launch (a few seconds on a loaded 2-core VM) dumps the probed DOM and takes the screenshot.
  let rendered: { dom: string; png: Buffer } | undefined;
  const render = () => {
    if (rendered) return rendered;
    const page = join(dir, 'report.html'), shot = join(dir, 'report.png');
    writeFileSync(page, html.replace('</body>', `${probe}</body>`));
    const dom = browser(['--window-size=1280,1800', `--screenshot=${shot}`, '--dump-dom'], `file://${page}`);
    return (rendered = { dom, png: readFileSync(shot) });
  };

  test(`Chromium lays out every chart with its lines and bars, no text overlapping or clipped (${chromium.stdout.trim()})`, () => {
    const { dom } = render();
    const json = /<script type="application\/json" id="probe">([\s\S]*?)<\/script>/.exec(dom);
    assert.ok(json, `no probe output in the DOM:\n${dom.slice(0, 500)}`);
    const { charts: laid, overflow } = JSON.parse(json![1]!) as {
      overflow: number;
      charts: Array<{ key: string; width: number; height: number; overlaps: string[]; clipped: string[]; paths: number; bars: number; legend: string[] }>;
    };
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than the window`);
    assert.equal(laid.filter((c) => !c.key.startsWith('summary:')).map((c) => c.key), report.ops.map((o) => o.id));
    for (const c of laid) {
      assert.ok(c.width > 400 && c.height > 200, `${c.key}: ${c.width} × ${c.height}`);
      assert.equal(c.overlaps, [], `${c.key}: overlapping text`);
      assert.equal(c.clipped, [], `${c.key}: text outside the chart`);
      if (c.key.startsWith('summary:')) assert.ok(c.bars >= 8, `${c.key}: ${c.bars} bars`);
      else assert.is(c.paths, c.legend.length, `${c.key}: ${c.paths} painted lines for ${c.legend.length} legend entries`);
    }
  });

  test('the screenshot shows the charts in every backend colour', () => {
    const png = decodePng(render().png);
    assert.equal([png.width, png.height], [1280, 1800]);
    const count = new Map<string, number>();
    let ink = 0;
    for (let i = 0; i < png.pixels.length; i += png.channels) {
      const hex = '#' + [0, 1, 2].map((k) => png.pixels[i + k]!.toString(16).padStart(2, '0')).join('');
      count.set(hex, (count.get(hex) ?? 0) + 1);
      if (hex !== '#ffffff') ink++;
    }
    const share = ink / (png.width * png.height);
    assert.ok(share > 0.03 && share < 0.6, `${(share * 100).toFixed(1)}% of the pixels are not white`);
    for (const [name, colour] of colours(report)) {
      if (name === 'torch-cpu') continue; // not installed: a swatch in the peers table only
      assert.ok((count.get(colour) ?? 0) > 200, `${name} (${colour}): ${count.get(colour) ?? 0} pixels`);
    }
  });
} else if (isCI) {
  test('Chromium is installed in CI', () => assert.unreachable(`chromium --version failed: ${chromium.error?.message ?? chromium.stderr}`));
} else {
  console.error('\n!!! SKIPPING the Chromium rendering tests: no chromium (apt-get install chromium)\n');
  test.skip('the report in headless Chromium (no chromium)', () => {});
}

/** An 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes): its pixels after undoing the row filters. */
function decodePng(buf: Buffer): { width: number; height: number; channels: number; pixels: Uint8Array } {
  assert.equal([...buf.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], 'not a PNG');
  let width = 0, height = 0, channels = 0;
  const idat: Buffer[] = [];
  for (let at = 8; at < buf.length;) {
    const len = buf.readUInt32BE(at), type = buf.toString('ascii', at + 4, at + 8), data = buf.subarray(at + 8, at + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0); height = data.readUInt32BE(4);
      assert.is(data[8], 8, 'bit depth');
      channels = data[9] === 6 ? 4 : data[9] === 2 ? 3 : 0;
      assert.ok(channels && data[12] === 0, `colour type ${data[9]}, interlace ${data[12]}`);
    }
    if (type === 'IDAT') idat.push(data);
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat)), stride = width * channels, px = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!, row = y * (stride + 1) + 1;
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? px[y * stride + i - channels]! : 0, b = y ? px[(y - 1) * stride + i]! : 0;
      const c = y && i >= channels ? px[(y - 1) * stride + i - channels]! : 0;
      const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const paeth = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      const predicted = [0, a, b, (a + b) >> 1, paeth][filter]!;
      px[y * stride + i] = (raw[row + i]! + predicted) & 255;
    }
  }
  return { width, height, channels, pixels: px };
}

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
