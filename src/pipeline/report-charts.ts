import { componentsFor } from "./reduce.ts";

/**
 * The report's two charts as inline SVG (no script needed to see them, nothing fetched): the
 * cumulative explained-variance curve and the 2-D projection. Pure string building, so the shapes
 * can be checked without a browser.
 */

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** A distinct colour per label index (golden-angle hues), stable for a given label order. */
export function labelColour(index: number): string {
  const hue = Math.round((index * 137.508) % 360);
  const light = [42, 55, 34][index % 3];
  return `hsl(${hue}, 70%, ${light}%)`;
}

/** Shares the variance chart marks. */
const THRESHOLDS = [0.9, 0.95, 0.99] as const;

/** Running sums of the explained-variance shares. */
export function cumulative(explained: readonly number[]): number[] {
  let total = 0;
  return explained.map((v) => {
    total += v;
    return total;
  });
}

/** For each threshold, the components needed to reach it, or undefined if the known ones do not. */
export function thresholdComponents(explained: readonly number[]): { share: number; components?: number }[] {
  const total = explained.reduce((a, b) => a + b, 0);
  return THRESHOLDS.map((share) =>
    total >= share - 1e-12 ? { share, components: componentsFor(explained, share) } : { share },
  );
}

/**
 * How many of the known components the curve shows: all of them up to 60; beyond that, enough to
 * pass the kept k and the 99% mark with room (1.5x the larger), so a long flat tail (e.g. 1280
 * components fitted on a few hundred images) does not squeeze the interesting part.
 */
export function shownComponents(explained: readonly number[], kept: number): number {
  const n = explained.length;
  if (n <= 60) return n;
  const c99 = thresholdComponents(explained).at(-1)?.components ?? n;
  return Math.min(n, Math.max(60, Math.ceil(1.5 * Math.max(kept, c99))));
}

const fmt = (v: number) => (Math.round(v * 10) / 10).toString();

/** "Nice" tick values from 0 to max (at most ~8 ticks). */
export function ticks(max: number): number[] {
  if (max <= 0) return [0];
  const raw = max / 6;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = 0; v <= max + 1e-9; v += step) out.push(Math.round(v / step) * step);
  return out;
}

/**
 * The cumulative explained-variance curve: one point per known component, a dashed line per
 * threshold (90/95/99%) with the component count that reaches it, and a marker at `kept` (the
 * components in the output).
 */
export function varianceSvg(known: readonly number[], kept: number): string {
  const explained = known.slice(0, shownComponents(known, kept));
  const W = 680;
  const H = 340;
  const m = { l: 56, r: 20, t: 16, b: 44 };
  const iw = W - m.l - m.r;
  const ih = H - m.t - m.b;
  const n = explained.length;
  const cum = cumulative(explained);
  const x = (i: number) => m.l + (n <= 1 ? iw / 2 : ((i - 1) / (n - 1)) * iw);
  const y = (v: number) => m.t + ih - Math.min(1, Math.max(0, v)) * ih;
  const parts: string[] = [];
  parts.push(
    `<svg id="variance-chart" class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="cumulative explained variance" data-components="${n}" data-known="${known.length}">`,
  );
  for (const t of [0, 0.2, 0.4, 0.6, 0.8, 1]) {
    parts.push(
      `<line class="grid" x1="${m.l}" x2="${W - m.r}" y1="${fmt(y(t))}" y2="${fmt(y(t))}"/>`,
      `<text class="axis" x="${m.l - 8}" y="${fmt(y(t) + 4)}" text-anchor="end">${Math.round(t * 100)}%</text>`,
    );
  }
  for (const t of ticks(n).filter((v) => v >= 1 || n === 1)) {
    const tx = t === 0 ? 1 : t;
    parts.push(`<text class="axis" x="${fmt(x(tx))}" y="${H - m.b + 18}" text-anchor="middle">${tx}</text>`);
  }
  parts.push(
    `<text class="axis-title" x="${m.l + iw / 2}" y="${H - 6}" text-anchor="middle">principal components</text>`,
    `<text class="axis-title" transform="translate(14 ${m.t + ih / 2}) rotate(-90)" text-anchor="middle">cumulative explained variance</text>`,
  );
  for (const { share, components } of thresholdComponents(known)) {
    const label = components === undefined ? "not reached" : `${components} components`;
    parts.push(
      `<g class="threshold" data-share="${share}" data-components="${components ?? ""}">`,
      `<line x1="${m.l}" x2="${W - m.r}" y1="${fmt(y(share))}" y2="${fmt(y(share))}"/>`,
      components === undefined
        ? ""
        : `<line class="threshold-x" x1="${fmt(x(components))}" x2="${fmt(x(components))}" y1="${fmt(y(share))}" y2="${m.t + ih}"/>`,
      `<text x="${W - m.r - 4}" y="${fmt(y(share) + (share > 0.98 ? -3 : 11))}" text-anchor="end">${Math.round(share * 100)}%: ${label}</text>`,
      "</g>",
    );
  }
  if (kept >= 1 && kept <= n && kept < n) {
    parts.push(
      `<g class="kept" data-k="${kept}"><line x1="${fmt(x(kept))}" x2="${fmt(x(kept))}" y1="${m.t}" y2="${m.t + ih}"/>`,
      `<text x="${fmt(x(kept) + 4)}" y="${m.t + ih - 6}">k=${kept} kept</text></g>`,
    );
  }
  const d = cum.map((v, i) => `${i === 0 ? "M" : "L"}${fmt(x(i + 1))},${fmt(y(v))}`).join("");
  parts.push(`<path class="curve" d="${d}"/>`);
  parts.push('<g class="variance-points">');
  cum.forEach((v, i) => {
    parts.push(
      `<circle class="var-pt" cx="${fmt(x(i + 1))}" cy="${fmt(y(v))}" r="${n > 300 ? 1.2 : 2.2}"><title>${i + 1} components: ${(v * 100).toFixed(2)}%</title></circle>`,
    );
  });
  parts.push("</g></svg>");
  return parts.join("");
}

