// tqdm-like progress bars of the training section, one row per bar in `_progress`. Rows are
// keyed by the bar's id and reused between updates, so a bar that ticks ten times a second
// changes text in place instead of being rebuilt.
//
// The latest run (the loop running now, or the last one) is drawn in full; finished runs
// before it (leave=True bars the kernel keeps, training/progress.py) are one line each, newest
// first, under a collapsed "Earlier runs (N)".
//
// Stable class names (browser tests rely on them):
//   .mp-bars, .mp-bar[data-id][data-level][data-state], .mp-bar-desc, .mp-bar-count,
//   .mp-bar-fill, .mp-bar-error (the latest run's bars only);
//   .mp-runs (details), .mp-run[data-run][data-state] (one earlier run, its meter as text)

import type { AnyModel } from "@anywidget/types";
import type { ViewContext } from "../core/context";
import { h } from "../core/dom";
import { barText, fractionDone, runOf, runSummary, splitRuns } from "../logic/progress";
import type { Model, ProgressBar } from "../model";

interface BarParts {
  desc: HTMLElement;
  percent: HTMLElement;
  fill: HTMLElement;
  count: HTMLElement;
  meta: HTMLElement;
  error: HTMLElement;
}

/** Mount the progress bars into `root` (.mp-bars); returns its cleanup. */
export function mountProgressBars(root: HTMLElement, model: AnyModel<Model>, ctx: ViewContext): () => void {
  const rows = new Map<number, { row: HTMLElement; parts: BarParts }>();
  const runs = h("details", "mp-runs");
  const runsTitle = h("summary", "mp-hint");
  const runsList = h("div", "mp-runs-list");
  runs.append(runsTitle, runsList);
  const render = () => {
    const seen = new Set<number>();
    const { current, earlier } = splitRuns(model.get("_progress"));
    for (const bar of current) {
      seen.add(bar.id);
      let item = rows.get(bar.id);
      if (!item) {
        item = buildRow();
        rows.set(bar.id, item);
      }
      updateRow(item.row, item.parts, bar);
      root.appendChild(item.row); // re-append keeps the DOM in display order
    }
    for (const [id, item] of rows) {
      if (!seen.has(id)) {
        item.row.remove();
        rows.delete(id);
      }
    }
    renderEarlier(earlier);
    root.appendChild(runs); // after the latest run's rows, which were re-appended above
  };
  // Finished runs change only when a run ends: rebuilt then, open/closed state kept.
  let earlierKey = "";
  const renderEarlier = (earlier: ProgressBar[][]) => {
    const key = JSON.stringify(earlier);
    if (key === earlierKey) return;
    earlierKey = key;
    setText(runsTitle, ctx.t("progress.earlierRuns", { n: earlier.length }));
    runsList.replaceChildren(
      ...earlier.map((run) => {
        const line = h("div", "mp-run mp-num", runSummary(run, ctx.t));
        line.dataset.run = String(runOf(run[0] ?? { run: 0 }));
        line.dataset.state = String(run[0]?.state ?? "");
        return line;
      }),
    );
    runs.hidden = earlier.length === 0;
  };
  render();
  ctx.on("change:_progress", () => ctx.schedule(render));
  return () => {
    rows.clear();
    root.replaceChildren();
  };
}

function buildRow(): { row: HTMLElement; parts: BarParts } {
  const row = h("div", "mp-bar");
  const track = h("div", "mp-bar-track");
  const parts: BarParts = {
    desc: h("span", "mp-bar-desc"),
    percent: h("span", "mp-bar-percent mp-num"),
    fill: h("div", "mp-bar-fill"),
    count: h("span", "mp-bar-count mp-num"),
    meta: h("span", "mp-bar-meta"),
    error: h("div", "mp-bar-error"),
  };
  track.appendChild(parts.fill);
  row.append(parts.desc, parts.percent, track, parts.count, parts.meta, parts.error);
  return { row, parts };
}

function updateRow(row: HTMLElement, parts: BarParts, bar: ProgressBar): void {
  const text = barText(bar);
  row.dataset.id = String(bar.id);
  row.dataset.level = String(Math.min(bar.level, 2));
  row.dataset.state = String(bar.state);
  setText(parts.desc, text.desc);
  setText(parts.percent, text.percent);
  setText(parts.count, text.count);
  setText(parts.meta, text.meta);
  setText(parts.error, bar.error ?? "");
  parts.error.hidden = !bar.error;
  const frac = fractionDone(bar);
  // Without a total tqdm shows no bar; a full track that is "running" says the same honestly.
  parts.fill.style.width = `${Math.round((frac ?? (bar.state === "running" ? 0 : 1)) * 1000) / 10}%`;
}

// Most fields of a ticking bar do not change; rewriting one replaces its text node (and drops
// a selection the user made in it).
function setText(el: HTMLElement, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}
