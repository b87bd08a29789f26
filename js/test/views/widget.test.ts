// render() in a DOM: hostile strings stay text in every section, each view of one model keeps
// its own state, and cleanup leaves no listener behind.
import { afterEach, describe, expect, it, vi } from "vitest";
import widget from "../../src/widget";
import { FakeModel, hostileState, irisState, nextFrame, plotlyMock as plotly, resetViews } from "../helpers";

vi.mock("../../src/core/plotly", async () => ({ default: (await import("../helpers")).plotlyMock }));

const HOSTILE_NAMES = ["<img src=x onerror=alert(1)>", "</script><script>alert(1)</script>", "\"quoted\" 'single' & ampersand &amp; <b>bold</b>"];

afterEach(() => {
  vi.unstubAllGlobals();
  resetViews();
});

function renderWidget(state: Record<string, unknown>) {
  const model = new FakeModel(state);
  const el = document.createElement("div");
  document.body.appendChild(el);
  const cleanup = widget.render({ model: model.asModel(), el } as never) as () => void;
  return { model, el, cleanup };
}

describe("hostile names", () => {
  it("reach the DOM as text: no element is created from them", async () => {
    // happy-dom's IntersectionObserver never reports a plot as visible, so no histogram would be
    // drawn and the Plotly check below would pass on zero calls. Without an observer the view
    // draws every histogram it shows.
    vi.stubGlobal("IntersectionObserver", undefined);
    const { el, cleanup } = renderWidget(hostileState());
    await nextFrame();
    const rows = Array.from(el.querySelectorAll<HTMLElement>(".mp-tree-row"));
    const names = rows.map((r) => r.querySelector(".mp-tree-name")?.textContent);
    expect(names).toEqual(["(model)", HOSTILE_NAMES[0], HOSTILE_NAMES[1], "a&b \"c\" 'd'", HOSTILE_NAMES[2]]);
    expect(rows.map((r) => r.dataset.path)).toContain(HOSTILE_NAMES[1]);
    expect(rows[2]?.querySelector(".mp-kind")?.textContent).toBe(HOSTILE_NAMES[0]); // a class name
    const paramNames = Array.from(el.querySelectorAll<HTMLElement>(".mp-param-row")).map((r) => r.dataset.name);
    expect(paramNames).toContain(`${HOSTILE_NAMES[0]}.weight`);
    const captions = Array.from(el.querySelectorAll(".mp-hist-name")).map((c) => c.textContent);
    expect(captions).toContain(`${HOSTILE_NAMES[1]}.weight`);
    expect(el.querySelectorAll("img, b").length).toBe(0);
    expect(el.querySelectorAll("script").length).toBe(0);
    // No model string went into Plotly (whose titles parse some HTML).
    expect(plotly.react).toHaveBeenCalled();
    for (const call of plotly.react.mock.calls) expect(JSON.stringify(call.slice(1))).not.toMatch(/script|img|bold/);
    cleanup();
  });
});

describe("widget.render", () => {
  it("mounts every section, and two views of one model clean up independently", async () => {
    const model = new FakeModel(irisState());
    const a = document.createElement("div");
    const b = document.createElement("div");
    document.body.append(a, b);
    const ca = widget.render({ model: model.asModel(), el: a } as never) as () => void;
    const cb = widget.render({ model: model.asModel(), el: b } as never) as () => void;
    // The header above the tabs; every other section in its tab's panel.
    expect(a.querySelector(".modelpanel > .mp-header")).not.toBeNull();
    const where = { model: ["mp-tree"], parameters: ["mp-params", "mp-hist"], training: ["mp-training"], inference: ["mp-inference"] };
    for (const [tab, classes] of Object.entries(where)) {
      for (const cls of classes) expect(a.querySelector(`.mp-tabpanel[data-tab="${tab}"] > .${cls}`)).not.toBeNull();
    }
    expect(a.querySelectorAll(".modelpanel")).toHaveLength(1);
    // The training views keep the one section's layout: the NaN/Inf line above the bars.
    const training = Array.from(a.querySelectorAll(".mp-training > *")).map((e) => e.className);
    expect(training).toEqual(["mp-hint mp-training-hint", "mp-nonfinite", "mp-bars", "mp-metrics", "mp-diag", "mp-dist"]);
    const counts = Array.from(a.querySelectorAll<HTMLElement>(".mp-tree-row")).map((r) => [r.dataset.path, r.querySelector(".mp-count")?.textContent]);
    expect(counts).toEqual([["", "83"], ["fc1", "50"], ["relu", "0"], ["fc2", "33"]]); // the model's row first
    const perView = model.listenerCount() / 2;
    expect(perView).toBeGreaterThan(0);
    // A selection in one view does not leak into the other.
    a.querySelector<HTMLElement>('.mp-tree-row[data-path="fc1"] .mp-tree-name')?.click();
    await nextFrame();
    expect(a.querySelectorAll(".mp-param-row")).toHaveLength(2);
    expect(b.querySelectorAll(".mp-param-row")).toHaveLength(4);
    // Kernel updates reach both views.
    const s = irisState()._summary as { training: boolean };
    model.set("_summary", { ...s, training: false });
    await nextFrame();
    for (const el of [a, b]) expect(el.querySelector('[data-key="mode"] dd')?.textContent).toBe("eval");
    ca();
    expect(model.listenerCount()).toBe(perView);
    expect(a.querySelector(".modelpanel")).toBeNull();
    cb();
    expect(model.listenerCount()).toBe(0);
    expect(plotly.purge).toHaveBeenCalled();
  });

  it("sends one hist_watch per render: the union of the histograms' and the distribution's ids", async () => {
    const model = new FakeModel(irisState());
    const a = document.createElement("div");
    const b = document.createElement("div");
    document.body.append(a, b);
    const ca = widget.render({ model: model.asModel(), el: a } as never) as () => void;
    const cb = widget.render({ model: model.asModel(), el: b } as never) as () => void;
    await nextFrame();
    await nextFrame();
    type Sent = { kind: string; view?: string; ids?: number[]; tensor?: number };
    const sent = () => model.sent as Sent[];
    expect(sent().filter((m) => m.kind === "hist_history").map((m) => m.tensor)).toEqual([0, 0]);
    const lastWatch = new Map(sent().filter((m) => m.kind === "hist_watch").map((m) => [m.view, m.ids]));
    expect(lastWatch.size).toBe(2); // one token per render
    expect(sent().filter((m) => m.kind === "hist_watch")).toHaveLength(2); // one message each at mount
    for (const ids of lastWatch.values()) expect(ids).toEqual([0, 1, 2, 3]);
    ca();
    cb();
    const after = new Map(sent().filter((m) => m.kind === "hist_watch").map((m) => [m.view, m.ids]));
    for (const ids of after.values()) expect(ids).toEqual([]);
  });

  it("shows the kernel's last error as text", async () => {
    const { model, el, cleanup } = renderWidget({ ...irisState(), _error: "" });
    expect(el.querySelector<HTMLElement>(".mp-error")?.hidden).toBe(true);
    model.set("_error", "ForwardError in <b>fc2</b>: shapes do not match");
    await nextFrame();
    const err = el.querySelector<HTMLElement>(".mp-error");
    expect(err?.hidden).toBe(false);
    expect(err?.textContent).toBe("ForwardError in <b>fc2</b>: shapes do not match");
    expect(err?.querySelector("b")).toBeNull();
    cleanup();
  });
});
