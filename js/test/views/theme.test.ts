// core/theme.ts in a DOM: the theme read from the view's element, re-read when JupyterLab
// switches theme (body[data-jp-theme-*]), the observer gone with the view, and the views
// redrawing their figures in the new colours. happy-dom does not inherit custom properties,
// so the variables are set on the element that is read.
import { afterEach, describe, expect, it, vi } from "vitest";
import { createContext } from "../../src/core/context";
import { createHists } from "../../src/core/hists";
import { createStore } from "../../src/core/store";
import { readTheme, themeOf } from "../../src/core/theme";
import { mountHistograms } from "../../src/views/histograms";
import { mountInference } from "../../src/views/inference";
import { mountMetricCharts } from "../../src/views/metricCharts";
import { FakeModel, irisState, metricsDelta, mountView, nextFrame, plotlyMock as plotly, resetViews } from "../helpers";

vi.mock("../../src/core/plotly", async () => ({ default: (await import("../helpers")).plotlyMock }));

const DARK = { "--jp-layout-color1": "#212121", "--jp-layout-color2": "#424242", "--jp-brand-color1": "#2196f3", "--jp-ui-font-color1": "rgba(255,255,255,.87)" };
const LIGHT = { "--jp-layout-color1": "white", "--jp-layout-color2": "#eee", "--jp-brand-color1": "#1976d2", "--jp-ui-font-color1": "rgba(0,0,0,.87)" };

function paint(el: HTMLElement, vars: Record<string, string>) {
  for (const [k, v] of Object.entries(vars)) el.style.setProperty(k, v);
}

/** JupyterLab's switch: new variables first, then the body attributes (its ThemeManager order). */
function switchTo(el: HTMLElement, vars: Record<string, string>, name: string, light: boolean) {
  paint(el, vars);
  document.body.dataset.jpThemeLight = String(light);
  document.body.dataset.jpThemeName = name;
}

afterEach(() => {
  resetViews();
  delete document.body.dataset.jpThemeLight;
  delete document.body.dataset.jpThemeName;
  document.documentElement.removeAttribute("style");
});

const lastLayout = () => plotly.react.mock.calls.at(-1)?.[2] as Record<string, any>;
const lastData = () => plotly.react.mock.calls.at(-1)?.[1] as Array<Record<string, any>>;

describe("reading the theme", () => {
  it("reads the element's variables once it is in the page, the root's before", () => {
    paint(document.documentElement, DARK);
    const el = document.createElement("div");
    paint(el, LIGHT);
    expect(readTheme(el).background).toBe("#212121"); // detached: the page root's
    document.body.appendChild(el);
    expect(readTheme(el).background).toBe("white");
  });

  it("takes light/dark from JupyterLab's body flag", () => {
    const el = document.body.appendChild(document.createElement("div"));
    paint(el, LIGHT);
    document.body.dataset.jpThemeLight = "false";
    expect(readTheme(el).light).toBe(false);
  });

  it("is one source per view, which hears theme switches until the view is disposed", async () => {
    const ctx = createContext(new FakeModel({}).asModel());
    const el = document.body.appendChild(document.createElement("div"));
    paint(el, LIGHT);
    const source = themeOf(ctx, el);
    expect(themeOf(ctx, document.createElement("p"))).toBe(source);
    expect(source.get().background).toBe("white");
    const heard = vi.fn();
    source.subscribe(heard);
    switchTo(el, DARK, "JupyterLab Dark", false);
    await nextFrame();
    expect(heard).toHaveBeenCalledTimes(1);
    expect(source.get()).toMatchObject({ background: "#212121", light: false });
    ctx.dispose();
    switchTo(el, LIGHT, "JupyterLab Light", true);
    await nextFrame();
    expect(heard).toHaveBeenCalledTimes(1);
  });
});

