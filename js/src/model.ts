// The synced traits of the widget, mirroring the Python class ModelPanel in
// src/modelpanel/panel/widget.py. The contract is docs/widget-state.md: change all three together.
// Every trait is written by the kernel only; the views keep their own state (selection,
// expansion, sort order) locally and talk back through custom messages (see core/context.ts).

import type { WireArray } from "./core/decode";

/** One module of the model (root excluded), in named_modules() order. */
export interface Layer {
  path: string; // "features.0"
  name: string; // last path component
  kind: string; // class name
  depth: number; // top level: 1
  parent: string; // "" = the root
  input_shape: Shape | null;
  output_shape: Shape | null;
  calls: number;
  params: number; // subtree, each tensor once
  own_params: number;
  trainable_params: number;
  macs: number | null;
  shared: boolean; // holds a parameter another module also holds
  param_formula: string; // "" when the module holds none itself
}

/** A tensor shape ([1, 10]), or nested tuples / lists / dicts of shapes, as the kernel sends it. */
export type Shape = number[] | Shape[] | { [key: string]: Shape | null };

/** `Summary.to_dict()`. The trait may be an empty dict before the first summary arrives. */
export interface Summary {
  model_kind: string;
  total_params: number;
  trainable_params: number;
  non_trainable_params: number;
  param_bytes: number;
  buffer_bytes: number;
  input_bytes: number | null;
  activation_bytes: number | null;
  total_bytes: number;
  macs: number | null; // null until counted (a second forward, on demand)
  devices: string[];
  dtypes: string[];
  training: boolean;
  input_shapes: Shape[] | null;
  root_params: number;
  layers: Layer[];
}

/** One parameter tensor (tied tensors once, with all their names). */
export interface ParamRecord {
  id: number; // row index into the histogram arrays
  names: string[];
  owners: string[]; // module paths that hold it directly ("" = root)
  shape: number[];
  numel: number;
  dtype: string;
  device: string;
  trainable: boolean;
  mean: number | null; // finite values only; null if none
  std: number | null;
  min: number | null;
  max: number | null;
  nan: number;
  inf: number;
  sampled: boolean; // statistics / histogram from a strided sample
}

export interface Histograms {
  bins: number;
  counts: WireArray; // uint32 [n_params, bins]
  range: WireArray; // float64 [n_params, 2]: lo, hi (lo == hi: constant tensor)
  version: number; // bumps on every refresh
}

export interface HistHistory {
  steps: WireArray; // float64 [T]
  counts: WireArray; // uint32 [n_params, T, bins]
  range: WireArray; // float64 [n_params, T, 2]
}

export interface ProgressBar {
  id: number;
  level: number;
  desc: string;
  n: number;
  total: number | null;
  unit: string;
  rate: number | null;
  elapsed: number;
  remaining: number | null;
  postfix: string;
  state: "running" | "done" | "stopped" | "error";
  error: string; // "stopped at 3/10", "KeyError: 'x'", "" while fine
}

export interface MetricSeries {
  step: WireArray; // float64 [k]
  value: WireArray; // float64 [k]
  epoch_level: boolean;
}

/** `{}` until the first refresh that has something to say. */
export interface Diagnostics {
  nonfinite?: {
    loss: boolean;
    first_layer: string | null; // "" = the root
    where: "weights" | "grads" | null;
  };
  grad_norms?: Record<string, number | null>; // null when not finite
  activations?: Record<string, { mean: number | null; std: number | null; zero_frac: number }>;
}

export interface EvalData {
  n: number | null; // null: a DataLoader over an iterable dataset
  x_shape: number[] | null; // null for a Dataset / DataLoader
  has_targets: boolean;
  labels: string[] | null;
}

export interface PerClass {
  label: string;
  precision: number | null;
  recall: number | null;
  support: number;
}

export interface EvalResult {
  n: number;
  device: string;
  seconds: number;
  samples_per_s: number | null;
  mode: "inference_mode" | "no_grad";
  accuracy: number | null; // null with metric= or without targets
  topk_accuracy: number | null;
  topk_k: number | null;
  metric: number | null; // a custom metric replaces accuracy
  metric_name: string | null;
  loss: number | null;
  classes: string[];
  confusion: WireArray | null; // int32 [c, c]: confusion[true, predicted]
  per_class: PerClass[] | null;
}

/** Custom message the inference view sends; answered by {kind: "evaluate_reply", id, ok, error?}. */
export interface EvaluateRequest {
  kind: "evaluate";
  id: string;
  device: string;
  batch_size: number;
}

export interface Reply {
  kind: string; // "<request kind>_reply"
  id: string;
  ok: boolean;
  error?: string; // when !ok: a readable message
  [extra: string]: unknown; // e.g. evaluate_reply: n, accuracy, device
}

/** All synced traits of ModelPanel (src/modelpanel/panel/widget.py). */
export interface Model {
  _summary: Summary | Record<string, never> | null;
  _params: ParamRecord[] | null;
  _hist: Histograms | Record<string, never> | null;
  _hist_history: HistHistory | Record<string, never> | null;
  _progress: ProgressBar[] | null;
  _metrics: Record<string, MetricSeries> | null;
  _diagnostics: Diagnostics | null; // all fields optional: {} until the first refresh
  _devices: string[] | null;
  _eval_data: EvalData | null;
  _eval_result: EvalResult | null;
  _eval_running: boolean | null; // true while an evaluation runs (from the view or from code)
  _error: string | null;
}

/** The summary, or null while the kernel has not sent one (empty dict or null). */
export function summaryOf(value: Model["_summary"]): Summary | null {
  return value && Array.isArray((value as Summary).layers) ? (value as Summary) : null;
}

/** The histograms, or null while there are none. */
export function histOf(value: Model["_hist"]): Histograms | null {
  return value && (value as Histograms).counts ? (value as Histograms) : null;
}
