/**
 * SVG charts for docs/performance.md from a results file: server CPU per
 * client-frame vs N (handoff and bare ws) and fps per client vs N. Plain
 * SVG, log-scaled N axis, no dependencies.
 *
 *   npx tsx bench/scale/charts.ts bench/results/scale-….json docs/
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { ScaleRow } from './parts';

interface Series {
  name: string;
  color: string;
  points: { x: number; y: number }[];
}

const W = 560;
const H = 300;
const PAD = { l: 60, r: 140, t: 30, b: 40 };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}

export function lineChart(title: string, yLabel: string, series: readonly Series[]): string {
  const xs = series.flatMap((s) => s.points.map((p) => p.x)).filter((x) => x > 0);
  const ys = series.flatMap((s) => s.points.map((p) => p.y)).filter(Number.isFinite);
  const x0 = Math.log10(Math.min(...xs, 1));
  const x1 = Math.log10(Math.max(...xs, 10));
  const yMax = Math.max(...ys, 1) * 1.1;
  const px = (x: number): number => PAD.l + ((Math.log10(x) - x0) / (x1 - x0 || 1)) * (W - PAD.l - PAD.r);
  const py = (y: number): number => H - PAD.b - (y / yMax) * (H - PAD.t - PAD.b);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${PAD.l}" y="18" font-size="13" font-weight="bold">${esc(title)}</text>`);
  // Axes and grid.
  out.push(`<line x1="${PAD.l}" y1="${H - PAD.b}" x2="${W - PAD.r}" y2="${H - PAD.b}" stroke="#333"/>`);
  out.push(`<line x1="${PAD.l}" y1="${PAD.t}" x2="${PAD.l}" y2="${H - PAD.b}" stroke="#333"/>`);
  for (const x of [...new Set(xs)].sort((a, b) => a - b)) {
    out.push(`<line x1="${px(x)}" y1="${H - PAD.b}" x2="${px(x)}" y2="${H - PAD.b + 4}" stroke="#333"/>`);
    out.push(`<text x="${px(x)}" y="${H - PAD.b + 16}" text-anchor="middle">${x}</text>`);
  }
  for (let i = 0; i <= 4; i++) {
    const y = (yMax / 4) * i;
    out.push(`<line x1="${PAD.l}" y1="${py(y)}" x2="${W - PAD.r}" y2="${py(y)}" stroke="#ddd"/>`);
    out.push(`<text x="${PAD.l - 6}" y="${py(y) + 4}" text-anchor="end">${y >= 100 ? y.toFixed(0) : y.toFixed(1)}</text>`);
  }
  out.push(`<text x="${(PAD.l + W - PAD.r) / 2}" y="${H - 6}" text-anchor="middle">clients (N, log scale)</text>`);
  out.push(`<text x="14" y="${(PAD.t + H - PAD.b) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(PAD.t + H - PAD.b) / 2})">${esc(yLabel)}</text>`);
  series.forEach((s, i) => {
    const pts = s.points.filter((p) => p.x > 0 && Number.isFinite(p.y));
    if (pts.length > 0) {
      out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ')}"/>`);
      for (const p of pts) out.push(`<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3" fill="${s.color}"/>`);
    }
    const ly = PAD.t + 10 + i * 18;
    out.push(`<line x1="${W - PAD.r + 12}" y1="${ly}" x2="${W - PAD.r + 32}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`);
    out.push(`<text x="${W - PAD.r + 38}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function main(): void {
  const [file, dir = 'docs/'] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: charts.ts RESULTS.json [OUT_DIR]\n');
    process.exitCode = 2;
    return;
  }
  const res = JSON.parse(readFileSync(file, 'utf8')) as { scale?: ScaleRow[] };
  const rows = res.scale ?? [];
  const cpu = lineChart('Server CPU per presented client-frame', 'µs per client-frame', [
    { name: 'handoff', color: '#c0392b', points: rows.map((r) => ({ x: r.handoff.n, y: r.handoff.usPerFrame })) },
    { name: 'bare ws', color: '#2471a3', points: rows.map((r) => ({ x: r.handoff.n, y: r.bare?.usPerFrame ?? Number.NaN })) },
  ]);
  const fps = lineChart('Frames per second per client', 'fps', [
    { name: 'handoff median', color: '#c0392b', points: rows.map((r) => ({ x: r.handoff.n, y: r.handoff.fpsMedian })) },
    { name: 'handoff min', color: '#e59866', points: rows.map((r) => ({ x: r.handoff.n, y: r.handoff.fpsMin })) },
    { name: 'bare ws (replay)', color: '#2471a3', points: rows.map((r) => ({ x: r.handoff.n, y: r.bare?.fpsPerClient ?? Number.NaN })) },
  ]);
  const out = dir.endsWith('/') ? dir : `${dir}/`;
  writeFileSync(`${out}performance-cpu.svg`, cpu);
  writeFileSync(`${out}performance-fps.svg`, fps);
  process.stdout.write(`wrote ${out}performance-cpu.svg, ${out}performance-fps.svg\n`);
}

main();
