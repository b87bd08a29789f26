// Test helpers: a model object with anywidget's AnyModel surface (get/set/on/off/send), the
// real kernel state of two models dumped from ModelPanel (fixtures/*.json, made by
// tests/support/make_js_fixtures.py from ModelPanel(IrisMLP()/HostileNames(), input_size=(1, 4))
// with torch.manual_seed(0)), encoders
// from rows (Layer, ParamRecord) to the column traits the kernel sends, and the harness the
// view tests share (mountView, a recording Plotly).

import type { AnyModel } from "@anywidget/types";
import { vi } from "vitest";
import { type ViewContext, createContext } from "../src/core/context";
import { decodeParams } from "../src/core/columns";
import type { WireArray, WireDtype } from "../src/core/decode";
import type {
  DictColumn,
  Diagnostics,
  Histograms,
  JobState,
  Layer,
  LayerColumns,
  MetricsDelta,
  Model,
  ParamColumns,
  ParamRecord,
  ParamStats,
  Summary,
  SummaryWire,
} from "../src/model";
import hostileJson from "./fixtures/hostile.json";
import irisJson from "./fixtures/iris.json";

/** A name that would become markup if any view used innerHTML. */
export const HOSTILE = "<img src=x onerror=alert(1)>";

type Handler = (...args: unknown[]) => void;

export class FakeModel {
  state: Record<string, unknown>;
  handlers = new Map<string, Set<Handler>>();
  sent: unknown[] = [];
  constructor(state: Partial<Record<keyof Model, unknown>>) {
    this.state = { ...state };
  }
  get(key: string): unknown {
    return this.state[key];
  }
  set(key: string, value: unknown): void {
    this.state[key] = value;
    this.emit(`change:${key}`);
  }
  save_changes(): void {}
  send(msg: unknown): void {
    this.sent.push(msg);
  }
  on(event: string, fn: Handler): void {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event)?.add(fn);
  }
  off(event?: string | null, fn?: Handler | null): void {
    if (!event) this.handlers.clear();
    else if (fn) this.handlers.get(event)?.delete(fn);
    else this.handlers.delete(event);
  }
  emit(event: string, ...args: unknown[]): void {
    for (const fn of Array.from(this.handlers.get(event) ?? [])) fn(...args);
  }
  listenerCount(): number {
    let n = 0;
    for (const s of this.handlers.values()) n += s.size;
    return n;
  }
  asModel(): AnyModel<Model> {
    return this as unknown as AnyModel<Model>;
  }
}

/** The fixtures store binary buffers as {"__b64__": ...}; turn them into DataViews (offset 8 in a larger buffer, as a real message would). */
function revive(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(revive);
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (typeof o.__b64__ === "string") {
      const bin = Buffer.from(o.__b64__, "base64");
      const buf = new ArrayBuffer(bin.length + 16);
      new Uint8Array(buf, 8, bin.length).set(bin);
      return new DataView(buf, 8, bin.length);
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, revive(x)]));
  }
  return v;
}

const ARRAYS = { float64: Float64Array, float32: Float32Array, uint32: Uint32Array, int32: Int32Array, uint8: Uint8Array };

/** A wire array as ipywidgets hands it over: a DataView at an offset inside a larger buffer. */
export function wireArray(data: number[], dtype: WireDtype, shape: number[]): WireArray {
  const arr = new ARRAYS[dtype](data);
  const buf = new ArrayBuffer(arr.byteLength + 16);
  new Uint8Array(buf, 8, arr.byteLength).set(new Uint8Array(arr.buffer));
  return { view: new DataView(buf, 8, arr.byteLength), dtype, shape };
}

/** A float64 vector on the wire. */
export function f64(data: number[]): WireArray {
  return wireArray(data, "float64", [data.length]);
}

/** A dictionary column: each distinct value once (compared as JSON), and an index per row. */
export function dictColumn<T>(rows: T[]): DictColumn<T> {
  const values: T[] = [];
  const seen = new Map<string, number>();
  const index = rows.map((v) => {
    const key = JSON.stringify(v);
    let k = seen.get(key);
    if (k === undefined) {
      k = values.length;
      values.push(v);
      seen.set(key, k);
    }
    return k;
  });
  return { values, index: wireArray(index, "uint32", [rows.length]) };
}

