// The header's stat cards as label / value / tooltip text. views/header.ts renders them.

import { MISSING, formatBytes, formatCompact, formatInt } from "../core/format";
import type { Summary } from "../model";

export interface HeaderItem {
  key: string; // data-key on the element, for tests
  label: string;
  value: string;
  title: string;
  note?: string; // a short line under the value, e.g. what a count leaves out
}

/** The MACs card: the count, and the ops it leaves out (no FLOP formula) when there are any. */
function macsItem(s: Summary): HeaderItem {
  const item = { key: "macs", label: "MACs" };
  if (s.macs === null || s.macs === undefined) return { ...item, value: MISSING, title: "not counted yet" };
  const title = `${formatInt(s.macs)} multiply-accumulates per forward`;
  const excluded = s.macs_excluded ?? [];
  if (!excluded.length) return { ...item, value: formatCompact(s.macs), title };
  return {
    ...item,
    value: formatCompact(s.macs),
    title: `${title}\nMACs exclude: ${excluded.join(", ")} (no formula)`,
    note: `excludes ${excluded.length} op${excluded.length > 1 ? "s" : ""}`,
  };
}

/** The header's items for a summary (pure: tested without a DOM). */
export function headerItems(s: Summary): HeaderItem[] {
  const count = (n: number) => ({ value: formatCompact(n), title: `${formatInt(n)} parameters` });
  return [
    { key: "total", label: "parameters", ...count(s.total_params) },
    { key: "trainable", label: "trainable", ...count(s.trainable_params) },
    { key: "non-trainable", label: "non-trainable", ...count(s.non_trainable_params) },
    { key: "param-bytes", label: "param memory", value: formatBytes(s.param_bytes), title: `${formatInt(s.param_bytes)} bytes` },
    { key: "buffer-bytes", label: "buffers", value: formatBytes(s.buffer_bytes), title: `${formatInt(s.buffer_bytes)} bytes` },
    macsItem(s),
    { key: "devices", label: s.devices?.length > 1 ? "devices" : "device", value: (s.devices ?? []).join(", ") || MISSING, title: "" },
    { key: "dtypes", label: s.dtypes?.length > 1 ? "dtypes" : "dtype", value: (s.dtypes ?? []).join(", ") || MISSING, title: "" },
    { key: "mode", label: "mode", value: s.training ? "train" : "eval", title: "The root module's training flag" },
  ];
}
