// The panel in Simplified Chinese: every word a view writes (text, tooltips, aria-labels,
// placeholders, Plotly titles and hover text) comes from the catalog. The test renders the whole
// widget with `_language: "zh-CN"` in every state that shows text (a forward that ran, training
// with finished and running bars, diagnostics, an evaluation) and fails on any English word left
// once the model's own strings and a short list of code and unit names are taken out: a view
// that sets a literal English string instead of a catalog lookup shows up here.
import { afterEach, describe, expect, it, vi } from "vitest";
import widget from "../../src/widget";
import { renderProgressLine } from "../../src/progressLine";
import { summaryOf } from "../../src/core/columns";
import type { Model, ProgressBar, Summary } from "../../src/model";
import { FakeModel, irisRecords, irisState, jobState, nestedSummary, summaryWire, metricsDelta, nextFrame, plotlyMock as plotly, resetViews, wireArray } from "../helpers";

vi.mock("../../src/core/plotly", async () => ({ default: (await import("../helpers")).plotlyMock }));

/**
 * Words that stay as they are in Chinese text: code the user types (it is Python), units and
 * names of numbers that Chinese course material writes in Latin letters too.
 */
const KEPT = [
  "MACs", "NaN", "Inf", "KiB", "MiB", "GiB", "ms", "min", "top", "Ctrl", "TorchScript", "FlopCounterMode", "torch",
  "requires_grad", "ModelPanel", "Python", "it", "inference_mode", "dtype",
  // Names of activations, layers and initialisations, which Chinese course material keeps too.
  "ReLU", "LeakyReLU", "GELU", "sigmoid", "tanh", "BatchNorm", "LayerNorm", "He", "Kaiming", "log",
  // torch.optim class names (the training-memory card names its optimizer).
  "AdamW",
];

/** Everything a user reads or hears in `el`: text (not the stylesheet) and the attributes that speak. */
function words(el: HTMLElement): string[] {
  const out: string[] = [];
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_ELEMENT);
  for (let node = walker.currentNode as Element | null; node; node = walker.nextNode() as Element | null) {
    if (node.tagName === "STYLE") continue;
    for (const child of Array.from(node.childNodes)) if (child.nodeType === 3) out.push(child.textContent ?? "");
    for (const attr of ["title", "aria-label", "placeholder"]) {
      const v = node.getAttribute(attr);
      if (v) out.push(v);
    }
  }
  // What Plotly was asked to write: axis titles and hover templates.
  for (const call of plotly.react.mock.calls) {
    const [, data, layout] = call as unknown as [unknown, Array<Record<string, unknown>>, Record<string, { title?: { text?: string } }>];
    for (const trace of data ?? []) if (typeof trace.hovertemplate === "string") out.push(trace.hovertemplate);
    for (const axis of ["xaxis", "yaxis"]) {
      const text = layout?.[axis]?.title?.text;
      if (text) out.push(text);
    }
  }
  return out;
}

/** English words left in `texts` once the model's strings, code and KEPT are taken out. */
function englishLeft(texts: string[], modelStrings: string[]): string[] {
  const left = new Set<string>();
  const model = [...modelStrings].sort((a, b) => b.length - a.length);
  for (let text of texts) {
    text = text.replace(/<extra><\/extra>|<br>|%\{[^}]*\}/g, " "); // Plotly's own markup
    for (const s of model) if (s) text = text.split(s).join(" ");
    text = text.replace(/[\w.]+\([^()]*(\([^()]*\))?[^()]*\)/g, " "); // calls: panel.log(loss=loss)
    text = text.replace(/\b\w*[._=]\w[\w.=]*/g, " "); // names with _ . =: panel.error, input_size
    for (const word of text.match(/[A-Za-z]{2,}/g) ?? []) if (!KEPT.includes(word)) left.add(word);
  }
  return [...left];
}

function bar(over: Partial<ProgressBar>): ProgressBar {
  return { id: 1, run: 1, level: 0, desc: "epoch", n: 3, total: 3, unit: "it", rate: 2, elapsed: 1.5, remaining: 0,
    postfix: "loss=0.31", state: "done", error: "", ...over };
}