/** `layer_columns` for these rows, as the kernel builds them. */
export function layerColumns(layers: Layer[]): LayerColumns {
  const n = layers.length;
  const row = new Map(layers.map((l, i) => [l.path, i]));
  const col = (f: (l: Layer) => number, dtype: WireDtype) => wireArray(layers.map(f), dtype, [n]);
  return {
    n,
    path: layers.map((l) => l.path),
    name: layers.map((l) => l.name),
    parent: col((l) => (l.parent === "" ? -1 : (row.get(l.parent) ?? -1)), "int32"),
    depth: col((l) => l.depth, "int32"),
    calls: col((l) => l.calls, "int32"),
    params: col((l) => l.params, "float64"),
    own_params: col((l) => l.own_params, "float64"),
    trainable_params: col((l) => l.trainable_params, "float64"),
    macs: col((l) => l.macs ?? Number.NaN, "float64"),
    shared: layers.flatMap((l, i) => (l.shared ? [i] : [])),
    kind: dictColumn(layers.map((l) => l.kind)),
    param_formula: dictColumn(layers.map((l) => l.param_formula)),
    input_shape: dictColumn(layers.map((l) => l.input_shape)),
    output_shape: dictColumn(layers.map((l) => l.output_shape)),
    status: dictColumn(layers.map((l) => l.status)),
  };
}

/** `_summary` as the kernel sends it for this summary. */
export function summaryWire(summary: Summary): SummaryWire {
  const { layers, ...rest } = summary;
  return { ...rest, layer_columns: layerColumns(layers) };
}

/** `_params` for these records (the static facts; record i must have id i). */
export function paramColumns(records: ParamRecord[]): ParamColumns {
  return {
    n: records.length,
    names: records.map((r) => r.names),
    owners: records.map((r) => r.owners),
    shape: records.map((r) => r.shape),
    numel: wireArray(records.map((r) => r.numel), "float64", [records.length]),
    dtype: dictColumn(records.map((r) => r.dtype)),
    device: dictColumn(records.map((r) => r.device)),
    frozen: records.flatMap((r, i) => (r.trainable ? [] : [i])),
  };
}

/** `_param_stats` for these records (null statistics travel as NaN). */
export function paramStats(records: ParamRecord[], version = 1): ParamStats {
  const n = records.length;
  const nan = (x: number | null) => (x === null ? Number.NaN : x);
  return {
    version,
    stats: wireArray(records.flatMap((r) => [nan(r.mean), nan(r.std), nan(r.min), nan(r.max)]), "float32", [n, 4]),
    nonfinite: wireArray(records.flatMap((r) => [r.nan, r.inf]), "uint32", [n, 2]),
    sampled: records.flatMap((r, i) => (r.sampled ? [i] : [])),
  };
}

/** A `_hist` snapshot of the tensors `ids`: one counts row and one [lo, hi] per id. */
export function histWire(ids: number[], counts: number[][], range: number[][], step: number | null = null, version = 1): Histograms {
  const bins = counts[0]?.length ?? 0;
  return {
    bins,
    version,
    step,
    ids,
    counts: wireArray(counts.flat(), "uint32", [ids.length, bins]),
    range: wireArray(range.flat(), "float64", [ids.length, 2]),
  };
}

/** A `_metrics` message: the points of each series new since message seq - 1. */
export function metricsDelta(reset: number, seq: number, series: Record<string, [number[], number[], boolean?]>): MetricsDelta {
  return {
    reset,
    seq,
    series: Object.fromEntries(
      Object.entries(series).map(([name, [x, y, epoch]]) => [name, { step: f64(x), value: f64(y), epoch_level: Boolean(epoch) }]),
    ),
  };
}

export function irisState(): Record<string, unknown> {
  return revive(irisJson) as Record<string, unknown>;
}

export function hostileState(): Record<string, unknown> {
  return revive(hostileJson) as Record<string, unknown>;
}

/** The Iris parameters as the views see them (`_params` + `_param_stats` decoded). */
export function irisRecords(): ParamRecord[] {
  const s = irisState();
  return decodeParams(s._params as Model["_params"], s._param_stats as Model["_param_stats"]);
}

/** `_diagnostics` reporting NaN/Inf as the kernel does. */
export function nonfiniteReport(loss: boolean, first_layer: string | null, where: "weights" | "grads" | null): Diagnostics {
  return { nonfinite: { loss, first_layer, where } };
}

/** The Iris parameters with `nan` NaNs in the tensor named `name`. */
export function irisParamsWithNan(name: string, nan = 1): ParamRecord[] {
  return irisRecords().map((r) => (r.names[0] === name ? { ...r, nan } : r));
}

function layer(path: string, parent: string, depth: number, kind: string, params: number, extra: Partial<Layer> = {}): Layer {
  const name = path.split(".").pop() ?? path;
  return {
    path,
    name,
    kind,
    depth,
    parent,
    input_shape: [[1, 16]],
    output_shape: [1, 16],
    calls: 1,
    params,
    own_params: params,
    trainable_params: params,
    macs: null,
    shared: false,
    param_formula: params ? `weight 16×16 = 256 + bias 16 = 16` : "",
    status: "",
    ...extra,
  };
}

