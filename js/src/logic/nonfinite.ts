// Where NaN/Inf has shown up, merged from the kernel's `_diagnostics.nonfinite` and `_params`,
// as the words the header's warning line and the tree's badge use.

import { EN, type Translate } from "../core/i18n";
import type { Diagnostics, ParamRecord } from "../model";

/** Where NaN/Inf has shown up, merged from `_diagnostics.nonfinite` and `_params`. */
export interface NonfiniteFlag {
  loss: boolean; // some logged metric held NaN/Inf
  where: "weights" | "grads" | null;
  firstLayer: string | null; // module path ("" = the root); null when unknown
}

/**
 * The NaN/Inf state to show, or null when everything is finite. The kernel's diagnostics come
 * first (they know about gradients and the loss, and the first report wins there); `_params`
 * fills in when they say nothing, e.g. after `panel.refresh()` outside a training loop, where
 * the first parameter row with NaN/Inf values names the module that holds it.
 */
export function nonfiniteFlag(diag: Diagnostics | null | undefined, params: ParamRecord[] | null | undefined): NonfiniteFlag | null {
  const nf = diag?.nonfinite;
  const flag: NonfiniteFlag = { loss: Boolean(nf?.loss), where: nf?.where ?? null, firstLayer: nf?.where ? (nf.first_layer ?? null) : null };
  if (!flag.where) {
    // _params comes in named_parameters() order, which follows named_modules() order.
    const bad = (params ?? []).find((r) => (r.nan ?? 0) + (r.inf ?? 0) > 0);
    if (bad) {
      flag.where = "weights";
      flag.firstLayer = bad.owners?.[0] ?? null;
    }
  }
  return flag.loss || flag.where ? flag : null;
}

/** The warning line: "NaN/Inf in gradients, first at fc2"; "" when there is nothing to flag. */
export function nonfiniteMessage(flag: NonfiniteFlag | null, t: Translate = EN): string {
  if (!flag) return "";
  const parts: string[] = [];
  if (flag.loss) parts.push(t("nonfinite.loss"));
  if (flag.where) {
    const what = t(flag.where === "grads" ? "nonfinite.grads" : "nonfinite.weights");
    const where = flag.firstLayer === "" ? t("nonfinite.rootModule") : flag.firstLayer;
    parts.push(where === null ? what : t("nonfinite.firstAt", { what, where }));
  }
  return t("nonfinite.message", { parts: parts.join(t("nonfinite.and")) });
}
