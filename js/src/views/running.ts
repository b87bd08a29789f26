// The running-loop line above the tabs: "epoch 2/3 67% · batch 40/150 27%" while a
// panel.progress loop runs, so its progress shows whatever tab is open. A click on it opens the
// Training tab (through `open`). Hidden when no loop runs.
//
// Stable class names (browser tests rely on them): .mp-running (a button), .mp-running-text

import type { AnyModel } from "@anywidget/types";
import type { ViewContext } from "../core/context";
import { h } from "../core/dom";
import { runningLine } from "../logic/progress";
import type { Model } from "../model";

/** Mount the line into `root` (a button); `open` shows the Training tab. Returns its cleanup. */
export function mountRunning(
  root: HTMLButtonElement,
  model: AnyModel<Model>,
  ctx: ViewContext,
  open: () => void,
): () => void {
  root.type = "button";
  root.title = ctx.t("running.title");
  const text = h("span", "mp-running-text");
  root.replaceChildren(text);
  const draw = () => {
    const line = runningLine(model.get("_progress"), ctx.t);
    if (text.textContent !== line) text.textContent = line;
    root.hidden = !line;
  };
  draw();
  ctx.on("change:_progress", () => ctx.schedule(draw));
  ctx.listen(root, "click", open);
  return () => root.replaceChildren();
}
