import { describe, expect, it } from "vitest";
import {
  cumulative,
  escapeHtml,
  labelColour,
  projectionSvg,
  seriesOf,
  shownComponents,
  thresholdComponents,
  ticks,
  varianceSvg,
} from "../../src/pipeline/report-charts.ts";

const count = (html: string, re: RegExp) => (html.match(re) ?? []).length;

describe("variance helpers", () => {
  it.each([
    { explained: [0.5, 0.3, 0.15, 0.04, 0.01], want: [3, 3, 4] },
    { explained: [0.9, 0.05, 0.04, 0.01], want: [1, 2, 3] },
    { explained: [0.4, 0.3, 0.1], want: [undefined, undefined, undefined] },
    { explained: [0.6, 0.32, 0.02], want: [2, undefined, undefined] },
  ])("thresholds of $explained", ({ explained, want }) => {
    expect(thresholdComponents(explained).map((t) => t.components)).toEqual(want);
    expect(thresholdComponents(explained).map((t) => t.share)).toEqual([0.9, 0.95, 0.99]);
  });
  it("cumulative sums", () => {
    expect(cumulative([0.5, 0.25, 0.125])).toEqual([0.5, 0.75, 0.875]);
    expect(cumulative([])).toEqual([]);
  });
  it.each([
    [10, [0, 2, 4, 6, 8, 10]],
    [125, [0, 50, 100]],
    [1280, [0, 500, 1000]],
    [0, [0]],
  ])("ticks(%s)", (max, want) => {
    expect(ticks(max)).toEqual(want);
  });
  it.each([
    { n: 50, kept: 10, c99: 40, want: 50 },
    { n: 1280, kept: 57, c99: 95, want: 143 },
    { n: 1280, kept: 10, c99: 20, want: 60 },
    { n: 100, kept: 90, c99: 95, want: 100 },
  ])("shownComponents n=$n kept=$kept", ({ n, kept, c99, want }) => {
    // c99 components carry 99% of the variance, the rest share 1%.
    const explained = Array.from({ length: n }, (_, i) => (i < c99 ? 0.99 / c99 : 0.01 / (n - c99)));
    expect(shownComponents(explained, kept)).toBe(want);
  });
});

describe("varianceSvg", () => {
  it.each([
    {
      name: "all reached, k marker",
      explained: [0.6, 0.3, 0.06, 0.03, 0.01],
      kept: 3,
      points: 5,
      marks: ["2", "3", "4"],
      kept_: 1,
    },
    {
      name: "only kept components (--k): thresholds not reached",
      explained: [0.5, 0.2],
      kept: 2,
      points: 2,
      marks: ["", "", ""],
      kept_: 0,
    },
  ])("$name", ({ explained, kept, points, marks, kept_ }) => {
    const svg = varianceSvg(explained, kept);
    expect(count(svg, /class="var-pt"/g)).toBe(points);
    expect(
      [...svg.matchAll(/class="threshold" data-share="[^"]+" data-components="([^"]*)"/g)].map((m) => m[1]),
    ).toEqual(marks);
    expect(count(svg, /class="kept"/g)).toBe(kept_);
    expect(svg).toContain(`data-components="${points}"`);
  });
});

describe("projectionSvg / seriesOf", () => {
  const points = [
    { path: "file:///d/b/1.jpg", label: "banana", x: 1, y: 2 },
    { path: "file:///d/a/1.jpg", label: "apple", x: -1, y: 0.5 },
    { path: "file:///d/a/2 <&>.jpg", label: "apple", x: 0, y: 0 },
  ];
  it("one series per label (sorted), one circle per point, paths escaped in data-path and title", () => {
    const svg = projectionSvg(points);
    expect(seriesOf(points)).toEqual([
      { label: "apple", count: 2 },
      { label: "banana", count: 1 },
    ]);
    expect(count(svg, /<g class="series"/g)).toBe(2);
    expect(count(svg, /<circle class="pt"/g)).toBe(3);
    expect(svg).toContain('data-path="file:///d/a/2 &lt;&amp;&gt;.jpg"');
    expect(svg).not.toContain("2 <&>");
    expect(svg).toContain('data-points="3" data-series="2"');
  });
  it("draws an empty chart without failing", () => {
    const svg = projectionSvg([]);
    expect(count(svg, /<circle/g)).toBe(0);
    expect(svg).toContain('data-points="0" data-series="0"');
  });
  it.each([
    [`a"b'c<d>&`, "a&quot;b&#39;c&lt;d&gt;&amp;"],
    ["plain", "plain"],
  ])("escapeHtml(%s)", (raw, want) => {
    expect(escapeHtml(raw)).toBe(want);
  });
  it("label colours differ for the first 43 labels", () => {
    const colours = new Set(Array.from({ length: 43 }, (_, i) => labelColour(i)));
    expect(colours.size).toBe(43);
  });
});