function fullState(language: string): Record<string, unknown> {
  return {
    ...irisState(),
    _language: language,
    _progress: [bar({}), bar({ id: 2, run: 2, state: "stopped" }), bar({ id: 3, run: 3, n: 1, state: "running", desc: "" })],
    _metrics: metricsDelta(1, 1, { loss: [[1, 2, 3], [1, 0.5, 0.25]], "loss (epoch)": [[1], [0.5], true] }),
    _diagnostics: {
      grad_norms: { fc1: 0.5, "": 1 },
      activations: { relu: { mean: 0.2, std: 0.1, zero_frac: 0.5 } },
      nonfinite: { loss: true, first_layer: "fc2", where: "grads" },
    },
    _job: jobState({ state: "failed", failure: { rank: 1, type: "ValueError", message: "rank one failed on purpose" } }),
    _eval_data: { n: 30, x_shape: [30, 4], has_targets: true },
    _eval_result: {
      n: 30, device: "cpu", seconds: 0.002, samples_per_s: 15000, mode: "inference_mode", batch_size: 256,
      accuracy: 0.9, topk_accuracy: 1, topk_k: 2, metric: null, metric_name: null, loss: 0.3, source: "run",
      finished_at: "2024-05-01T14:02:31+08:00",
      classes: ["setosa", "versicolor", "virginica"],
      confusion: wireArray([10, 0, 0, 0, 9, 1, 0, 2, 8], "int32", [3, 3]),
      per_class: [{ label: "setosa", precision: 1, recall: 1, support: 10 }],
    },
  };
}

/** The model's own strings in the Iris state: names, kinds, shapes' text, devices, dtypes, class names. */
function modelStrings(): string[] {
  const summary = summaryOf(irisState()._summary as Model["_summary"]) as Summary;
  return [
    summary.model_kind,
    ...summary.layers.flatMap((l) => [l.name, l.path, l.kind, l.param_formula]),
    ...irisRecords().flatMap((r) => r.names),
    "cpu", "float32", "setosa", "versicolor", "virginica", "epoch", "loss=0.31", "loss",
    "gloo", "acc", "ValueError: rank one failed on purpose", // the job's backend, metric names, the rank's exception
  ];
}

function renderWidget(state: Record<string, unknown>) {
  const model = new FakeModel(state);
  const el = document.createElement("div");
  document.body.appendChild(el);
  const cleanup = widget.render({ model: model.asModel(), el } as never) as () => void;
  return { model, el, cleanup };
}

/** Show every tab and open every <details>, so nothing is left unrendered. */
async function showAll(el: HTMLElement): Promise<void> {
  for (const tab of Array.from(el.querySelectorAll<HTMLElement>(".mp-tab"))) {
    tab.click();
    await nextFrame();
  }
  for (const d of Array.from(el.querySelectorAll("details"))) d.open = true;
  el.querySelector<HTMLElement>('.mp-tree-row[data-path="fc1"]')?.dispatchEvent(new MouseEvent("mouseover", { bubbles: true }));
  await nextFrame();
}

afterEach(() => {
  vi.unstubAllGlobals();
  document.documentElement.lang = "";
  resetViews();
});