describe("views follow the theme", () => {
  it("metric charts: paper, fonts and line colours from the theme, redrawn on a switch", async () => {
    const { root, cleanup } = mountView(mountMetricCharts, { _metrics: metricsDelta(0, 1, { loss: [[0, 1], [2, 1]] }) });
    expect(plotly.react).toHaveBeenCalledTimes(1);
    expect(lastLayout().paper_bgcolor).toBe("#ffffff"); // no variables set: the fallback palette
    switchTo(root, DARK, "JupyterLab Dark", false);
    await nextFrame();
    expect(plotly.react).toHaveBeenCalledTimes(2);
    expect(lastLayout()).toMatchObject({ paper_bgcolor: "#212121", plot_bgcolor: "#212121" });
    expect(lastLayout().colorway[0]).toBe("#2196f3");
    expect(lastLayout().xaxis.title).toEqual({ text: "step" }); // the view's own part kept
    cleanup();
  });

  it("histograms: a drawn histogram is drawn again in the new colours", async () => {
    vi.stubGlobal("IntersectionObserver", undefined); // happy-dom never reports visibility
    const store = createStore();
    const { model, root, cleanup } = mountView((el, m, ctx) => {
      const hists = createHists(m, ctx, store);
      ctx.onDispose(() => hists.dispose());
      return mountHistograms(el, m, ctx, store, hists);
    }, { ...irisState(), _hist: {} });
    paint(root, LIGHT);
    await nextFrame();
    await nextFrame();
    const watch = (model.sent as Array<{ kind: string; id: string }>).filter((m) => m.kind === "hist_watch").pop();
    model.emit("msg:custom", { kind: "hist_watch_reply", id: watch?.id, ok: true, bins: 2, ids: [0], counts: [[3, 1]], range: [[-1, 1]] });
    await nextFrame();
    expect(plotly.react).toHaveBeenCalledTimes(1);
    expect(lastLayout().paper_bgcolor).toBe("white");
    expect(lastLayout().font).toMatchObject({ size: 9, color: "rgba(0,0,0,.87)" });
    switchTo(root, DARK, "JupyterLab Dark", false);
    await nextFrame();
    expect(plotly.react).toHaveBeenCalledTimes(2);
    expect(lastLayout().paper_bgcolor).toBe("#212121");
    expect(lastLayout().font).toMatchObject({ size: 9, color: "rgba(255,255,255,.87)" });
    expect(lastData()[0]?.y).toEqual([3, 1]);
    cleanup();
    vi.unstubAllGlobals();
  });

  it("confusion matrix: themed layout and colour scale, redrawn on a switch", async () => {
    const result = {
      n: 4, device: "cpu", seconds: 0.001, samples_per_s: 4000, mode: "inference_mode",
      accuracy: 0.75, topk_accuracy: null, topk_k: 1, metric: null, metric_name: null, loss: null,
      classes: ["a", "b"],
      confusion: { view: new Int32Array([2, 0, 1, 1]), dtype: "int32", shape: [2, 2] },
      per_class: [],
    };
    const model = new FakeModel({ _devices: ["cpu"], _eval_data: null, _eval_result: null });
    const ctx = createContext(model.asModel());
    const root = document.body.appendChild(document.createElement("section"));
    paint(root, LIGHT);
    const cleanup = mountInference(root, model.asModel(), ctx);
    model.set("_eval_result", result);
    await nextFrame();
    expect(lastLayout().paper_bgcolor).toBe("white");
    expect(lastData()[0]?.colorscale).toEqual([
      [0, "#eee"],
      [1, "#1976d2"],
    ]);
    const calls = plotly.react.mock.calls.length;
    switchTo(root, DARK, "JupyterLab Dark", false);
    await nextFrame();
    expect(plotly.react.mock.calls.length).toBe(calls + 1);
    expect(lastLayout().paper_bgcolor).toBe("#212121");
    expect(lastLayout().font.color).toBe("rgba(255,255,255,.87)");
    expect(lastData()[0]?.colorscale).toEqual([
      [0, "#424242"],
      [1, "#2196f3"],
    ]);
    // The matrix itself is unchanged by the switch.
    expect(lastData()[0]?.z).toEqual([
      [2, 0],
      [1, 1],
    ]);
    cleanup();
    ctx.dispose();
  });
});
