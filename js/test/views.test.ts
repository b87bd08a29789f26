// @vitest-environment happy-dom
// The views in a DOM: hostile strings stay text, the tree virtualises, selection filters the
// table, sorting works from the header, and cleanup leaves no listener behind. Plotly itself
// is exercised in the browser suite (tests/e2e); here it is replaced so happy-dom need not lay
// out SVG.
import { afterEach, describe, expect, it, vi } from "vitest";

const plotly = vi.hoisted(() => ({ react: vi.fn(async (el: HTMLElement) => el), purge: vi.fn(), register: vi.fn() }));
vi.mock("../src/core/plotly", () => ({ default: plotly }));

import { createContext } from "../src/core/context";
import { mountHeader } from "../src/views/header";
import { mountParams } from "../src/views/params";
import { createStore } from "../src/core/store";
import { mountTree } from "../src/views/tree";
import widget from "../src/widget";
import { FakeModel, hostileState, irisState, nestedSummary, nextFrame, stackSummary } from "./helpers";

const HOSTILE = ["<img src=x onerror=alert(1)>", "</script><script>alert(1)</script>", "\"quoted\" 'single' & ampersand &amp; <b>bold</b>"];

afterEach(() => {
  vi.unstubAllGlobals();
  document.body.replaceChildren();
  plotly.react.mockClear();
  plotly.purge.mockClear();
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
    expect(names).toEqual([HOSTILE[0], HOSTILE[1], "a&b \"c\" 'd'", HOSTILE[2]]);
    expect(rows.map((r) => r.dataset.path)).toContain(HOSTILE[1]);
    expect(rows[1]?.querySelector(".mp-kind")?.textContent).toBe(HOSTILE[0]); // a class name
    const paramNames = Array.from(el.querySelectorAll<HTMLElement>(".mp-param-row")).map((r) => r.dataset.name);
    expect(paramNames).toContain(`${HOSTILE[0]}.weight`);
    const captions = Array.from(el.querySelectorAll(".mp-hist-name")).map((c) => c.textContent);
    expect(captions).toContain(`${HOSTILE[1]}.weight`);
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
    for (const cls of ["mp-header", "mp-tree", "mp-params", "mp-hist", "mp-training", "mp-inference"]) {
      expect(a.querySelector(`.modelpanel > .${cls}`)).not.toBeNull();
    }
    expect(a.querySelectorAll(".modelpanel")).toHaveLength(1);
    const counts = Array.from(a.querySelectorAll<HTMLElement>(".mp-tree-row")).map((r) => [r.dataset.path, r.querySelector(".mp-count")?.textContent]);
    expect(counts).toEqual([["fc1", "50"], ["relu", "0"], ["fc2", "33"]]);
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

function mountTreeOnly(summary: unknown) {
  const model = new FakeModel({ _summary: summary, _params: [] });
  const ctx = createContext(model.asModel());
  const store = createStore();
  const root = document.createElement("section");
  root.className = "mp-tree";
  document.body.appendChild(root);
  const cleanup = mountTree(root, model.asModel(), ctx, store);
  const paths = () => Array.from(root.querySelectorAll<HTMLElement>(".mp-tree-row")).map((r) => r.dataset.path);
  return { model, ctx, store, root, cleanup, paths };
}

describe("tree view", () => {
  it("renders only a window of rows for 2,000 modules, and scrolls", async () => {
    const t = mountTreeOnly(stackSummary(2000));
    const rendered = t.paths();
    expect(rendered.length).toBeGreaterThan(10);
    expect(rendered.length).toBeLessThan(60);
    expect(rendered[0]).toBe("0");
    const spacer = t.root.querySelector<HTMLElement>(".mp-tree-spacer");
    expect(spacer?.style.height).toBe(`${2000 * 22}px`);
    const body = t.root.querySelector<HTMLElement>(".mp-tree-body") as HTMLElement;
    body.scrollTop = 1000 * 22;
    body.dispatchEvent(new Event("scroll"));
    await nextFrame();
    expect(t.paths()).toContain("1000");
    expect(t.paths()).not.toContain("0");
    t.cleanup();
    t.ctx.dispose();
  });

  it("expands, collapses, expands all, collapses all, and searches keeping ancestors", async () => {
    const t = mountTreeOnly(nestedSummary());
    expect(t.paths()).toEqual(["encoder", "encoder.block0", "encoder.block1", "head", "tied", "spare", "spare.0"]);
    t.root.querySelector<HTMLElement>('.mp-tree-row[data-path="encoder"] .mp-tree-toggle')?.click();
    expect(t.paths()).toEqual(["encoder", "head", "tied", "spare", "spare.0"]);
    t.root.querySelector<HTMLElement>(".mp-expand-all")?.click();
    expect(t.paths()).toHaveLength(11);
    t.root.querySelector<HTMLElement>(".mp-collapse-all")?.click();
    expect(t.paths()).toEqual(["encoder", "head", "tied", "spare"]);
    const search = t.root.querySelector<HTMLInputElement>(".mp-search") as HTMLInputElement;
    search.value = "gelu";
    search.dispatchEvent(new Event("input"));
    await nextFrame();
    expect(t.paths()).toEqual(["encoder", "encoder.block1", "encoder.block1.act"]);
    search.value = "";
    search.dispatchEvent(new Event("input"));
    await nextFrame();
    expect(t.paths()).toEqual(["encoder", "head", "tied", "spare"]);
    t.cleanup();
    t.ctx.dispose();
  });

  it("moves the selection and expands with the keyboard", async () => {
    const t = mountTreeOnly(nestedSummary());
    const body = t.root.querySelector<HTMLElement>(".mp-tree-body") as HTMLElement;
    const key = (k: string) => body.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true }));
    key("ArrowDown");
    expect(t.store.get().selectedPath).toBe("encoder");
    key("ArrowDown");
    expect(t.store.get().selectedPath).toBe("encoder.block0");
    key("ArrowRight"); // expand block0: its two children appear
    expect(t.paths()).toContain("encoder.block0.fc");
    key("ArrowDown");
    expect(t.store.get().selectedPath).toBe("encoder.block0.fc");
    key("ArrowLeft"); // a leaf: go to the parent
    expect(t.store.get().selectedPath).toBe("encoder.block0");
    key("ArrowLeft"); // open: collapse it
    expect(t.paths()).not.toContain("encoder.block0.fc");
    key("End");
    expect(t.store.get().selectedPath).toBe("spare.0");
    key("Home");
    expect(t.store.get().selectedPath).toBe("encoder");
    t.cleanup();
    t.ctx.dispose();
  });

  it("shows badges, shares and the formula on hover and selection", async () => {
    const t = mountTreeOnly(nestedSummary());
    const row = (p: string) => t.root.querySelector<HTMLElement>(`.mp-tree-row[data-path="${p}"]`) as HTMLElement;
    expect(row("head").querySelector(".mp-badge-frozen")).not.toBeNull();
    expect(row("tied").querySelector(".mp-badge-shared")).not.toBeNull();
    expect(row("spare").querySelector(".mp-badge-unused")).not.toBeNull();
    expect(row("encoder").querySelector(".mp-badge")).toBeNull();
    expect(row("head").title).toBe("weight 16×16 = 256 + bias 16 = 16");
    expect(row("encoder").querySelector(".mp-share")?.textContent).toBe("40.0%");
    row("head").querySelector<HTMLElement>(".mp-tree-name")?.click();
    expect(t.store.get().selectedPath).toBe("head");
    await nextFrame();
    expect(row("head").classList.contains("mp-selected")).toBe(true);
    expect(t.root.querySelector(".mp-tree-detail")?.textContent).toBe("head (Linear): weight 16×16 = 256 + bias 16 = 16");
    row("head").querySelector<HTMLElement>(".mp-tree-name")?.click(); // again: deselect
    expect(t.store.get().selectedPath).toBeNull();
    t.cleanup();
    t.ctx.dispose();
  });
});

