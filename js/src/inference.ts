// Eval-mode inference view. Owned by the inference engineer; this is the first version that
// renders nothing yet. Traits: _devices, _eval_data, _eval_result; requests go out with
// ctx.send({kind: "evaluate", device, batch_size}, onReply) (see model.ts, context.ts).

import type { AnyModel } from "@anywidget/types";
import type { ViewContext } from "./context";
import type { Model } from "./model";

/** Mount the inference section into `root`; returns its cleanup. */
export function mountInference(root: HTMLElement, model: AnyModel<Model>, ctx: ViewContext): () => void {
  void model;
  void ctx;
  root.replaceChildren();
  return () => root.replaceChildren();
}
