// The view-local store: a subscriber hears only the updates that change what it names.
import { describe, expect, it } from "vitest";
import { createStore, setWatched, watchedIds } from "../../src/core/store";

describe("store", () => {
  it("calls a keyed subscriber only when one of its keys changes", () => {
    const store = createStore();
    const heard: string[] = [];
    store.subscribe(() => heard.push("tree"), ["selectedPath"]);
    store.subscribe(() => heard.push("hists"), ["watched"]);
    store.subscribe(() => heard.push("all"));
    setWatched(store, "histograms", [0, 1]);
    store.update({ selectedPath: "fc1" });
    store.update({ selectedPath: "fc1" }); // the same value: keyed subscribers stay quiet
    setWatched(store, "histograms", [0, 1]); // unchanged: no update at all
    expect(heard).toEqual(["hists", "all", "tree", "all", "all"]);
    expect(watchedIds(store.get())).toEqual([0, 1]);
  });
});
