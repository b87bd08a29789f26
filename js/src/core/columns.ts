// The column traits (`_summary.layer_columns`, `_params` + `_param_stats`) decoded into the row
// objects the views read (Layer[], ParamRecord[]). Columns keep a 2,000-layer model's state
// small on the wire; rows keep the views simple. Each decode is cached on the identity of the
// trait values, so the header, the tree, the table and the histograms of one update share one
// decode (every kernel message brings new objects, so a stale cache cannot be hit).

import { decodeArray, type NumericArray, type WireArray } from "./decode";
import type { DictColumn, Layer, LayerColumns, Model, ParamColumns, ParamRecord, ParamStats, Summary, SummaryWire } from "../model";

function numbers(w: WireArray, n: number, what: string): NumericArray {
  const d = decodeArray(w).data;
  if (d.length < n) throw new RangeError(`${what}: ${d.length} values for ${n} rows`);
  return d;
}

/** Row i's value of a dictionary column: `values[index[i]]`. */
export function dictColumn<T>(col: DictColumn<T>, n: number, what: string): T[] {
  const index = numbers(col.index, n, what);
  const values = col.values ?? [];
  const out = new Array<T>(n);
  for (let i = 0; i < n; i++) {
    const k = index[i] as number;
    if (k >= values.length) throw new RangeError(`${what}: row ${i} points at value ${k} of ${values.length}`);
    out[i] = values[k] as T;
  }
  return out;
}

/**
 * A list the kernel may send as one JSON text: ipywidgets walks every list of a state looking
 * for buffers, and thousands of small nested lists cost more to walk than one string to parse.
 */
export function listOf<T>(value: T[] | string | null | undefined, n: number, what: string): T[] {
  const list = typeof value === "string" ? (JSON.parse(value) as unknown) : value;
  if (!Array.isArray(list)) throw new TypeError(`${what}: expected a list or its JSON text`);
  if (list.length < n) throw new RangeError(`${what}: ${list.length} values for ${n} rows`);
  return list as T[];
}

/** A per-row column sent as a dictionary column, a list, or the list's JSON text. */
function perRow<T>(col: DictColumn<T> | T[] | string, n: number, what: string): T[] {
  if (col && typeof col === "object" && !Array.isArray(col)) return dictColumn(col, n, what);
  return listOf(col as T[] | string, n, what);
}

/** NaN (the wire's "unknown") -> null. */
function orNull(x: number | undefined): number | null {
  return x === undefined || Number.isNaN(x) ? null : x;
}

/** The layers of `layer_columns` as rows (parent -1 -> "", the root; macs NaN -> null). */
export function decodeLayers(c: LayerColumns): Layer[] {
  const n = Number(c.n) || 0;
  const path = listOf<string>(c.path ?? [], n, "layer_columns.path");
  const name = listOf<string>(c.name ?? [], n, "layer_columns.name");
  const parent = numbers(c.parent, n, "parent");
  const depth = numbers(c.depth, n, "depth");
  const calls = numbers(c.calls, n, "calls");
  const params = numbers(c.params, n, "params");
  const own = numbers(c.own_params, n, "own_params");
  const trainable = numbers(c.trainable_params, n, "trainable_params");
  const macs = numbers(c.macs, n, "macs");
  const kind = dictColumn(c.kind, n, "kind");
  const formula = dictColumn(c.param_formula, n, "param_formula");
  const status = c.status ? dictColumn(c.status, n, "status") : null;
  const input = perRow(c.input_shape, n, "input_shape");
  const output = perRow(c.output_shape, n, "output_shape");
  const shared = new Set(c.shared ?? []);
  const layers = new Array<Layer>(n);
  for (let i = 0; i < n; i++) {
    const p = parent[i] as number;
    layers[i] = {
      path: path[i] as string,
      name: name[i] as string,
      kind: kind[i] as string,
      depth: depth[i] as number,
      parent: p >= 0 && p < n ? (path[p] as string) : "",
      input_shape: input[i] ?? null,
      output_shape: output[i] ?? null,
      calls: calls[i] as number,
      params: params[i] as number,
      own_params: own[i] as number,
      trainable_params: trainable[i] as number,
      macs: orNull(macs[i]),
      shared: shared.has(i),
      param_formula: formula[i] ?? "",
      status: status?.[i] ?? "",
    };
  }
  return layers;
}

