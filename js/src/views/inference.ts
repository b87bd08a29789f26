// Eval-mode inference view: device picker, batch size, Run button; then accuracy, confusion
// matrix (Plotly heatmap), per-class table, device and throughput.
//
// Run sends {kind: "evaluate", device, batch_size} through ctx.send and waits for the reply
// with the same id; the result itself arrives through `_eval_result`, which is also how
// results of panel.evaluate(...) called from code show here. Errors appear next to Run.
// Every model string goes in through textContent; Plotly gets escaped labels only.
//
// Stable class names: .mp-eval-device (select), .mp-eval-batch (input), .mp-eval-run (button),
// .mp-eval-status, .mp-eval-error, .mp-eval-data, .mp-eval-summary, .mp-eval-accuracy,
// .mp-eval-throughput, .mp-eval-device-used, .mp-eval-confusion, .mp-eval-classes,
// .mp-eval-origin (where the shown result came from, and when), .mp-eval-batch-used,
// .mp-eval-seconds, .mp-eval-when (summary items).
//
// While an evaluation runs (this view's request, or `_eval_running` from code) Run is disabled
// and reads "Running…"; the result's own time (finished_at) is the sign that a run happened,
// also when two runs give equal numbers.

import type { AnyModel } from "@anywidget/types";
import type { ViewContext } from "../core/context";
import { h } from "../core/dom";
import Plotly from "../core/plotly";
import { colorscale, themeOf, withTheme } from "../core/theme";
import {
  type EvalResultState,
  confusionFigure,
  describeData,
  describeOrigin,
  heatmapSpec,
  parseBatchSize,
  perClassRows,
  pickDevice,
  summaryItems,
} from "../logic/inference";
import type { Model } from "../model";

/** Mount the inference section into `root`; returns its cleanup. */
export function mountInference(root: HTMLElement, model: AnyModel<Model>, ctx: ViewContext): () => void {
  const { t } = ctx;
  const title = h("div", "mp-eval-title", t("eval.title"));

  const device = h("select", "mp-eval-device");
  device.setAttribute("aria-label", t("eval.device"));
  const batch = h("input", "mp-eval-batch");
  batch.type = "number";
  batch.min = "1";
  batch.step = "1";
  batch.value = "256";
  batch.setAttribute("aria-label", t("eval.batchSize"));
  const run = h("button", "mp-eval-run", t("eval.run"));
  run.type = "button";
  const status = h("span", "mp-eval-status");
  const error = h("span", "mp-eval-error");
  error.setAttribute("role", "alert");
  const deviceLabel = h("label", "", `${t("eval.device")} `);
  deviceLabel.appendChild(device);
  const batchLabel = h("label", "", `${t("eval.batchSize")} `);
  batchLabel.appendChild(batch);
  const toolbar = h("div", "mp-toolbar");
  toolbar.append(deviceLabel, batchLabel, run, status, error);

  const dataLine = h("div", "mp-eval-data mp-hint");
  const origin = h("div", "mp-eval-origin");
  origin.setAttribute("aria-live", "polite");
  const summary = h("dl", "mp-eval-summary");
  const plot = h("div", "mp-eval-confusion");
  const table = h("table", "mp-eval-classes");
  const body = h("div", "mp-eval-body");
  body.append(plot, table);
  root.replaceChildren(title, toolbar, dataLine, origin, summary, body);

  const theme = themeOf(ctx, root);
  let pending = false; // a request of THIS view is in flight
  let plotted = false;

  function renderDevices() {
    const devices = model.get("_devices") ?? [];
    const chosen = pickDevice(devices, device.value || null);
    const current = Array.from(device.options).map((o) => o.value);
    if (current.join("\n") !== devices.join("\n")) {
      device.replaceChildren(
        ...devices.map((d) => {
          const opt = h("option", "", d);
          opt.value = d;
          return opt;
        }),
      );
    }
    if (chosen !== null) device.value = chosen;
  }

  function renderData() {
    const data = model.get("_eval_data");
    dataLine.textContent = describeData(data, Boolean(model.get("_eval_result")), t);
    updateButton();
  }

  function updateButton() {
    const running = pending || Boolean(model.get("_eval_running"));
    run.disabled = running || !model.get("_eval_data");
    run.textContent = t(running ? "eval.runningButton" : "eval.run");
    run.setAttribute("aria-busy", String(running));
    status.textContent = running ? t("eval.runningStatus") : "";
  }

  function renderResult() {
    const r = model.get("_eval_result");
    origin.textContent = describeOrigin(r, new Date(), t);
    origin.hidden = !r;
    origin.title = r?.finished_at ?? "";
    renderData();
    if (!r) {
      summary.replaceChildren();
      table.replaceChildren();
      if (plotted) Plotly.purge(plot);
      plotted = false;
      return;
    }
    summary.replaceChildren(
      ...summaryItems(r, t).map(([key, label, value]) => {
        const css = key === "device" ? "device-used" : key === "batch" ? "batch-used" : key;
        const item = h("div", `mp-eval-item mp-eval-${css}`);
        item.append(h("dt", "", label), h("dd", "", value));
        return item;
      }),
    );
    renderTable(r);
    let fig = null;
    try {
      fig = confusionFigure(r);
    } catch (err) {
      error.textContent = t("eval.confusionError", { error: (err as Error).message });
    }
    if (fig) {
      const spec = heatmapSpec(fig, t);
      const colours = theme.get();
      const data = spec.data.map((trace) => ({ ...trace, colorscale: colorscale(colours) }));
      void Plotly.react(plot, data, withTheme(spec.layout, colours), { displayModeBar: false, responsive: false });
      plotted = true;
    } else if (plotted) {
      Plotly.purge(plot);
      plotted = false;
    }
  }

  function renderTable(r: EvalResultState) {
    const rows = perClassRows(r);
    if (!rows.length) {
      table.replaceChildren();
      return;
    }
    const head = h("tr");
    for (const key of ["eval.colClass", "eval.colPrecision", "eval.colRecall", "eval.colSupport"]) head.appendChild(h("th", "", t(key)));
    const tbody = h("tbody");
    for (const cells of rows) {
      const tr = h("tr", "mp-eval-class-row");
      for (const text of cells) tr.appendChild(h("td", "", text));
      tbody.appendChild(tr);
    }
    const thead = h("thead");
    thead.appendChild(head);
    table.replaceChildren(thead, tbody);
  }

  const onRun = () => {
    const parsed = parseBatchSize(batch.value, t);
    if ("error" in parsed) {
      error.textContent = parsed.error;
      return;
    }
    error.textContent = "";
    pending = true;
    updateButton();
    ctx.send({ kind: "evaluate", device: device.value, batch_size: parsed.value }, (reply) => {
      pending = false;
      error.textContent = reply.ok ? "" : reply.error || t("eval.failedNoMessage");
      updateButton();
    });
  };
  ctx.listen(run, "click", onRun);

  renderDevices();
  renderData();
  renderResult();
  ctx.on("change:_devices", () => ctx.schedule(renderDevices));
  ctx.on("change:_eval_data", () => ctx.schedule(renderData));
  ctx.on("change:_eval_running", () => ctx.schedule(updateButton));
  ctx.on("change:_eval_result", () => ctx.schedule(renderResult));
  const unsubscribeTheme = theme.subscribe(() => ctx.schedule(renderResult));

  return () => {
    unsubscribeTheme();
    if (plotted) Plotly.purge(plot);
    root.replaceChildren();
  };
}
