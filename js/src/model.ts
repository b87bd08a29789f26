// The synced traits of the widget, mirroring the Python class ModelPanel in
// src/modelpanel/panel/widget.py. The contract is docs/widget-state.md: change all three together.
// Every trait is written by the kernel only; the views keep their own state (selection,
// expansion, sort order) locally and talk back through custom messages (see core/context.ts).
// Big traits travel as columns and appends; core/ decodes them once into the row types below
// (Layer, Summary, ParamRecord), so the views read rows and never the wire format.

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
  // Why it shows no calls after a forward: "not called in eval mode" | "never called" |
  // "inside TorchScript: not traced" | "not reached: the forward failed before it"; "" when it
  // (or its subtree) ran, or no forward ran.
  status: string;
}

/** A tensor shape ([1, 10]), or nested tuples / lists / dicts of shapes, as the kernel sends it. */
export type Shape = number[] | Shape[] | { [key: string]: Shape | null };

/** `_summary` after core/columns.ts decoded its layer columns into rows. */
export interface Summary {
  model_kind: string;
  wrappers?: string[]; // the wrappers the model was found in, outermost first ("DataParallel", "torch.compile")
  total_params: number;
  trainable_params: number;
  non_trainable_params: number;
  param_bytes: number;
  buffer_bytes: number;
  input_bytes: number | null;
  activation_bytes: number | null;
  total_bytes: number;
  macs: number | null; // null until counted (a second forward, on demand)
  macs_excluded: string[] | null; // ops that ran without a MAC formula ("aten._cdist_forward"); null until counted
  devices: string[];
  dtypes: string[];
  training: boolean;
  mode: "eval" | "train" | "same"; // the train/eval mode the captured forward ran in
  input_shapes: Shape[] | null;
  root_params: number;
  // The model itself as a layer (path "", depth 0; params = total_params, own_params =
  // root_params, shapes = input_shapes and the model's output): the tree's first row.
  // Absent from kernels before it existed (the tree then starts at the top level).
  root?: Layer;
  error?: string | null; // the panel's forward raised: the ForwardError's message; null when it ran
  failed_path?: string | null; // where it raised: tree path ("" = the model itself); null when it ran
  layers: Layer[];
  // Which forward the summary ran (summarize(trace=)): "fake" counted the MACs in that pass;
  // null without input. trace_fallback: why "auto" ran real where it tried fake. Absent from
  // older kernels.
  trace?: "fake" | "real" | null;
  trace_fallback?: string | null;
  training_memory?: TrainingMemory | null; // Summary.memory("AdamW"), bytes; null without activations
}

/** Bytes to run and to train the model at the summary's input (summary/memory.py). */
export interface TrainingMemory {
  optimizer: string; // "AdamW"
  inference: number; // parameters + buffers + input + activations
  training: number; // inference + gradients + optimizer_states
  gradients: number;
  optimizer_states: number;
}

/** One parameter tensor (tied tensors once, with all their names): `_params` + `_param_stats` row. */
export interface ParamRecord {
  id: number; // row of `_params`: the id that hist_watch, `_hist` and hist_history use
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
  // What the tensor is when not a plain materialised float ("quantized qint8, packed: statistics
  // of dequantized values", "lazy: not materialised until the first forward", "meta: no values",
  // "complex: statistics of magnitudes", "parametrized: ..."); absent for a plain one.
  note?: string;
}

/**
 * A column of repeated values sent once each: row i's value is `values[index[i]]`
 * (index: uint32 [n]). Kinds, dtypes and shapes repeat across thousands of rows.
 */
export interface DictColumn<T> {
  values: T[];
  index: WireArray; // uint8 or uint32 [n]
}

/** `_summary.layer_columns`: the layers as columns, root excluded, named_modules() order. */
export interface LayerColumns {
  n: number;
  path: string[] | string; // the list, or its JSON text
  name: string[] | string;
  parent: WireArray; // int32 [n]: parent row, -1 = the root
  // Counts: any numeric dtype (the kernel sends uint32 when they fit, else float64).
  depth: WireArray;
  calls: WireArray;
  params: WireArray;
  own_params: WireArray;
  trainable_params: WireArray;
  macs: WireArray; // float64 [n]: NaN = not counted yet
  shared: number[]; // rows that hold a parameter another module also holds
  kind: DictColumn<string>;
  param_formula: DictColumn<string>;
  // One shape per row: a dictionary column, or the per-row list (or its JSON text).
  input_shape: DictColumn<Shape | null> | (Shape | null)[] | string;
  output_shape: DictColumn<Shape | null> | (Shape | null)[] | string;
  status?: DictColumn<string>; // Layer.status; absent from older kernels (read as "")
}

/** `_summary` as the kernel sends it; core/columns.ts turns it into a Summary. */
export type SummaryWire = Omit<Summary, "layers"> & { layer_columns: LayerColumns };

/** `_params`: the static facts of every tensor, sent at construction and on an explicit refresh. */
export interface ParamColumns {
  n: number;
  // Nested lists, each as a list or as its JSON text (cheaper for ipywidgets to walk).
  names: string[][] | string;
  owners: string[][] | string;
  shape: number[][] | string;
  numel: WireArray; // [n], uint32 or float64
  dtype: DictColumn<string>;
  device: DictColumn<string>;
  frozen: number[]; // ids (rows) whose trainable is false
  note?: DictColumn<string>; // "" for a plain tensor (absent from kernels before it existed)
}

