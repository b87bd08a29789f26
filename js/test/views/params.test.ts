// The parameter table in a DOM: sorting from the header, the subtree filter, picks for histograms.
import { afterEach, describe, expect, it } from "vitest";
import { createContext } from "../../src/core/context";
import { createStore } from "../../src/core/store";
import { mountParams } from "../../src/views/params";
import { FakeModel, irisParamsWithNan, irisState, nextFrame, paramStats, resetViews } from "../helpers";

afterEach(resetViews);

describe("parameter table", () => {
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

  it("says on the mean/std/min/max cells of a tensor with NaN/Inf that they are of its finite values", async () => {
    const bad = irisParamsWithNan("fc1.weight", 2).map((r) => (r.names[0] === "fc2.bias" ? { ...r, inf: 3, mean: null, std: null, min: null, max: null } : r));
    const model = new FakeModel({ ...irisState(), _param_stats: paramStats(bad, 2) });
    const ctx = createContext(model.asModel());
    const root = document.createElement("section");
    document.body.appendChild(root);
    const cleanup = mountParams(root, model.asModel(), ctx, createStore());
    await nextFrame();
    const titles = (name: string) =>
      Array.from(root.querySelectorAll<HTMLElement>(`.mp-param-row[data-name="${name}"] td`), (td) => td.title);
    // Columns: name, shape, count, dtype, device, trainable, mean, std, min, max, NaN/Inf.
    expect(titles("fc1.weight")).toEqual([...Array(6).fill(""), ...Array(4).fill("Over the finite values only: 2 NaN and 0 Inf left out"), ""]);
    expect(titles("fc2.bias").slice(6, 10)).toEqual(Array(4).fill("Over the finite values only: 0 NaN and 3 Inf left out"));
    expect(titles("fc1.bias").every((x) => x === "")).toBe(true);
    cleanup();
    ctx.dispose();
  });
});
