// The distributed job's line and table (pure: no DOM): what views/job.ts writes for `_job`,
// the job as rank 0 last reported it (src/modelpanel/panel/job.py, docs/widget-state.md).

import { MISSING, formatInt, formatStat } from "../core/format";
import { EN, type Translate } from "../core/i18n";
import type { JobState } from "../model";
import { formatRate } from "./progress";

/** One figure of the job's line: a label and its value (data-key on the element, for tests). */
export interface JobItem {
  key: "world" | "backend" | "state" | "step" | "grad_norm";
  label: string;
  value: string;
}

/** One rank's row: its throughput, how it compares with the fastest, its latest metrics. */
export interface RankRow {
  rank: number;
  rate: string; // "74.90 it/s", tqdm's rate_fmt; "—" before the rank's first rate
  fraction: number; // rate / fastest rate, in [0, 1] (0 without a rate): the bar's length
  slowest: boolean;
  metrics: string[]; // in the order of JobTable.metrics
}

export interface JobTable {
  metrics: string[]; // metric names, in the order the kernel sent them
  rows: RankRow[];
}

const STATES: Record<JobState["state"], string> = {
  running: "job.stateRunning",
  done: "job.stateDone",
  failed: "job.stateFailed",
};

/** A step as the log holds it (a float, 29.0): an integer reads as one. */
function formatStep(step: number): string {
  return Number.isInteger(step) ? formatInt(step) : formatStat(step);
}

/** The job's line: world size, backend, state, the last logged step and the global gradient norm. */
export function jobItems(job: JobState, t: Translate = EN): JobItem[] {
  const items: JobItem[] = [
    { key: "world", label: t("job.worldSize"), value: job.world_size === null ? MISSING : formatInt(job.world_size) },
    { key: "backend", label: t("job.backend"), value: job.backend ?? MISSING },
    { key: "state", label: t("job.state"), value: t(STATES[job.state] ?? "job.stateRunning") },
    { key: "step", label: t("job.step"), value: job.step === null ? MISSING : formatStep(job.step) },
  ];
  // Only where gradient norms are watched (the kernel sends none otherwise).
  if (job.grad_norm !== null && job.grad_norm !== undefined) {
    items.push({ key: "grad_norm", label: t("job.gradNorm"), value: formatStat(job.grad_norm) });
  }
  return items;
}

/**
 * One row per rank: steps/s with a bar relative to the fastest rank, the slowest rank (the
 * kernel's `slowest`, named only when two or more ranks have a positive rate), and each rank's latest
 * value of every logged metric. As many rows as the larger of world_size and the rates sent.
 */
export function jobTable(job: JobState): JobTable {
  const rates = job.rates ?? [];
  const n = Math.max(job.world_size ?? 0, rates.length);
  const metrics = Object.keys(job.metrics ?? {});
  const known = rates.filter((r): r is number => r !== null && Number.isFinite(r) && r > 0);
  const fastest = known.length ? Math.max(...known) : 0;
  const rows: RankRow[] = [];
  for (let rank = 0; rank < n; rank++) {
    const rate = rates[rank] ?? null;
    const ok = rate !== null && Number.isFinite(rate) && rate > 0;
    rows.push({
      rank,
      rate: ok ? formatRate(rate, job.unit || "it").trim() : MISSING,
      fraction: ok && fastest > 0 ? Math.min(1, rate / fastest) : 0,
      // Only a measured rate can be the slowest (a rank at 0 it/s has not ticked yet).
      slowest: job.slowest === rank && ok && known.length > 1,
      metrics: metrics.map((name) => {
        const value = job.metrics[name]?.[rank];
        return value === null || value === undefined ? MISSING : formatStat(value);
      }),
    });
  }
  return { metrics, rows };
}

/** "Rank 1 failed: ValueError: …", or "" while no rank has failed. */
export function jobFailure(job: JobState, t: Translate = EN): string {
  const f = job.failure;
  if (!f) return "";
  const error = f.message ? `${f.type}: ${f.message}` : f.type;
  return t("job.failure", { rank: f.rank, error });
}
