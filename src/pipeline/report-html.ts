import {
  clusterLegendHtml,
  escapeHtml,
  legendHtml,
  projectionSvg,
  seriesOf,
  shownComponents,
  thresholdComponents,
  varianceSvg,
} from "./report-charts.ts";
import type { ReportData } from "./report-data.ts";
import { STEPS } from "./run-summary.ts";

/**
 * `report.html`: one self-contained page (inline CSS, inline SVG, a few lines of inline script for
 * the hover box and the legend filter; nothing fetched), so it opens from disk or an S3 download.
 */
export function renderReportHtml(data: ReportData, { generatedAt }: { generatedAt: Date }): string {
  const s = data.summary;
  const title = `orchard report: ${s.output}`;
  return [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${CSS}</style>`,
    "</head><body>",
    `<header><h1>orchard report</h1><p class="muted">${escapeHtml(s.input)} &rarr; ${escapeHtml(s.output)}<br>generated ${escapeHtml(generatedAt.toISOString())}</p></header>`,
    summarySection(data),
    varianceSection(data),
    projectionSection(data),
    clusteringSection(data),
    confusionSection(data),
    perClassSection(data),
    failuresSection(data),
    timingsSection(data),
    `<div id="tip" role="tooltip" hidden></div>`,
    `<script>${SCRIPT}</script>`,
    "</body></html>",
    "",
  ].join("\n");
}

const num = (n: number) => n.toLocaleString("en-US");

function summarySection({ summary: s }: ReportData): string {
  const total = s.explainedVariance?.reduce((a, b) => a + b, 0);
  const cards = [
    ["images in", num(s.counts.filesIn)],
    ["rows out", num(s.counts.rowsOut)],
    ["failed", num(s.counts.failed)],
    ["images/s (whole run)", s.imagesPerSecond.toFixed(1)],
    ...(s.timingsMs.features
      ? [["images/s (features step)", (s.counts.filesIn / (s.timingsMs.features / 1000)).toFixed(1)]]
      : []),
    ["wall time", `${(s.wallMs / 1000).toFixed(1)} s`],
    ["components", `k=${s.k} of ${s.featureDim}`],
    ...(total === undefined ? [] : [["variance kept", `${(100 * total).toFixed(1)}%`]]),
    ["partitions", String(s.partitions)],
    // run.json files written before the version was recorded have none.
    ...(s.sparkVersion ? [["Spark server", s.sparkVersion]] : []),
  ];
  return `<section id="summary"><h2>Run summary</h2><div class="cards">${cards
    .map(
      ([k, v]) =>
        `<div class="card" data-key="${escapeHtml(k as string)}"><div class="v">${escapeHtml(v as string)}</div><div class="k">${escapeHtml(k as string)}</div></div>`,
    )
    .join("")}</div>${s.pcaModel ? `<p class="muted">PCA model: ${escapeHtml(s.pcaModel)}</p>` : ""}</section>`;
}

function varianceSection({ summary: s, variance }: ReportData): string {
  if (!variance) {
    return `<section id="variance"><h2>Explained variance</h2><p class="note">No explained variance is known for this run (run.json has none and the PCA model could not be loaded).</p></section>`;
  }
  const n = variance.explained.length;
  const reached = thresholdComponents(variance.explained);
  const note =
    variance.source === "model"
      ? n > s.k
        ? `The curve covers all ${n} components the saved PCA model holds; the output keeps the first ${s.k}.`
        : `The curve covers the ${n} components the PCA model holds (fitted with k=${n}); components beyond them are not known, so thresholds above ${(100 * variance.explained.reduce((a, b) => a + b, 0)).toFixed(1)}% cannot be placed.`
      : `The curve covers only the ${n} components kept in the output (from run.json); the PCA model was not readable, so components beyond them are not known.`;
  const shown = shownComponents(variance.explained, s.k);
  const zoom =
    shown < n
      ? ` The chart shows the first ${shown} of them; the remaining ${n - shown} add ${(100 * variance.explained.slice(shown).reduce((a, b) => a + b, 0)).toFixed(2)}% together.`
      : "";
  const rows = reached
    .map(
      ({ share, components }) =>
        `<tr data-share="${share}"><td>${Math.round(share * 100)}%</td><td>${components === undefined ? `not reached within the ${n} known components` : `${components} components`}</td></tr>`,
    )
    .join("");
  return `<section id="variance"><h2>Cumulative explained variance</h2><p class="note">${escapeHtml(note + zoom)}</p>${varianceSvg(variance.explained, s.k)}<table class="thresholds"><thead><tr><th>share</th><th>components needed</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function projectionSection({ projection }: ReportData): string {
  if (!projection) {
    return `<section id="projection"><h2>2-D projection</h2><p class="note">This run wrote no data/ (orchard fit saves only the model), so there is nothing to project.</p></section>`;
  }
  const { points, total, sampled, maxPoints, components } = projection;
  const notes = [
    `${num(points.length)} images drawn${sampled ? `: a deterministic sample (by a hash of the path) of the ${num(total)} projected images, at most ${num(maxPoints)}` : ", every projected image"}; failed images have no projection.`,
    components < 2 ? "The output has a single principal component: points are drawn on PC 1 only." : "",
    `${seriesOf(points).length} labels; hover a point for its file path, click a label to show or hide it.`,
  ].filter(Boolean);
  const clustered = points.some((p) => p.cluster !== undefined);
  const toggle = clustered
    ? `<p class="colour-by">colour by: <button type="button" data-colour-by="label" aria-pressed="true">class</button> <button type="button" data-colour-by="cluster" aria-pressed="false">KMeans cluster</button></p>`
    : "";
  return `<section id="projection"><h2>2-D projection (first two principal components)</h2><p class="note">${escapeHtml(notes.join(" "))}</p>${toggle}<div class="scatter">${projectionSvg(points)}${legendHtml(points)}${clustered ? clusterLegendHtml(points) : ""}</div></section>`;
}

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

function clusteringSection({ clustering: c, projection }: ReportData): string {
  if (!c) {
    const why = projection
      ? "KMeans was not run: the projection has fewer than two labels, or no more rows than clusters."
      : "This run wrote no data/, so there is nothing to cluster.";
    return `<section id="clustering"><h2>Clusters and classes</h2><p class="note">${why}</p></section>`;
  }
  const cards = [
    ["KMeans clusters", String(c.k)],
    ["adjusted Rand index", c.adjustedRandIndex.toFixed(4)],
    ["purity", pct(c.purity)],
    ["rows clustered", num(c.rows)],
  ];
  return `<section id="clustering"><h2>Clusters and classes</h2><p class="note">${escapeHtml(
    `KMeans (k=${c.k}, seed ${c.seed}) on the output's principal components, compared with the labels on the server: the adjusted Rand index is 1 when clusters and classes coincide and about 0 for a random clustering; purity is the share of images whose cluster's most common class is their own. Switch the projection's colouring above to see the clusters over the classes.`,
  )}</p><div class="cards">${cards
    .map(
      ([k, v]) =>
        `<div class="card" data-key="${escapeHtml(k as string)}"><div class="v">${escapeHtml(v as string)}</div><div class="k">${escapeHtml(k as string)}</div></div>`,
    )
    .join("")}</div></section>`;
}

function confusionSection({ classifier }: ReportData): string {
  if (!classifier) {
    return `<section id="confusion"><h2>Classifier: confusion matrix</h2><p class="note">No classifier is attached to this report (orchard train writes one with its model; orchard report --classifier MODEL_DIR adds it).</p></section>`;
  }
  const { labels, counts } = classifier.metrics.confusionMatrix;
  const max = Math.max(1, ...counts.flat());
  const head = labels
    .map((l) => `<th class="col" title="predicted ${escapeHtml(l)}"><span>${escapeHtml(l)}</span></th>`)
    .join("");
  const body = labels
    .map((l, i) => {
      const cells = (counts[i] ?? [])
        .map((n, j) => {
          const alpha = n === 0 ? 0 : 0.15 + 0.85 * (n / max);
          const colour = i === j ? `rgba(47,111,62,${alpha.toFixed(2)})` : `rgba(192,57,43,${alpha.toFixed(2)})`;
          return `<td class="n${i === j ? " diag" : ""}" data-true="${escapeHtml(l)}" data-predicted="${escapeHtml(labels[j] as string)}" style="background:${colour}">${n || ""}</td>`;
        })
        .join("");
      return `<tr><th>${escapeHtml(l)}</th>${cells}</tr>`;
    })
    .join("");
  const m = classifier.metrics;
  return `<section id="confusion"><h2>Classifier: confusion matrix</h2><p class="note">${escapeHtml(
    `Test set of ${classifier.testRows} images (${classifier.model}): accuracy ${pct(m.accuracy)}, macro F1 ${m.macroF1.toFixed(4)}. Rows are the true classes, columns the predicted ones; the diagonal is right.`,
  )}</p><div class="matrix-wrap"><table class="confusion"><thead><tr><th>true &darr; predicted &rarr;</th>${head}</tr></thead><tbody>${body}</tbody></table></div></section>`;
}

function perClassSection({ classifier }: ReportData): string {
  if (!classifier) return "";
  const { labels, counts } = classifier.metrics.confusionMatrix;
  const rows = labels
    .map((l, i) => {
      const n = (counts[i] ?? []).reduce((a, b) => a + b, 0);
      const acc = classifier.metrics.perClassAccuracy[l];
      return `<tr data-label="${escapeHtml(l)}"><td>${escapeHtml(l)}</td><td class="n">${n}</td><td class="n">${acc === undefined ? "&ndash;" : pct(acc)}</td><td><span class="tbar" style="width:${acc === undefined ? 0 : (100 * acc).toFixed(1)}%"></span></td></tr>`;
    })
    .join("");
  return `<section id="per-class"><h2>Classifier: accuracy per class</h2><table class="per-class"><thead><tr><th>class</th><th>test images</th><th>accuracy</th><th></th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function failuresSection({ summary: s, failures, errorGroups, projection }: ReportData): string {
  if (s.counts.failed === 0) {
    return `<section id="failures"><h2>Failures</h2><p>No image failed.</p></section>`;
  }
  if (!projection) {
    return `<section id="failures"><h2>Failures</h2><p>${num(s.counts.failed)} of ${num(s.counts.filesIn)} images failed; the errors are kept in data/, which this run did not write.</p></section>`;
  }
  const more =
    errorGroups > failures.length
      ? `<p class="note">Showing the ${failures.length} most frequent of ${errorGroups} distinct errors.</p>`
      : "";
  return `<section id="failures"><h2>Failures</h2><p>${num(s.counts.failed)} of ${num(s.counts.filesIn)} images failed; their rows are kept in data/ with the error.</p>${more}<table class="failures"><thead><tr><th>error</th><th>images</th></tr></thead><tbody>${failures
    .map((f) => `<tr><td><code>${escapeHtml(f.error)}</code></td><td class="n">${num(f.count)}</td></tr>`)
    .join("")}</tbody></table></section>`;
}

function timingsSection({ summary: s }: ReportData): string {
  const steps = STEPS.filter((st) => s.timingsMs[st] !== undefined);
  const max = Math.max(1, ...steps.map((st) => s.timingsMs[st] as number));
  const rows = steps
    .map((st) => {
      const ms = s.timingsMs[st] as number;
      return `<tr data-step="${st}"><td>${st}</td><td class="n">${(ms / 1000).toFixed(1)} s</td><td><span class="tbar" style="width:${((100 * ms) / max).toFixed(1)}%"></span></td></tr>`;
    })
    .join("");
  return `<section id="timings"><h2>Timings</h2><table class="timings"><thead><tr><th>step</th><th>time</th><th></th></tr></thead><tbody>${rows}<tr><td><b>wall</b></td><td class="n"><b>${(s.wallMs / 1000).toFixed(1)} s</b></td><td class="muted">${s.imagesPerSecond.toFixed(1)} images/s over the whole run</td></tr></tbody></table></section>`;
}

const CSS = `
:root{--fg:#1d232b;--muted:#66707c;--line:#d9dee4;--accent:#2f6f3e;--bg:#fbfcfd}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;max-width:1120px;padding:24px}
h1{margin:0 0 4px;font-size:24px;color:var(--accent)}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
.muted{color:var(--muted)}.note{color:var(--muted);max-width:860px}
.cards{display:flex;flex-wrap:wrap;gap:10px}.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:10px 14px;min-width:120px}
.card .v{font-size:20px;font-weight:600}.card .k{color:var(--muted);font-size:12px}
.chart{width:100%;max-width:680px;height:auto;background:#fff;border:1px solid var(--line);border-radius:8px}
.chart .grid{stroke:#eef1f4}.chart .axis{fill:var(--muted);font-size:11px}.chart .axis-title{fill:var(--muted);font-size:12px}
.chart .curve{fill:none;stroke:var(--accent);stroke-width:2}.chart .var-pt{fill:var(--accent)}
.chart .threshold line{stroke:#c0392b;stroke-dasharray:4 3}.chart .threshold text{fill:#c0392b;font-size:11px}
.chart .kept line{stroke:#2c6fbb;stroke-dasharray:2 2}.chart .kept text{fill:#2c6fbb;font-size:11px}
.chart .frame{fill:none;stroke:var(--line)}.chart .pt{fill-opacity:.8;stroke:#fff;stroke-width:.5;cursor:pointer}.chart .pt:hover{stroke:#000;stroke-width:1.5}
.scatter{display:flex;gap:16px;align-items:flex-start;flex-wrap:wrap}
.legend{list-style:none;margin:0;padding:0;columns:2;font-size:12px;max-width:400px}.legend li{cursor:pointer;white-space:nowrap;padding:1px 0}.legend li.off{opacity:.35}
.swatch{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:6px;vertical-align:middle}
table{border-collapse:collapse;background:#fff}td,th{border:1px solid var(--line);padding:4px 10px;text-align:left;vertical-align:top}td.n{text-align:right;font-variant-numeric:tabular-nums}
table.thresholds{margin-top:8px}table.timings td:last-child{width:320px}.tbar{display:inline-block;height:10px;background:var(--accent);border-radius:2px}
code{font-size:12px;word-break:break-all}
.colour-by button{font:inherit;border:1px solid var(--line);background:#fff;border-radius:4px;padding:2px 10px;cursor:pointer}.colour-by button[aria-pressed=true]{background:var(--accent);color:#fff}
.cluster-legend{list-style:none;margin:0;padding:0;columns:2;font-size:12px;max-width:400px}
.matrix-wrap{overflow-x:auto}table.confusion{font-size:11px}table.confusion td{min-width:18px;padding:2px 4px}table.confusion th.col{height:120px;vertical-align:bottom;padding:2px}
table.confusion th.col span{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap}table.confusion td.diag{font-weight:600}
table.per-class td:last-child{width:320px}
#tip{position:fixed;pointer-events:none;background:#1d232b;color:#fff;padding:4px 8px;border-radius:4px;font-size:12px;max-width:560px;word-break:break-all}
`;

const SCRIPT = `
(function(){
  var tip=document.getElementById("tip");
  var chart=document.getElementById("projection-chart");
  if(chart){
    chart.addEventListener("mousemove",function(e){
      var t=e.target;
      if(t&&t.classList&&t.classList.contains("pt")){
        tip.textContent=t.getAttribute("data-path")+"  ("+t.parentNode.getAttribute("data-label")+")";
        tip.style.left=(e.clientX+12)+"px";tip.style.top=(e.clientY+12)+"px";tip.hidden=false;
      }else{tip.hidden=true;}
    });
    chart.addEventListener("mouseleave",function(){tip.hidden=true;});
  }
  document.querySelectorAll(".colour-by button").forEach(function(b){
    b.addEventListener("click",function(){
      var by=b.getAttribute("data-colour-by");
      document.querySelectorAll(".colour-by button").forEach(function(o){o.setAttribute("aria-pressed",String(o===b));});
      document.querySelectorAll("#projection-chart circle.pt").forEach(function(c){
        c.style.fill=by==="cluster"?(c.getAttribute("data-cc")||""):"";
      });
      var legend=document.querySelector(".legend"),clusters=document.querySelector(".cluster-legend");
      if(legend)legend.hidden=by==="cluster";
      if(clusters)clusters.hidden=by!=="cluster";
      if(chart)chart.setAttribute("data-colour-by",by);
    });
  });
  document.querySelectorAll(".legend li").forEach(function(li){
    li.addEventListener("click",function(){
      var label=li.getAttribute("data-label");
      li.classList.toggle("off");
      document.querySelectorAll("#projection-chart .series").forEach(function(g){
        if(g.getAttribute("data-label")===label){g.style.display=li.classList.contains("off")?"none":"";}
      });
    });
  });
})();
`;