/** A summary shaped like the kernel's for nn.Sequential of n Linear(16, 16) (tests/zoo.py linear_stack). */
export function stackSummary(n: number): Summary {
  const layers = Array.from({ length: n }, (_, i) => layer(String(i), "", 1, "Linear", 272));
  return summaryWith(layers);
}

/** A summary with the given layers; totals from the top-level layers. */
export function summaryWith(layers: Layer[]): Summary {
  const total = layers.filter((l) => l.depth === 1).reduce((a, l) => a + l.params, 0);
  return {
    model_kind: "Sequential",
    total_params: total,
    trainable_params: total,
    non_trainable_params: 0,
    param_bytes: 4 * total,
    buffer_bytes: 0,
    input_bytes: 64,
    activation_bytes: 64 * layers.length,
    total_bytes: 0,
    macs: null,
    macs_excluded: null,
    devices: ["cpu"],
    dtypes: ["float32"],
    training: true,
    mode: "eval",
    input_shapes: [[1, 16]],
    root_params: 0,
    layers,
  };
}

/**
 * A nested model: encoder (Sequential) > block0/block1 (Sequential) > fc (Linear) + act (ReLU);
 * head (Linear, frozen); tied (Linear, shared); spare (ModuleList, never called) > x (Linear, never called).
 */
export function nestedSummary(): Summary {
  return summaryWith([
    layer("encoder", "", 1, "Sequential", 544, { param_formula: "" , own_params: 0}),
    layer("encoder.block0", "encoder", 2, "Sequential", 272, { own_params: 0, param_formula: "" }),
    layer("encoder.block0.fc", "encoder.block0", 3, "Linear", 272),
    layer("encoder.block0.act", "encoder.block0", 3, "ReLU", 0),
    layer("encoder.block1", "encoder", 2, "Sequential", 272, { own_params: 0, param_formula: "" }),
    layer("encoder.block1.fc", "encoder.block1", 3, "Linear", 272),
    layer("encoder.block1.act", "encoder.block1", 3, "GELU", 0),
    layer("head", "", 1, "Linear", 272, { trainable_params: 0 }),
    layer("tied", "", 1, "Linear", 272, { shared: true }),
    layer("spare", "", 1, "ModuleList", 272, { calls: 0, own_params: 0, param_formula: "" }),
    layer("spare.0", "spare", 2, "Linear", 272, { calls: 0 }),
  ]);
}

/** Let scheduled (coalesced) work run: the context falls back to a 16 ms timer without rAF. */
export function nextFrame(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 40));
}

/**
 * Plotly as the views see it under happy-dom, which lays out no SVG: calls are recorded, not
 * drawn (the browser suite in tests/e2e draws the real charts). A view test routes the module
 * here with `vi.mock("../../src/core/plotly", async () => ({ default: (await import("../helpers")).plotlyMock }))`.
 */
export const plotlyMock = {
  react: vi.fn(async (el: HTMLElement, ..._rest: unknown[]) => el),
  purge: vi.fn((_el: HTMLElement) => {}),
  register: vi.fn(),
  version: "mock",
};

/** The data (second argument) of Plotly.react's last call. */
export function lastPlotData<T>(): T {
  const calls = plotlyMock.react.mock.calls;
  return calls[calls.length - 1]?.[1] as T;
}

export type Mount = (root: HTMLElement, model: AnyModel<Model>, ctx: ViewContext) => () => void;

/** Mount one view into a fresh element in the document, over a FakeModel holding `state`. */
export function mountView(mount: Mount, state: Record<string, unknown>) {
  const model = new FakeModel(state);
  const ctx = createContext(model.asModel());
  const root = document.createElement("section");
  document.body.appendChild(root);
  const cleanup = mount(root, model.asModel(), ctx);
  return { model, ctx, root, cleanup };
}

/** After each view test: an empty document and a Plotly with no recorded calls. */
export function resetViews(): void {
  document.body.replaceChildren();
  plotlyMock.react.mockClear();
  plotlyMock.purge.mockClear();
}

/** A 2-rank gloo job as the kernel reports it in `_job` (docs/widget-state.md), rank 1 the slower. */
export function jobState(over: Partial<JobState> = {}): JobState {
  return {
    world_size: 2, backend: "gloo", state: "running", step: 29, unit: "it", rates: [74.9, 71.2], slowest: 1,
    metrics: { loss: [0.31, 0.29], acc: [0.5, null] }, grad_norm: 0.236, failure: null, ...over,
  };
}
