// The metric series of one view, kept across `_metrics` messages: each message holds only the
// points new since the previous one (logic/metrics.ts appends them). When a message was missed
// (the view mounted late, the page reloaded) the feed asks the kernel for the whole history
// once, replaces what it holds, and appends again from there.

import type { AnyModel } from "@anywidget/types";
import { type Accumulated, type Series, applyDelta, applyHistory, emptyAccumulated, seriesOf } from "../logic/metrics";
import type { MetricsDelta, MetricsHistoryReply, Model } from "../model";
import type { ViewContext } from "./context";

export interface MetricsFeed {
  /** The kept series, step-level first, each by name. */
  series(): Series[];
}

/** Follow `_metrics` for the lifetime of `ctx`; `onChange` runs after every change of the series. */
export function createMetricsFeed(model: AnyModel<Model>, ctx: ViewContext, onChange: () => void): MetricsFeed {
  const acc: Accumulated = emptyAccumulated();
  let pending: string | null = null;
  // Messages that arrive while the history is on its way. The kernel answers requests only
  // between cells (a running cell holds its message loop), so a view that must wait keeps
  // what arrives meanwhile and applies the part the reply does not cover.
  let held: MetricsDelta[] = [];

  const apply = (delta: MetricsDelta): ReturnType<typeof applyDelta> => {
    try {
      return applyDelta(acc, delta);
    } catch {
      return "gap"; // a malformed message: the history replaces what it would have added
    }
  };

  const requestHistory = () => {
    const id = ctx.send({ kind: "metrics_history" }, (reply) => {
      if (reply.id !== pending) return;
      pending = null;
      const later = held;
      held = [];
      if (!reply.ok) return; // the next gap asks again
      applyHistory(acc, reply as MetricsHistoryReply);
      for (const delta of later) {
        if (apply(delta) === "gap") {
          requestHistory();
          break;
        }
      }
      onChange();
    });
    pending = id;
  };

  const read = (notify: boolean) => {
    const delta = model.get("_metrics") as MetricsDelta | null;
    if (!delta || typeof delta.seq !== "number" || !delta.series) return;
    if (pending !== null) {
      held.push(delta);
      return;
    }
    const outcome = apply(delta);
    if (outcome === "gap") requestHistory();
    // After a gap too: a new `reset` may have emptied the series while the history is on its way.
    if (outcome !== "stale" && notify) onChange();
  };

  read(false); // the caller draws what is there when it mounts
  ctx.on("change:_metrics", () => read(true));
  return { series: () => seriesOf(acc) };
}