describe("header and parameter table", () => {
  it("shows the Iris totals, and MACs as a dash until counted", async () => {
    const model = new FakeModel(irisState());
    const ctx = createContext(model.asModel());
    const root = document.createElement("section");
    mountHeader(root, model.asModel(), ctx);
    const value = (k: string) => root.querySelector(`[data-key="${k}"] dd`)?.textContent;
    expect([value("total"), value("trainable"), value("non-trainable"), value("param-bytes"), value("macs"), value("devices"), value("mode")])
      .toEqual(["83", "83", "0", "332 B", "—", "cpu", "train"]);
    model.set("_summary", { ...(irisState()._summary as object), macs: 80 });
    await nextFrame();
    expect(value("macs")).toBe("80");
    ctx.dispose();
  });

  it("sorts from the header, filters by the selected subtree, and picks rows for histograms", async () => {
    const model = new FakeModel(irisState());
    const ctx = createContext(model.asModel());
    const store = createStore();
    const root = document.createElement("section");
    document.body.appendChild(root);
    const cleanup = mountParams(root, model.asModel(), ctx, store);
    await nextFrame();
    const names = () => Array.from(root.querySelectorAll<HTMLElement>(".mp-param-row")).map((r) => r.dataset.name);
    expect(names()).toEqual(["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]);
    const th = root.querySelector<HTMLElement>('th[data-key="numel"]') as HTMLElement;
    th.click();
    await nextFrame();
    expect(names()).toEqual(["fc2.bias", "fc1.bias", "fc2.weight", "fc1.weight"]);
    expect(th.getAttribute("aria-sort")).toBe("ascending");
    th.click();
    await nextFrame();
    expect(names()).toEqual(["fc1.weight", "fc2.weight", "fc1.bias", "fc2.bias"]);
    store.update({ selectedPath: "fc2" });
    await nextFrame();
    expect(names()).toEqual(["fc2.weight", "fc2.bias"]);
    expect(root.querySelector(".mp-params-caption")?.textContent).toBe("2 of 4 tensors in fc2");
    root.querySelector<HTMLElement>(".mp-params-clear")?.click();
    await nextFrame();
    expect(names()).toHaveLength(4);
    root.querySelector<HTMLElement>('.mp-param-row[data-name="fc2.bias"] td')?.click();
    expect(Array.from(store.get().picked)).toEqual([3]);
    root.querySelector<HTMLElement>('.mp-param-row[data-name="fc1.bias"] td')?.dispatchEvent(new MouseEvent("click", { bubbles: true, ctrlKey: true }));
    expect(Array.from(store.get().picked).sort()).toEqual([1, 3]);
    await nextFrame();
    const plotted = Array.from(root.querySelectorAll<HTMLElement>(".mp-param-row.mp-plotted")).map((r) => r.dataset.name);
    expect(plotted.sort()).toEqual(["fc1.bias", "fc2.bias"]);
    cleanup();
    ctx.dispose();
    expect(model.listenerCount()).toBe(0);
  });
});
