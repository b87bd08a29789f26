// The layer tree in a DOM: a window of rows for big models, expansion, search, keyboard,
// badges and the hover / selection detail line.
import { afterEach, describe, expect, it } from "vitest";
import { createStore } from "../../src/core/store";
import { mountTree } from "../../src/views/tree";
import type { Summary } from "../../src/model";
import { mountView, nestedSummary, nextFrame, resetViews, stackSummary, summaryWire } from "../helpers";

afterEach(resetViews);

function mountTreeOnly(summary: Summary) {
  const store = createStore();
  const view = mountView((root, model, ctx) => mountTree(root, model, ctx, store), { _summary: summaryWire(summary), _params: {} });
  const { root } = view;
  const paths = () => Array.from(root.querySelectorAll<HTMLElement>(".mp-tree-row")).map((r) => r.dataset.path);
  return { ...view, store, paths };
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

  it("carries the tree roles: treeitem levels, expanded state, selection and active descendant", async () => {
    const t = mountTreeOnly(nestedSummary());
    const body = t.root.querySelector<HTMLElement>(".mp-tree-body") as HTMLElement;
    expect(body.getAttribute("role")).toBe("tree");
    expect(body.getAttribute("aria-label")).toBeTruthy();
    expect(body.tabIndex).toBe(0);
    const row = (p: string) => t.root.querySelector<HTMLElement>(`.mp-tree-row[data-path="${p}"]`) as HTMLElement;
    expect(row("encoder").getAttribute("role")).toBe("treeitem");
    expect(row("encoder").getAttribute("aria-level")).toBe("1");
    expect(row("encoder.block0").getAttribute("aria-level")).toBe("2");
    expect(row("encoder").getAttribute("aria-expanded")).toBe("true");
    expect(row("encoder.block0").getAttribute("aria-expanded")).toBe("false");
    expect(row("head").hasAttribute("aria-expanded")).toBe(false); // a leaf
    // head is the second of the four top-level modules; block1 the second of encoder's two.
    expect([row("head").getAttribute("aria-posinset"), row("head").getAttribute("aria-setsize")]).toEqual(["2", "4"]);
    expect([row("encoder.block1").getAttribute("aria-posinset"), row("encoder.block1").getAttribute("aria-setsize")]).toEqual(["2", "2"]);
    expect(row("head").getAttribute("aria-selected")).toBe("false");
    expect(body.hasAttribute("aria-activedescendant")).toBe(false);
    const key = (k: string) => body.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true }));
    key("Enter"); // nothing selected: Enter selects the first row
    expect(t.store.get().selectedPath).toBe("encoder");
    key("ArrowRight"); // encoder is open: to its first child
    expect(t.store.get().selectedPath).toBe("encoder.block0");
    await nextFrame();
    expect(row("encoder.block0").getAttribute("aria-selected")).toBe("true");
    expect(body.getAttribute("aria-activedescendant")).toBe(row("encoder.block0").id);
    t.cleanup();
    t.ctx.dispose();
  });

  it("shows the kernel's status as the text of the not-run badge", () => {
    const s = nestedSummary();
    s.layers = s.layers.map((l) =>
      l.path === "spare" ? { ...l, status: "not called in eval mode" }
      : l.path === "spare.0" ? { ...l, status: "inside TorchScript: not traced" } : l);
    const t = mountTreeOnly(s);
    const badge = (p: string) => t.root.querySelector<HTMLElement>(`.mp-tree-row[data-path="${p}"] .mp-badge-unused`);
    expect(badge("spare")?.textContent).toBe("not called in eval mode");
    expect(badge("spare")?.title).toContain('mode="train"');
    expect(badge("spare.0")?.textContent).toBe("inside TorchScript: not traced");
    expect(badge("head")).toBeNull();
    t.cleanup();
    t.ctx.dispose();
  });

  it("shows badges, shares and the formula on hover and selection", async () => {
    const t = mountTreeOnly(nestedSummary());
    const row = (p: string) => t.root.querySelector<HTMLElement>(`.mp-tree-row[data-path="${p}"]`) as HTMLElement;
    expect(row("head").querySelector(".mp-badge-frozen")).not.toBeNull();
    expect(row("tied").querySelector(".mp-badge-shared")).not.toBeNull();
    expect(row("spare").querySelector(".mp-badge-unused")).not.toBeNull();
    expect(row("spare").querySelector(".mp-badge-unused")?.textContent).toBe("unused");
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

  it("sizes the Params column (head and rows) from the largest count", async () => {
    const big = stackSummary(2);
    big.layers = big.layers.map((l) => ({ ...l, params: 35_276_853_248 }));
    big.total_params = 70_553_706_496;
    const v = mountTreeOnly(big);
    await nextFrame();
    expect(v.root.style.getPropertyValue("--mp-params-col")).toBe("max(130px, calc(14ch + 52px))");
    v.cleanup();
  });
});