/** One point of the 2-D projection. */
export interface ProjectedPoint {
  readonly path: string;
  readonly label: string;
  readonly x: number;
  readonly y: number;
  /** The KMeans cluster of the image, when the report clustered the projection. */
  readonly cluster?: number;
}

/** The labels in a stable order (by name) with their point counts. */
export function seriesOf(points: readonly ProjectedPoint[]): { label: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const p of points) counts.set(p.label, (counts.get(p.label) ?? 0) + 1);
  return [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([label, count]) => ({ label, count }));
}

/**
 * The scatter of the first two components, one `<g class="series">` per label, one circle per
 * image, the path and label in each circle's tooltip (`<title>`, and `data-path` for the page's
 * hover box).
 */
export function projectionSvg(points: readonly ProjectedPoint[]): string {
  const W = 680;
  const H = 520;
  const m = { l: 56, r: 20, t: 16, b: 44 };
  const iw = W - m.l - m.r;
  const ih = H - m.t - m.b;
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const span = (v: number[]) => {
    const lo = v.length ? Math.min(...v) : -1;
    const hi = v.length ? Math.max(...v) : 1;
    const pad = (hi - lo || 1) * 0.05;
    return [lo - pad, hi + pad] as const;
  };
  const [x0, x1] = span(xs);
  const [y0, y1] = span(ys);
  const px = (v: number) => m.l + ((v - x0) / (x1 - x0)) * iw;
  const py = (v: number) => m.t + ih - ((v - y0) / (y1 - y0)) * ih;
  const series = seriesOf(points);
  const colourOf = new Map(series.map((s, i) => [s.label, labelColour(i)]));
  const out: string[] = [
    `<svg id="projection-chart" class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="2-D projection" data-points="${points.length}" data-series="${series.length}">`,
    `<rect class="frame" x="${m.l}" y="${m.t}" width="${iw}" height="${ih}"/>`,
    `<text class="axis-title" x="${m.l + iw / 2}" y="${H - 12}" text-anchor="middle">PC 1</text>`,
    `<text class="axis-title" transform="translate(18 ${m.t + ih / 2}) rotate(-90)" text-anchor="middle">PC 2</text>`,
  ];
  const byLabel = new Map<string, ProjectedPoint[]>();
  for (const p of points) byLabel.set(p.label, [...(byLabel.get(p.label) ?? []), p]);
  for (const { label } of series) {
    const colour = colourOf.get(label) as string;
    out.push(`<g class="series" data-label="${escapeHtml(label)}" fill="${colour}">`);
    for (const p of byLabel.get(label) ?? []) {
      const path = escapeHtml(p.path);
      out.push(
        `<circle class="pt" cx="${fmt(px(p.x))}" cy="${fmt(py(p.y))}" r="3.2" data-path="${path}"${p.cluster === undefined ? "" : ` data-cluster="${p.cluster}" data-cc="${labelColour(p.cluster)}"`}><title>${path} (${escapeHtml(label)}${p.cluster === undefined ? "" : `, cluster ${p.cluster}`})</title></circle>`,
      );
    }
    out.push("</g>");
  }
  out.push("</svg>");
  return out.join("");
}

/** The legend for the projection: a swatch, the label and its point count per series. */
export function legendHtml(points: readonly ProjectedPoint[]): string {
  return `<ul class="legend">${seriesOf(points)
    .map(
      (s, i) =>
        `<li data-label="${escapeHtml(s.label)}"><span class="swatch" style="background:${labelColour(i)}"></span>${escapeHtml(s.label)} <span class="muted">${s.count}</span></li>`,
    )
    .join("")}</ul>`;
}

/** The legend of the clusters: a swatch, the cluster and its point count, by cluster index. */
export function clusterLegendHtml(points: readonly ProjectedPoint[]): string {
  const counts = new Map<number, number>();
  for (const p of points) if (p.cluster !== undefined) counts.set(p.cluster, (counts.get(p.cluster) ?? 0) + 1);
  return `<ul class="cluster-legend" hidden>${[...counts]
    .sort(([a], [b]) => a - b)
    .map(
      ([c, n]) =>
        `<li data-cluster="${c}"><span class="swatch" style="background:${labelColour(c)}"></span>cluster ${c} <span class="muted">${n}</span></li>`,
    )
    .join("")}</ul>`;
}
