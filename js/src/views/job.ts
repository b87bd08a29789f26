// The distributed job (issue 14): a compact block under the header, shown whatever tab is open
// and only while `_job` is set (ranks forked from the kernel used the panel). One line of
// figures (world size, backend, state, global step, global gradient norm), a table with one row
// per rank (its steps/s as a figure and a bar relative to the fastest rank, the slowest rank
// marked in words and colour, each rank's latest value of every logged metric: the charts show
// the means), and the failure line (rank, exception, message) once a rank failed.
//
// Stable class names (browser tests rely on them): .mp-job[data-state], .mp-job-items,
// .mp-job-item[data-key] (dt label, dd value), .mp-job-ranks, tr.mp-job-rank[data-rank],
// .mp-job-slowest (that row), .mp-job-rate, .mp-job-track > .mp-job-bar (width: rate / fastest),
// .mp-job-badge ("slowest"), .mp-job-failure

import type { AnyModel } from "@anywidget/types";
import type { ViewContext } from "../core/context";
import { h } from "../core/dom";
import type { Translate } from "../core/i18n";
import { type JobTable, jobFailure, jobItems, jobTable } from "../logic/job";
import type { JobState, Model } from "../model";

/** Mount the job view into `root` (.mp-job); returns its cleanup. */
export function mountJob(root: HTMLElement, model: AnyModel<Model>, ctx: ViewContext): () => void {
  root.setAttribute("aria-label", ctx.t("job.title"));
  const draw = () => {
    const job = model.get("_job");
    root.hidden = !job;
    if (!job) {
      root.replaceChildren();
      delete root.dataset.state;
      return;
    }
    root.dataset.state = job.state;
    root.replaceChildren(items(job, ctx.t), ranks(jobTable(job), ctx.t), ...failure(job, ctx.t));
  };
  draw();
  ctx.on("change:_job", () => ctx.schedule(draw));
  return () => root.replaceChildren();
}

function items(job: JobState, t: Translate): HTMLElement {
  const list = h("dl", "mp-job-items");
  list.appendChild(h("span", "mp-job-title", t("job.title")));
  for (const item of jobItems(job, t)) {
    const cell = list.appendChild(h("div", "mp-job-item"));
    cell.dataset.key = item.key;
    cell.append(h("dt", "", item.label), h("dd", "", item.value));
  }
  return list;
}

function ranks(table: JobTable, t: Translate): HTMLElement {
  const el = h("table", "mp-job-ranks");
  const head = h("tr");
  const th = (text: string, title = "") => {
    const cell = head.appendChild(h("th", "", text));
    cell.scope = "col";
    if (title) cell.title = title;
  };
  th(t("job.rank"));
  th(t("job.rate"), t("job.rateTitle"));
  th("");
  for (const name of table.metrics) th(name, t("job.metricTitle"));
  el.appendChild(h("thead")).appendChild(head);
  const body = el.appendChild(h("tbody"));
  for (const row of table.rows) {
    const tr = body.appendChild(h("tr", row.slowest ? "mp-job-rank mp-job-slowest" : "mp-job-rank"));
    tr.dataset.rank = String(row.rank);
    tr.appendChild(h("td", "mp-num", String(row.rank)));
    tr.appendChild(h("td", "mp-num mp-job-rate", row.rate));
    const meter = tr.appendChild(h("td", "mp-job-meter"));
    const bar = meter.appendChild(h("span", "mp-job-track")).appendChild(h("span", "mp-job-bar"));
    bar.style.width = `${(100 * row.fraction).toFixed(1)}%`;
    if (row.slowest) {
      const badge = meter.appendChild(h("span", "mp-job-badge", t("job.slowest")));
      badge.title = t("job.slowestTitle");
    }
    for (const value of row.metrics) tr.appendChild(h("td", "mp-num", value));
  }
  return el;
}

function failure(job: JobState, t: Translate): HTMLElement[] {
  const text = jobFailure(job, t);
  if (!text) return [];
  const line = h("div", "mp-job-failure", text);
  line.setAttribute("role", "alert");
  return [line];
}
