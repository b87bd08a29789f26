// The histograms of one render: the kernel sends counts only for the tensors some view
// watches, so this keeps them by tensor id, from the `_hist` snapshots and the hist_watch
// replies, and is the ONE sender of hist_watch: the union of the ids the views put in the
// store's `watched`, sent when it changes (and once at mount), coalesced to one message a frame.

import type { AnyModel } from "@anywidget/types";
import { type HistRow, decodeHist, replyRows } from "../logic/histograms";
import type { Histograms, HistWatchReply, Model } from "../model";
import type { ViewContext } from "./context";
import { type Store, watchedIds } from "./store";

/** A row with `rev`, which changes whenever its counts do (redraw keys). */
export interface KeptRow extends HistRow {
  rev: number;
}

/** What a `_hist` snapshot brought; subscribers get null for a hist_watch reply. */
export interface Snapshot {
  step: number | null;
  ids: number[];
}

export interface Hists {
  /** The latest histogram of tensor `id`, or undefined while the kernel has not sent it. */
  row(id: number): KeptRow | undefined;
  /** Why the last `_hist` could not be read; "" when it could. */
  readonly error: string;
  /** Call `fn` after every change of the rows; returns the unsubscribe. */
  subscribe(fn: (snapshot: Snapshot | null) => void): () => void;
  /** Tell the kernel this render watches nothing any more. */
  dispose(): void;
}

let tokens = 0;

export function createHists(model: AnyModel<Model>, ctx: ViewContext, store: Store): Hists {
  // Identifies this render to the kernel, which keeps one watch set per view of the widget.
  tokens += 1;
  const token = `view-${Date.now().toString(36)}-${tokens}-${Math.random().toString(36).slice(2)}`;
  const rows = new Map<number, KeptRow>();
  const subs = new Set<(s: Snapshot | null) => void>();
  let rev = 0;
  let error = "";
  let sent: string | null = null;
  let watched = new Set<number>();

  const notify = (s: Snapshot | null) => {
    for (const fn of Array.from(subs)) fn(s);
  };

  const readTrait = (): Snapshot | null => {
    const raw = model.get("_hist") as Histograms | null;
    if (!raw || !raw.counts) return null;
    try {
      const d = decodeHist(raw);
      error = "";
      d.ids.forEach((id, k) => rows.set(id, { ...(d.rows[k] as HistRow), rev: ++rev }));
      return { step: d.step, ids: d.ids };
    } catch (err) {
      error = `Cannot read the histograms: ${(err as Error).message}`;
      return null;
    }
  };

  const onReply = (reply: HistWatchReply) => {
    if (!reply.ok) return; // the next `_hist` brings them anyway
    for (const [id, row] of replyRows(reply)) {
      // An answer to an older watch set: keep only what is still watched.
      if (watched.has(id)) rows.set(id, { ...row, rev: ++rev });
    }
    notify(null);
  };

  const sendWatch = () => {
    const ids = watchedIds(store.get());
    const key = ids.join(",");
    if (key === sent) return;
    sent = key;
    watched = new Set(ids);
    // Rows nobody watches are not refreshed by the kernel any more: drop them, stale and unbounded.
    for (const id of Array.from(rows.keys())) if (!watched.has(id)) rows.delete(id);
    ctx.send({ kind: "hist_watch", view: token, ids }, (r) => onReply(r as HistWatchReply));
  };

  readTrait();
  // The views pick their ids in their first frame; sending one frame later makes the message at
  // mount carry them, rather than an empty set followed by the real one.
  ctx.schedule(() => ctx.schedule(sendWatch));
  const unsubscribe = store.subscribe(() => ctx.schedule(sendWatch), ["watched"]);
  ctx.on("change:_hist", () => {
    const snapshot = readTrait();
    notify(snapshot);
  });

  return {
    row: (id) => rows.get(id),
    get error() {
      return error;
    },
    subscribe(fn) {
      subs.add(fn);
      return () => subs.delete(fn);
    },
    dispose() {
      unsubscribe();
      subs.clear();
      if (sent !== null && sent !== "") ctx.send({ kind: "hist_watch", view: token, ids: [] }, () => {});
    },
  };
}
