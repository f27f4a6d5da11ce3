// Charts as server-rendered SVG: d3-scale and d3-shape compute positions and paths without a
// DOM; the markup is written here with every text escaped. Each chart is an image with a title
// and a description (role="img", aria-labelledby), its numbers also in a table beside it, and
// colours from the stylesheet (CSP allows no inline style).
import { scaleBand, scaleLinear, scaleUtc } from 'd3-scale';
import { line } from 'd3-shape';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
let counter = 0;
const uid = (): string => `chart${++counter}`;

export interface Series {
  readonly label: string;
  /** A class in console.css: series-issued, series-refused. */
  readonly className: string;
  readonly points: readonly { at: number; value: number }[];
}

type Point = { at: number; value: number };

/**
 * Counts per `step` where an absent step means zero (the rollup stores no empty minute): a zero
 * is put on each side of every run of present steps, so the line drops to 0 across a quiet gap
 * instead of joining its two ends, and a lone minute is a spike rather than an invisible point.
 */
export function withZeros(points: readonly Point[], step: number, from: number, to: number): Point[] {
  const sorted = [...points].sort((a, b) => a.at - b.at);
  const out: Point[] = [];
  const push = (q: Point): void => {
    if (out.at(-1)?.at !== q.at) out.push(q); // a one-step gap: the zero after one run is the zero before the next
  };
  sorted.forEach((p, i) => {
    const prev = sorted[i - 1];
    const next = sorted[i + 1];
    if (p.at - step >= from && (!prev || prev.at < p.at - step)) push({ at: p.at - step, value: 0 });
    push(p);
    if (p.at + step <= to && (!next || next.at > p.at + step)) push({ at: p.at + step, value: 0 });
  });
  return out;
}

/** Lines over time (from..to), with a y axis from 0 and hour ticks; `step`: each point's bucket (withZeros). */
export function timeChart(title: string, description: string, from: number, to: number, step: number, series: readonly Series[]): string {
  const width = 720;
  const height = 220;
  const m = { top: 12, right: 12, bottom: 28, left: 44 };
  const max = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.value)));
  const x = scaleUtc().domain([new Date(from), new Date(to)]).range([m.left, width - m.right]);
  const y = scaleLinear().domain([0, max]).nice().range([height - m.bottom, m.top]);
  const path = line<Point>()
    .x((p) => x(new Date(p.at)))
    .y((p) => y(p.value));
  const id = uid();
  const yTicks = y.ticks(4).map((t) => `<g class="tick"><line x1="${m.left}" x2="${width - m.right}" y1="${y(t)}" y2="${y(t)}"/><text x="${m.left - 6}" y="${y(t) + 4}" text-anchor="end">${t}</text></g>`);
  const xTicks = x.ticks(6).map((t) => `<text class="tick" x="${x(t)}" y="${height - 8}" text-anchor="middle">${String(t.getUTCHours()).padStart(2, '0')}:00</text>`);
  const lines = series.map((s) => `<path class="${esc(s.className)}" d="${path(withZeros(s.points, step, from, to)) ?? ''}"><title>${esc(s.label)}</title></path>`);
  const legend = series.map((s, i) => `<g transform="translate(${m.left + 8 + i * 120},${m.top + 4})"><rect class="${esc(s.className)} swatch" width="10" height="10"/><text x="14" y="9">${esc(s.label)}</text></g>`);
  return `<svg class="chart-svg" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="${id}-t ${id}-d" preserveAspectRatio="xMidYMid meet"><title id="${id}-t">${esc(title)}</title><desc id="${id}-d">${esc(description)}</desc>${yTicks.join('')}${xTicks.join('')}${lines.join('')}${legend.join('')}</svg>`;
}

/** Horizontal stacked bars (issued, refused) per key. */
export function barChart(title: string, description: string, rows: readonly { label: string; issued: number; refused: number }[]): string {
  const width = 720;
  const band = 26;
  const m = { top: 8, right: 60, bottom: 8, left: 220 };
  const height = m.top + m.bottom + Math.max(1, rows.length) * band;
  const max = Math.max(1, ...rows.map((r) => r.issued + r.refused));
  const x = scaleLinear().domain([0, max]).range([0, width - m.left - m.right]);
  const y = scaleBand<number>().domain(rows.map((_, i) => i)).range([m.top, height - m.bottom]).padding(0.2);
  const id = uid();
  const bars = rows.map((r, i) => {
    const top = y(i) ?? 0;
    const h = y.bandwidth();
    const label = r.label.length > 32 ? `${r.label.slice(0, 31)}…` : r.label;
    return `<g><text x="${m.left - 8}" y="${top + h / 2 + 4}" text-anchor="end">${esc(label)}</text><rect class="series-issued" x="${m.left}" y="${top}" width="${x(r.issued)}" height="${h}"><title>${esc(`${r.label}: ${r.issued} issued`)}</title></rect><rect class="series-refused" x="${m.left + x(r.issued)}" y="${top}" width="${x(r.refused)}" height="${h}"><title>${esc(`${r.label}: ${r.refused} refused`)}</title></rect><text x="${m.left + x(r.issued + r.refused) + 6}" y="${top + h / 2 + 4}">${r.issued + r.refused}</text></g>`;
  });
  return `<svg class="chart-svg" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="${id}-t ${id}-d" preserveAspectRatio="xMidYMid meet"><title id="${id}-t">${esc(title)}</title><desc id="${id}-d">${esc(description)}</desc>${bars.join('')}</svg>`;
}
