// The cell's own progress line: what `panel.progress(...)` draws in the output of the cell that
// runs the loop, as tqdm.notebook does, while the panel may be far above. Python side:
// src/modelpanel/panel/progress_line.py (ProgressLine, with its own bundle: progressLineEntry.ts); its `_progress`
// holds the records of one run, the same ones the panel's `_progress` has for that run.
//
// It draws with the panel's own progress view in a root of its own, so a bar reads the same
// in both places. Stable class names: .mp-line (root, also .modelpanel for the theme's
// variables), then the bar classes of views/progressBars.ts (.mp-bar, .mp-bar-count, ...).

import type { AnyModel, RenderProps } from "@anywidget/types";
import { createContext } from "./core/context";
import { meterLine, splitRuns } from "./logic/progress";
import type { Model, ProgressLineModel } from "./model";
import { mountProgressBars } from "./views/progressBars";
import css from "./widget.css";

/** Render one cell's line into `el`; returns its cleanup. */
export function renderProgressLine({ model, el }: RenderProps<ProgressLineModel>): () => void {
  // The progress view reads `_progress` only, which both widgets declare alike.
  const shared = model as unknown as AnyModel<Model>;
  const ctx = createContext(shared);
  const root = document.createElement("div");
  root.className = "modelpanel mp-line";
  root.setAttribute("role", "status");
  const style = document.createElement("style");
  style.textContent = css;
  const bars = document.createElement("div");
  bars.className = "mp-bars";
  root.append(style, bars);
  const cleanupBars = mountProgressBars(bars, shared, ctx);
  // The whole meter as one string for screen readers (the row itself is split into cells).
  const label = () => {
    const { current } = splitRuns(model.get("_progress"));
    root.setAttribute("aria-label", current.map(meterLine).join("; "));
  };
  label();
  ctx.on("change:_progress", () => ctx.schedule(label));
  el.appendChild(root);
  return () => {
    cleanupBars();
    ctx.dispose();
    root.remove();
  };
}
