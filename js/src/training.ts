// Live training view (progress bars, metric curves). Owned by the training engineer; this is
// the first version that renders nothing yet. Traits: _progress, _metrics, _diagnostics,
// _hist_history (see model.ts).

import type { AnyModel } from "@anywidget/types";
import type { ViewContext } from "./context";
import type { Model } from "./model";

/** Mount the training section into `root`; returns its cleanup. */
export function mountTraining(root: HTMLElement, model: AnyModel<Model>, ctx: ViewContext): () => void {
  void model;
  void ctx;
  root.replaceChildren();
  return () => root.replaceChildren();
}