/** `_param_stats`: the statistics of the tensors of `_params`, on every refresh. */
export interface ParamStats {
  version: number;
  stats: WireArray; // float32 [n, 4]: mean, std, min, max (NaN = none)
  nonfinite: WireArray | null; // uint32 [n, 2]: NaN count, Inf count; null when all are 0
  sampled: number[]; // ids whose statistics come from a strided sample
}

/** `_hist`: histograms of the tensors some view watches (hist_watch), not of all of them. */
export interface Histograms {
  bins: number;
  version: number; // bumps on every refresh
  step: number | null; // training step of this snapshot (null outside training)
  ids: number[]; // tensor ids of the rows below, in order
  counts: WireArray; // uint32 [ids.length, bins]
  range: WireArray; // float64 [ids.length, 2]: lo, hi (lo == hi: constant tensor)
}

export interface ProgressBar {
  id: number;
  level: number;
  run?: number; // id of the outermost bar of the loop it belongs to (absent in older states: one run)
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

/**
 * `_metrics`: the points logged since the previous message only. `seq` counts messages within
 * one `reset`; a new `reset` (the user cleared the history) drops everything before it.
 */
export interface MetricsDelta {
  reset: number;
  seq: number;
  series: Record<string, MetricSeries>;
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
  flags?: Record<string, DiagnosticFlag[]>; // tree path -> its flags (training/diagnostics.py layer_flags)
}

/** A module's diagnostic flag (FLAGS in src/modelpanel/training/diagnostics.py). */
export type DiagnosticFlag =
  | "dead"
  | "vanishing"
  | "exploding"
  | "nonfinite_weights"
  | "nonfinite_grads"
  | "nonfinite_activations";

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
  batch_size?: number | null; // null: unknown (a DataLoader without one)
  source?: "panel.evaluate" | "run"; // code, or the view's Run button
  finished_at?: string; // kernel local time, ISO 8601 with offset: "2024-05-01T14:02:31+02:00"
}

/** Custom message the inference view sends; answered by {kind: "evaluate_reply", id, ok, error?}. */
export interface EvaluateRequest {
  kind: "evaluate";
  id: string;
  device: string;
  batch_size: number;
}

/** Custom message of the MACs card's button; the count arrives through `_summary` before the
 * reply `{kind: "count_macs_reply", id, ok, macs?, error?}`. */
export interface CountMacsRequest {
  kind: "count_macs";
  id: string;
}

/** hist_watch's reply: the current histograms of the watched ids (JSON lists, small). */
export interface HistWatchReply extends Reply {
  bins: number;
  ids: number[];
  counts: number[][]; // one row of `bins` counts per id
  range: number[][]; // [lo, hi] per id
}

/** hist_history's reply: every snapshot of one tensor, oldest first. */
export interface HistHistoryReply extends Reply {
  tensor: number;
  bins: number;
  steps: number[];
  counts: number[][]; // one row of `bins` counts per step
  range: number[][]; // [lo, hi] per step
}

/** metrics_history's reply: the whole (kernel-bounded) history, to continue appending from `seq`. */
export interface MetricsHistoryReply extends Reply {
  reset: number;
  seq: number;
  series: Record<string, { step: number[]; value: number[]; epoch_level: boolean }>;
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
  _summary: SummaryWire | Record<string, never> | null;
  _params: ParamColumns | Record<string, never> | null;
  _param_stats: ParamStats | Record<string, never> | null;
  _hist: Histograms | Record<string, never> | null;
  _error: string | null;
  _language: string | null; // "en", "zh-CN", or "" = the host's display language (core/i18n.ts)
  _progress: ProgressBar[] | null;
  _metrics: MetricsDelta | Record<string, never> | null;
  _diagnostics: Diagnostics | null; // all fields optional: {} until the first refresh
  _devices: string[] | null;
  _eval_data: EvalData | null;
  _eval_result: EvalResult | null;
  _eval_running: boolean | null; // true while an evaluation runs (from the view or from code)
  _macs_progress: { done: number; total: number } | null; // while the MAC pass runs: module calls done / expected
  _job: JobState | null; // a torch.distributed job forked from the kernel; null: one process
}

/** _job: the distributed job as rank 0 last reported it (src/modelpanel/panel/job.py). */
export interface JobState {
  world_size: number | null; // null when a rank failed before the first report
  backend: string | null; // "gloo", "nccl"
  state: "running" | "done" | "failed";
  step: number | null; // the last logged step
  unit: string; // the innermost bar's unit ("it")
  rates: (number | null)[]; // steps/s of each rank (its innermost bar's tqdm rate)
  slowest: number | null; // the rank with the lowest rate (null for fewer than two rates)
  metrics: Record<string, (number | null)[]>; // each rank's latest value of each metric
  grad_norm: number | null; // global L2 norm of the full gradients (grad_norms watched)
  failure: { rank: number; type: string; message: string } | null;
}

/** Synced traits of ProgressLine (src/modelpanel/panel/progress_line.py): one loop's bars in its cell. */
export interface ProgressLineModel {
  _progress: ProgressBar[] | null; // the records of this run only, as the panel has them
  _language: string | null; // the panel's `_language`
}
