// The diagnostics' per-module flags (`_diagnostics.flags`, from training/diagnostics.py
// layer_flags) as badges a learner can read: a short label, and a tooltip saying what the flag
// means and what usually helps. The tree badges each flagged row; the diagnostics table
// highlights the row and spells the sentences out. Pure functions (no DOM); words from the catalog.

import { EN, type Translate } from "../core/i18n";
import type { DiagnosticFlag, Diagnostics, Layer, ParamRecord } from "../model";
import type { NonfiniteFlag } from "./nonfinite";

/** A badge on a row: `key` names its CSS class (mp-badge-<key>), `text` its label. */
export interface FlagBadge {
  key: "dead" | "vanishing" | "exploding" | "nonfinite";
  text: string;
  title: string; // what it means, then what usually helps
}

const NONFINITE: DiagnosticFlag[] = ["nonfinite_weights", "nonfinite_grads", "nonfinite_activations"];

/**
 * Each flagged module's flags: the kernel's, plus the NaN/Inf report's first layer (which may
 * come from `_params` alone, e.g. after `panel.refresh()` outside a loop), plus every module
 * that holds a tensor with NaN/Inf values in `params` (`_param_stats` counts; each owner of a
 * tied tensor), whether or not a training loop ran.
 */
export function flagsByPath(
  diag: Diagnostics | null | undefined,
  first: NonfiniteFlag | null,
  params: readonly Pick<ParamRecord, "owners" | "nan" | "inf">[] = [],
): Map<string, DiagnosticFlag[]> {
  const out = new Map<string, DiagnosticFlag[]>();
  const add = (path: string, kind: DiagnosticFlag) => {
    const kinds = out.get(path) ?? [];
    if (!kinds.includes(kind)) out.set(path, [...kinds, kind]);
  };
  for (const [path, kinds] of Object.entries(diag?.flags ?? {})) if (kinds.length) out.set(path, [...kinds]);
  if (first?.where && first.firstLayer !== null) add(first.firstLayer, first.where === "grads" ? "nonfinite_grads" : "nonfinite_weights");
  for (const r of params) if ((r.nan ?? 0) + (r.inf ?? 0) > 0) for (const owner of r.owners ?? []) add(owner, "nonfinite_weights");
  return out;
}

/** The badges of one row, in the kernel's order; the NaN/Inf kinds share one badge. */
export function flagBadges(kinds: readonly DiagnosticFlag[], firstHere = false, t: Translate = EN): FlagBadge[] {
  const badges: FlagBadge[] = [];
  for (const key of ["dead", "vanishing", "exploding"] as const) {
    if (kinds.includes(key)) badges.push({ key, text: t(`flag.${key}`), title: t(`flag.${key}Title`) });
  }
  const where = NONFINITE.filter((k) => kinds.includes(k)).map((k) => t(`flag.where.${k}`));
  if (where.length) {
    const title = t("flag.nonfiniteTitle", { where: where.join(t("flag.and")) });
    badges.push({ key: "nonfinite", text: t("flag.nonfinite"), title: firstHere ? `${title} ${t("flag.first")}` : title });
  }
  return badges;
}

/** One row of the diagnostics table: a module with its numbers (null: not measured) and flags. */
export interface DiagnosticsRow {
  path: string;
  kind: string | null; // the module's class name (Linear, ReLU); null when the summary lacks the path
  gradNorm: number | null | undefined; // undefined: not measured; null: not finite
  mean: number | null | undefined;
  std: number | null | undefined;
  zeroFrac: number | null | undefined;
  flags: DiagnosticFlag[];
}

/**
 * The table's rows: every module with a number or a flag, in the model's order (the summary's
 * `layers`, named_modules() order, as the tree shows them), each with its kind. Paths the layers
 * do not hold (no summary yet) follow in the kernel's order. The kernel's maps are not in that
 * order: gradient norms come first, then activations (training/diagnostics.py).
 */
export function diagnosticsRows(
  d: Diagnostics | null | undefined,
  flags: Map<string, DiagnosticFlag[]>,
  layers: readonly Pick<Layer, "path" | "kind">[] = [],
): DiagnosticsRow[] {
  const grads = d?.grad_norms ?? {};
  const acts = d?.activations ?? {};
  const at = new Map(layers.map((l, i) => [l.path, i]));
  const paths = Array.from(new Set([...Object.keys(grads), ...Object.keys(acts), ...flags.keys()]));
  const order = (p: string) => at.get(p) ?? layers.length;
  paths.sort((a, b) => order(a) - order(b)); // stable: unknown paths keep the kernel's order
  return paths.map((path) => {
    const a = acts[path];
    const i = at.get(path);
    return {
      path,
      kind: i === undefined ? null : (layers[i]?.kind ?? null),
      gradNorm: path in grads ? (grads[path] ?? null) : undefined,
      mean: a ? a.mean : undefined,
      std: a ? a.std : undefined,
      zeroFrac: a ? a.zero_frac : undefined,
      flags: flags.get(path) ?? [],
    };
  });
}

/** The badges of every flag some row carries, once each: the sentences written under the table. */
export function flagLegend(rows: readonly DiagnosticsRow[], t: Translate = EN): FlagBadge[] {
  const all = new Set<DiagnosticFlag>();
  for (const row of rows) for (const f of row.flags) all.add(f);
  return flagBadges(Array.from(all), false, t);
}
