/**
 * A small line chart as SVG text (no dependency): throughput over time of the programs of one
 * benchmark run, for docs/BENCHMARKS.md. Pure.
 * @module
 */

export interface Series {
  name: string;
  /** [x, y] points, x ascending. */
  points: readonly (readonly [number, number])[];
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  width?: number;
  height?: number;
}

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

/**
 * A "nice" axis step (1, 2 or 5 × 10^k) giving about `ticks` ticks up to `max`.
 *
 * @example
 * ```ts
 * import { niceStep } from "./plot.ts";
 * niceStep(1000, 5); // 200
 * ```
 */
export function niceStep(max: number, ticks: number): number {
  if (!(max > 0)) return 1;
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

function esc(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

function tickLabel(x: number): string {
  if (x >= 1_000_000) return `${+(x / 1_000_000).toFixed(1)}M`;
  if (x >= 1_000) return `${+(x / 1_000).toFixed(1)}k`;
  return String(+x.toFixed(2));
}

/**
 * The chart as an SVG document.
 *
 * @example
 * ```ts
 * import { lineChart } from "./plot.ts";
 * const svg = lineChart({ title: "t", xLabel: "s", yLabel: "lines/s", series: [{ name: "a", points: [[0, 1], [1, 2]] }] });
 * svg.startsWith("<svg"); // true
 * ```
 */
export function lineChart(options: ChartOptions): string {
  const width = options.width ?? 800;
  const height = options.height ?? 420;
  const m = { left: 70, right: 20, top: 40, bottom: 50 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const all = options.series.flatMap((s) => s.points);
  const xMax = Math.max(1e-9, ...all.map((p) => p[0]));
  const yMax = Math.max(1e-9, ...all.map((p) => p[1]));
  const xStep = niceStep(xMax, 8);
  const yStep = niceStep(yMax, 6);
  const xTop = Math.ceil(xMax / xStep) * xStep;
  const yTop = Math.ceil(yMax / yStep) * yStep;
  const sx = (x: number) => m.left + (x / xTop) * plotW;
  const sy = (y: number) => m.top + plotH - (y / yTop) * plotH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${
      esc(options.title)
    }</text>`,
  ];
  for (let y = 0; y <= yTop + 1e-9; y += yStep) {
    out.push(
      `<line x1="${m.left}" x2="${m.left + plotW}" y1="${sy(y)}" y2="${sy(y)}" stroke="#ddd"/>`,
      `<text x="${m.left - 6}" y="${sy(y) + 4}" text-anchor="end">${tickLabel(y)}</text>`,
    );
  }
  for (let x = 0; x <= xTop + 1e-9; x += xStep) {
    out.push(
      `<line x1="${sx(x)}" x2="${sx(x)}" y1="${m.top + plotH}" y2="${
        m.top + plotH + 5
      }" stroke="#333"/>`,
      `<text x="${sx(x)}" y="${m.top + plotH + 18}" text-anchor="middle">${tickLabel(x)}</text>`,
    );
  }
  out.push(
    `<rect x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`,
    `<text x="${m.left + plotW / 2}" y="${height - 10}" text-anchor="middle">${
      esc(options.xLabel)
    }</text>`,
    `<text transform="translate(16 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle">${
      esc(options.yLabel)
    }</text>`,
  );
  options.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    if (s.points.length > 0) {
      const d = s.points.map((p, j) =>
        `${j ? "L" : "M"}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`
      )
        .join(" ");
      out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    }
    // Legend at the top right, wide enough for the longest name (about 7 px a character).
    const legendWidth = 30 + 7 * Math.max(...options.series.map((x) => x.name.length));
    const lx = m.left + plotW - legendWidth;
    const ly = m.top + 14 + i * 16;
    out.push(
      `<line x1="${lx}" x2="${lx + 20}" y1="${ly - 4}" y2="${
        ly - 4
      }" stroke="${color}" stroke-width="3"/>`,
      `<text x="${lx + 25}" y="${ly}">${esc(s.name)}</text>`,
    );
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

/**
 * Rates between successive (time s, cumulative count) samples: [mid time, count/s] points.
 *
 * @example
 * ```ts
 * import { ratesOf } from "./plot.ts";
 * ratesOf([[0, 0], [1, 100], [2, 300]]); // [[0.5, 100], [1.5, 200]]
 * ```
 */
export function ratesOf(samples: readonly (readonly [number, number])[]): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 1; i < samples.length; i++) {
    const dt = samples[i][0] - samples[i - 1][0];
    if (dt <= 0) continue;
    out.push([(samples[i][0] + samples[i - 1][0]) / 2, (samples[i][1] - samples[i - 1][1]) / dt]);
  }
  return out;
}

/**
 * Coarser series: cumulative samples thinned to one every `seconds` (first and last kept).
 *
 * @example
 * ```ts
 * import { thin } from "./plot.ts";
 * thin([[0, 0], [0.1, 5], [0.5, 9], [1.0, 20], [1.2, 21]], 0.5); // [[0, 0], [0.5, 9], [1, 20], [1.2, 21]]
 * ```
 */
export function thin(
  samples: readonly (readonly [number, number])[],
  seconds: number,
): [number, number][] {
  const out: [number, number][] = [];
  for (const s of samples) {
    const last = out[out.length - 1];
    if (!last || s[0] - last[0] >= seconds - 1e-9) out.push([s[0], s[1]]);
  }
  const end = samples[samples.length - 1];
  if (end && out[out.length - 1][0] !== end[0]) out.push([end[0], end[1]]);
  return out;
}
