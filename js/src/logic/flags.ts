// The diagnostics' per-module flags (`_diagnostics.flags`, from training/diagnostics.py
// layer_flags) as badges a learner can read: a short label, and a tooltip saying what the flag
// means and what usually helps. The tree badges each flagged row; the diagnostics table
// highlights the row and spells the sentences out. Pure functions (no DOM).

import type { DiagnosticFlag, Diagnostics } from "../model";
import type { NonfiniteFlag } from "./nonfinite";

/** A badge on a row: `key` names its CSS class (mp-badge-<key>), `text` its label. */
export interface FlagBadge {
  key: "dead" | "vanishing" | "exploding" | "nonfinite";
  text: string;
  title: string; // what it means, then what usually helps
}

// Every string of the flags, in one place (the UI-string catalog takes them from here).
const TEXT = {
  dead: ["dead", "Dead units: 99% or more of this module's outputs are exactly 0, so no gradient flows through them and they stop learning. What helps: a lower learning rate, LeakyReLU or GELU instead of ReLU, and checking the initialisation (He/Kaiming for ReLU)."],
  vanishing: ["vanishing grad", "Vanishing gradients: this module's gradient is 10,000x smaller, relative to its weights, than the largest in the model, so it barely learns. What helps: ReLU/GELU instead of sigmoid or tanh in deep stacks, residual connections, normalisation layers (BatchNorm, LayerNorm), and a suitable initialisation."],
  exploding: ["exploding grad", "Exploding gradients: this module's gradient is more than 10x the size of its weights, so one step can throw them far off. What helps: a lower learning rate, gradient clipping (torch.nn.utils.clip_grad_norm_), normalisation layers, and checking the initialisation."],
  nonfinite: ["NaN/Inf", "NaN/Inf in this module's {where}: once there, it spreads to every later result. What helps: a lower learning rate, gradient clipping, checking the data and the loss for log(0) or division by 0, and float32 instead of float16 where values overflow."],
  where: { nonfinite_weights: "weights", nonfinite_grads: "gradients", nonfinite_activations: "outputs" },
  and: " and ",
  first: "It first appeared here.",
  title: "Per-layer diagnostics",
  flagsColumn: "flags",
} as const;

/** The table's title and the head of its flags column. */
export const FLAG_TABLE = { title: TEXT.title, flagsColumn: TEXT.flagsColumn };

const NONFINITE: DiagnosticFlag[] = ["nonfinite_weights", "nonfinite_grads", "nonfinite_activations"];

/**
 * Each flagged module's flags: the kernel's, plus the NaN/Inf report's first layer (which may
 * come from `_params` alone, e.g. after `panel.refresh()` outside a loop).
 */
export function flagsByPath(diag: Diagnostics | null | undefined, first: NonfiniteFlag | null): Map<string, DiagnosticFlag[]> {
  const out = new Map<string, DiagnosticFlag[]>();
  for (const [path, kinds] of Object.entries(diag?.flags ?? {})) if (kinds.length) out.set(path, [...kinds]);
  if (first?.where && first.firstLayer !== null) {
    const kind: DiagnosticFlag = first.where === "grads" ? "nonfinite_grads" : "nonfinite_weights";
    const kinds = out.get(first.firstLayer) ?? [];
    if (!kinds.includes(kind)) out.set(first.firstLayer, [...kinds, kind]);
  }
  return out;
}

/** The badges of one row, in the kernel's order; the NaN/Inf kinds share one badge. */
export function flagBadges(kinds: readonly DiagnosticFlag[], firstHere = false): FlagBadge[] {
  const badges: FlagBadge[] = [];
  for (const key of ["dead", "vanishing", "exploding"] as const) {
    if (kinds.includes(key)) badges.push({ key, text: TEXT[key][0], title: TEXT[key][1] });
  }
  const where = NONFINITE.filter((k) => kinds.includes(k)).map((k) => TEXT.where[k as keyof typeof TEXT.where]);
  if (where.length) {
    const title = TEXT.nonfinite[1].replace("{where}", where.join(TEXT.and));
    badges.push({ key: "nonfinite", text: TEXT.nonfinite[0], title: firstHere ? `${title} ${TEXT.first}` : title });
  }
  return badges;
}

/** One row of the diagnostics table: a module with its numbers (null: not measured) and flags. */
export interface DiagnosticsRow {
  path: string;
  gradNorm: number | null | undefined; // undefined: not measured; null: not finite
  mean: number | null | undefined;
  std: number | null | undefined;
  zeroFrac: number | null | undefined;
  flags: DiagnosticFlag[];
}

/** The table's rows, in the kernel's (named_modules) order: every module with a number or a flag. */
export function diagnosticsRows(d: Diagnostics | null | undefined, flags: Map<string, DiagnosticFlag[]>): DiagnosticsRow[] {
  const grads = d?.grad_norms ?? {};
  const acts = d?.activations ?? {};
  const paths = new Set([...Object.keys(grads), ...Object.keys(acts), ...flags.keys()]);
  return Array.from(paths, (path) => {
    const a = acts[path];
    return {
      path,
      gradNorm: path in grads ? (grads[path] ?? null) : undefined,
      mean: a ? a.mean : undefined,
      std: a ? a.std : undefined,
      zeroFrac: a ? a.zero_frac : undefined,
      flags: flags.get(path) ?? [],
    };
  });
}

/** The badges of every flag some row carries, once each: the sentences written under the table. */
export function flagLegend(rows: readonly DiagnosticsRow[]): FlagBadge[] {
  const all = new Set<DiagnosticFlag>();
  for (const row of rows) for (const f of row.flags) all.add(f);
  return flagBadges(Array.from(all));
}
