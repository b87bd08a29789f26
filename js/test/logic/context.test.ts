import { describe, expect, it } from "vitest";
import { createContext } from "../../src/core/context";
import { FakeModel, nextFrame } from "../helpers";

describe("ViewContext", () => {
  it("coalesces a burst of updates into one call per frame", async () => {
    const model = new FakeModel({});
    const ctx = createContext(model.asModel());
    let runs = 0;
    const draw = () => {
      runs += 1;
    };
    for (let i = 0; i < 50; i++) ctx.schedule(draw);
    expect(runs).toBe(0);
    await nextFrame();
    expect(runs).toBe(1);
    ctx.schedule(draw);
    await nextFrame();
    expect(runs).toBe(2);
    ctx.dispose();
  });

  it("matches replies to requests by id and ignores other views' replies", () => {
    const model = new FakeModel({});
    const a = createContext(model.asModel());
    const b = createContext(model.asModel());
    const got: unknown[] = [];
    const id = a.send({ kind: "evaluate", device: "cpu", batch_size: 256 }, (r) => got.push(r));
    expect(model.sent).toEqual([{ kind: "evaluate", device: "cpu", batch_size: 256, id }]);
    const idB = b.send({ kind: "evaluate" }, () => got.push("b"));
    expect(idB).not.toBe(id);
    model.emit("msg:custom", { kind: "evaluate_reply", id: "someone-else", ok: true });
    model.emit("msg:custom", { kind: "evaluate_reply", id, ok: false, error: "bad device" });
    model.emit("msg:custom", { kind: "evaluate_reply", id, ok: true }); // answered already
    expect(got).toEqual([{ kind: "evaluate_reply", id, ok: false, error: "bad device" }]);
    a.dispose();
    b.dispose();
  });

  it("dispose removes every listener, cancels frames and drops pending replies", async () => {
    const model = new FakeModel({});
    const ctx = createContext(model.asModel());
    let calls = 0;
    ctx.on("change:_summary", () => (calls += 1));
    ctx.schedule(() => (calls += 100));
    const id = ctx.send({ kind: "evaluate" }, () => (calls += 1000));
    const cleaned: string[] = [];
    ctx.onDispose(() => cleaned.push("first"));
    ctx.onDispose(() => {
      cleaned.push("second");
      throw new Error("a failing cleanup does not stop the others");
    });
    expect(model.listenerCount()).toBe(2); // msg:custom + change:_summary
    ctx.dispose();
    expect(model.listenerCount()).toBe(0);
    expect(cleaned).toEqual(["second", "first"]);
    model.emit("change:_summary");
    model.emit("msg:custom", { kind: "evaluate_reply", id, ok: true });
    await nextFrame();
    expect(calls).toBe(0);
    expect(ctx.disposed).toBe(true);
  });

  it("removes the DOM listeners added with listen() on dispose, and adds none after", () => {
    const ctx = createContext(new FakeModel({}).asModel());
    // Node has EventTarget but no DOM; listen() needs nothing more of the element.
    const target = new EventTarget() as unknown as HTMLElement;
    let clicks = 0;
    ctx.listen(target, "click", () => (clicks += 1));
    target.dispatchEvent(new Event("click"));
    expect(clicks).toBe(1);
    ctx.dispose();
    ctx.listen(target, "click", () => (clicks += 100));
    target.dispatchEvent(new Event("click"));
    expect(clicks).toBe(1);
  });

  it("accepts only the change events of the synced traits", () => {
    const ctx = createContext(new FakeModel({}).asModel());
    ctx.on("change:_param_stats", () => {});
    // @ts-expect-error: no trait is called _sumary (tsc --noEmit checks this line)
    ctx.on("change:_sumary", () => {});
    ctx.dispose();
  });
});