/** `_summary` with its layer columns as rows; null while the kernel has sent none. */
export function decodeSummary(value: Model["_summary"]): Summary | null {
  const wire = value as SummaryWire | null | undefined;
  if (!wire || !wire.layer_columns) return null;
  const { layer_columns, ...rest } = wire;
  return { ...rest, layers: decodeLayers(layer_columns) };
}

const summaries = new WeakMap<object, Summary | null>();

/** decodeSummary, once per `_summary` value; a malformed one reads as none (the views say so). */
export function summaryOf(value: Model["_summary"]): Summary | null {
  if (!value || typeof value !== "object") return null;
  let s = summaries.get(value);
  if (s === undefined) {
    try {
      s = decodeSummary(value);
    } catch {
      s = null;
    }
    summaries.set(value, s);
  }
  return s;
}

/**
 * The records of `_params` with the statistics of `_param_stats`. Statistics of a different
 * row count (the kernel sent one trait and the other is on its way) read as missing: nulls and
 * zero counts, never another tensor's numbers.
 */
export function decodeParams(params: Model["_params"], stats: Model["_param_stats"]): ParamRecord[] {
  const p = params as ParamColumns | null | undefined;
  if (!p || !p.numel) return [];
  const n = Number(p.n) || 0;
  const numel = numbers(p.numel, n, "numel");
  const dtype = dictColumn(p.dtype, n, "dtype");
  const device = dictColumn(p.device, n, "device");
  const frozen = new Set(p.frozen ?? []);
  const names = listOf(p.names, n, "names");
  const owners = listOf(p.owners, n, "owners");
  const shapes = listOf(p.shape, n, "shape");
  const notes = p.note ? dictColumn(p.note, n, "note") : null;
  let st: NumericArray | null = null;
  let nf: NumericArray | null = null;
  let sampled = new Set<number>();
  const s = stats as ParamStats | null | undefined;
  if (s && s.stats) {
    const a = decodeArray(s.stats);
    // No `nonfinite` buffer: the kernel found no NaN/Inf anywhere (every count is 0).
    const b = s.nonfinite ? decodeArray(s.nonfinite) : null;
    if (a.shape[0] === n && a.data.length === 4 * n && (!b || (b.shape[0] === n && b.data.length === 2 * n))) {
      st = a.data;
      nf = b ? b.data : null;
      sampled = new Set(s.sampled ?? []);
    }
  }
  const out = new Array<ParamRecord>(n);
  for (let i = 0; i < n; i++) {
    out[i] = {
      id: i,
      names: names[i] ?? [],
      owners: owners[i] ?? [],
      shape: shapes[i] ?? [],
      numel: numel[i] as number,
      dtype: dtype[i] as string,
      device: device[i] as string,
      trainable: !frozen.has(i),
      mean: st ? orNull(st[4 * i]) : null,
      std: st ? orNull(st[4 * i + 1]) : null,
      min: st ? orNull(st[4 * i + 2]) : null,
      max: st ? orNull(st[4 * i + 3]) : null,
      nan: nf ? (nf[2 * i] as number) : 0,
      inf: nf ? (nf[2 * i + 1] as number) : 0,
      sampled: sampled.has(i),
    };
    const note = notes?.[i];
    if (note) (out[i] as ParamRecord).note = note;
  }
  return out;
}

const records = new WeakMap<object, { stats: unknown; rows: ParamRecord[] }>();
const EMPTY: ParamRecord[] = [];

/** decodeParams, once per (`_params`, `_param_stats`) pair; a malformed pair reads as no rows. */
export function paramsOf(params: Model["_params"], stats: Model["_param_stats"]): ParamRecord[] {
  if (!params || typeof params !== "object") return EMPTY;
  const hit = records.get(params);
  if (hit && hit.stats === stats) return hit.rows;
  let rows: ParamRecord[];
  try {
    rows = decodeParams(params, stats);
  } catch {
    rows = EMPTY;
  }
  records.set(params, { stats, rows });
  return rows;
}

/** The records of a model's current `_params` and `_param_stats`. */
export function recordsOf(model: { get<K extends keyof Model>(key: K): Model[K] }): ParamRecord[] {
  return paramsOf(model.get("_params"), model.get("_param_stats"));
}