describe("language", () => {
  it("zh-CN: no English word outside the model's strings, code and units", async () => {
    vi.stubGlobal("IntersectionObserver", undefined); // draw every histogram (see widget.test.ts)
    const { el, cleanup } = renderWidget(fullState("zh-CN"));
    await nextFrame();
    await showAll(el);
    const texts = words(el);
    expect(texts.join(" ")).toMatch(/模型/); // something was read at all
    expect(englishLeft(texts, modelStrings())).toEqual([]);
    cleanup();
  });

  it("the same check finds the English of an English panel (it can fail)", async () => {
    vi.stubGlobal("IntersectionObserver", undefined);
    const { el, cleanup } = renderWidget(fullState("en"));
    await nextFrame();
    await showAll(el);
    expect(englishLeft(words(el), modelStrings())).toEqual(expect.arrayContaining(["Parameters", "Training", "Weight"]));
    cleanup();
  });

  it("a forward that failed, and a panel without input, read Chinese too", async () => {
    const s = irisState() as { _summary: Record<string, unknown> };
    const failed = { ...s, _language: "zh-CN", _summary: { ...s._summary, error: "ForwardError: boom", failed_path: "fc2", macs: null } };
    const a = renderWidget(failed);
    await nextFrame();
    // The kernel's message stays English (as torch's); everything around it is Chinese.
    expect(englishLeft(words(a.el), [...modelStrings(), "ForwardError: boom"])).toEqual([]);
    expect(a.el.querySelector(".mp-badge-failed")?.textContent).toBe("在此出错");
    a.cleanup();
    const noInput = { ...s, _language: "zh-CN", _summary: { ...s._summary, input_shapes: null, macs: null } };
    const b = renderWidget(noInput);
    await nextFrame();
    expect(englishLeft(words(b.el), modelStrings())).toEqual([]);
    expect(b.el.querySelector(".mp-tree-note")?.textContent).toMatch(/^没有形状/);
    b.cleanup();
  });

  it("badges and the kernel's statuses read Chinese", async () => {
    const nested = nestedSummary();
    const layers = nested.layers.map((l) => (l.path === "spare.0" ? { ...l, status: "not called in eval mode" } : l));
    const { el, cleanup } = renderWidget({ _language: "zh-CN", _summary: summaryWire({ ...nested, layers }) });
    await nextFrame();
    el.querySelector<HTMLElement>(".mp-expand-all")?.click();
    await nextFrame();
    const badges = Array.from(el.querySelectorAll<HTMLElement>(".mp-badge")).map((b) => [b.textContent, b.title]);
    expect(badges).toEqual(
      expect.arrayContaining([
        ["已冻结", "它的部分参数不需要梯度（requires_grad=False）"],
        ["共享", "持有另一个模块也持有的参数（权重共享）"],
        ["未使用", "在捕获的前向传播中从未被调用"],
        ["评估模式下未被调用", expect.stringMatching(/^在捕获的前向传播/)],
      ]),
    );
    const kinds = nested.layers.flatMap((l) => [l.name, l.path, l.kind, l.param_formula]);
    expect(englishLeft(words(el), [...kinds, "Sequential", "cpu", "float32"])).toEqual([]);
    cleanup();
  });

  it("follows <html lang> (JupyterLab's display language) unless the panel chose one", async () => {
    document.documentElement.lang = "zh-CN";
    const auto = renderWidget({ ...irisState(), _language: "" });
    expect(Array.from(auto.el.querySelectorAll(".mp-tab")).map((t) => t.textContent)).toEqual(["模型", "参数", "训练", "推理"]);
    auto.cleanup();
    const chosen = renderWidget({ ...irisState(), _language: "en" });
    expect(chosen.el.querySelector(".mp-tab")?.textContent).toBe("Model");
    chosen.cleanup();
    document.documentElement.lang = "de-DE"; // a language without a catalog: English
    const other = renderWidget({ ...irisState(), _language: "" });
    expect(other.el.querySelector(".mp-tab")?.textContent).toBe("Model");
    other.cleanup();
  });

  it("a new _language redraws the view in it, and cleanup leaves no listener", async () => {
    const { model, el, cleanup } = renderWidget({ ...irisState(), _language: "en" });
    const listeners = model.listenerCount();
    model.set("_language", "zh-CN");
    expect(el.querySelector(".mp-tab")?.textContent).toBe("模型");
    expect(el.querySelectorAll(".modelpanel")).toHaveLength(1);
    expect(model.listenerCount()).toBe(listeners);
    cleanup();
    expect(model.listenerCount()).toBe(0);
  });

  it("the cell's progress line speaks the panel's language", async () => {
    const model = new FakeModel({ _language: "zh-CN", _progress: [bar({}), bar({ id: 2, run: 2, state: "running", n: 1 })] });
    const el = document.createElement("div");
    document.body.appendChild(el);
    const cleanup = renderProgressLine({ model: model.asModel(), el } as never);
    el.querySelector("details")?.setAttribute("open", "");
    expect(el.querySelector(".mp-runs summary")?.textContent).toBe("之前的运行（1）");
    cleanup();
  });

  it("a distributed job (running, then failed) reads Chinese; the exception stays as the kernel sent it", async () => {
    const failure = { rank: 1, type: "ValueError", message: "rank one failed on purpose" };
    const { model, el, cleanup } = renderWidget({ ...irisState(), _language: "zh-CN", _job: jobState() });
    await nextFrame();
    const job = el.querySelector<HTMLElement>(".mp-job");
    expect(job?.hidden).toBe(false);
    const jobWords = (): string[] => words(job as HTMLElement);
    const kept = ["gloo", "loss", "acc", "ValueError: rank one failed on purpose"];
    expect(englishLeft(jobWords(), kept)).toEqual([]);
    expect(job?.querySelector(".mp-job-badge")?.textContent).toBe("最慢");
    model.set("_job", jobState({ state: "failed", failure }));
    await nextFrame();
    expect(job?.querySelector(".mp-job-failure")?.textContent).toBe("秩 1 出错：ValueError: rank one failed on purpose");
    expect(englishLeft(jobWords(), kept)).toEqual([]);
    // The same check fails on the English view (it can fail).
    model.set("_language", "en");
    await nextFrame();
    const en = el.querySelector<HTMLElement>(".mp-job") as HTMLElement;
    expect(englishLeft(words(en), kept)).toEqual(expect.arrayContaining(["Rank", "Throughput", "slowest"]));
    cleanup();
  });
});
