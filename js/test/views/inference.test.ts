// The inference view in a DOM: device picker from _devices, Run sends the request and shows the
// reply's error next to the button, results (from Run or from panel.evaluate) render as text,
// and cleanup purges the plot. Plotly is replaced (happy-dom does no SVG layout); the browser
// suite draws the real heatmap.
import { afterEach, describe, expect, it, vi } from "vitest";
import { mountInference } from "../../src/views/inference";
import { HOSTILE, mountView, nextFrame, plotlyMock as plotly, resetViews } from "../helpers";

vi.mock("../../src/core/plotly", async () => ({ default: (await import("../helpers")).plotlyMock }));

function evalResult() {
  return {
    n: 4, device: "cpu", seconds: 0.001, samples_per_s: 4000, mode: "inference_mode",
    accuracy: 0.75, topk_accuracy: null, topk_k: 2, metric: null, metric_name: null, loss: null,
    classes: ["a", HOSTILE],
    confusion: { view: new Int32Array([2, 0, 1, 1]), dtype: "int32", shape: [2, 2] },
    per_class: [
      { label: "a", precision: 2 / 3, recall: 1, support: 2 },
      { label: HOSTILE, precision: 1, recall: 0.5, support: 2 },
    ],
  };
}

const mount = (state: Record<string, unknown>) => mountView(mountInference, state);

afterEach(resetViews);

describe("inference view", () => {
  it("lists the kernel's devices and is disabled until there is data", async () => {
    const { model, root, cleanup } = mount({ _devices: ["cpu", "cuda:0"], _eval_data: null, _eval_result: null });
    const select = root.querySelector<HTMLSelectElement>(".mp-eval-device")!;
    expect(Array.from(select.options).map((o) => o.value)).toEqual(["cpu", "cuda:0"]);
    const run = root.querySelector<HTMLButtonElement>(".mp-eval-run")!;
    expect(run.disabled).toBe(true);
    expect(root.querySelector(".mp-eval-data")?.textContent).toMatch(/set_eval_data/);
    model.set("_eval_data", { n: 4, x_shape: [4, 2], has_targets: true });
    await nextFrame();
    expect(run.disabled).toBe(false);
    cleanup();
  });

  it("sends the request on Run and shows the kernel's error next to the button", async () => {
    const { model, root, cleanup } = mount({ _devices: ["cpu", "cuda:0"], _eval_data: { n: 4, x_shape: [4, 2], has_targets: true } });
    root.querySelector<HTMLSelectElement>(".mp-eval-device")!.value = "cuda:0";
    root.querySelector<HTMLInputElement>(".mp-eval-batch")!.value = "32";
    root.querySelector<HTMLButtonElement>(".mp-eval-run")!.click();
    const sent = model.sent[0] as { kind: string; id: string; device: string; batch_size: number };
    expect(sent).toMatchObject({ kind: "evaluate", device: "cuda:0", batch_size: 32 });
    expect(root.querySelector(".mp-eval-status")?.textContent).toBe("running…");
    expect(root.querySelector<HTMLButtonElement>(".mp-eval-run")!.disabled).toBe(true);
    model.emit("msg:custom", { kind: "evaluate_reply", id: sent.id, ok: false, error: `DeviceError: ${HOSTILE}` });
    expect(root.querySelector(".mp-eval-error")?.textContent).toBe(`DeviceError: ${HOSTILE}`);
    expect(root.querySelector("img")).toBeNull();
    expect(root.querySelector<HTMLButtonElement>(".mp-eval-run")!.disabled).toBe(false);
    cleanup();
  });

  it("rejects a bad batch size without asking the kernel", () => {
    const { model, root, cleanup } = mount({ _devices: ["cpu"], _eval_data: { n: 4, x_shape: [4, 2], has_targets: true } });
    root.querySelector<HTMLInputElement>(".mp-eval-batch")!.value = "0";
    root.querySelector<HTMLButtonElement>(".mp-eval-run")!.click();
    expect(model.sent).toEqual([]);
    expect(root.querySelector(".mp-eval-error")?.textContent).toMatch(/at least 1/);
    cleanup();
  });

  it("renders a result as text, draws the heatmap once per update and purges it on cleanup", async () => {
    const { model, root, cleanup } = mount({ _devices: ["cpu"], _eval_data: null, _eval_result: null });
    model.set("_eval_result", evalResult());
    await nextFrame();
    expect(root.querySelector(".mp-eval-accuracy dd")?.textContent).toBe("75.00%");
    expect(root.querySelector(".mp-eval-device-used dd")?.textContent).toBe("cpu");
    expect(root.querySelector(".mp-eval-throughput dd")?.textContent).toBe("4.0K samples/s");
    const labels = Array.from(root.querySelectorAll(".mp-eval-class-row td:first-child")).map((td) => td.textContent);
    expect(labels).toEqual(["a", HOSTILE]);
    expect(root.querySelector("img")).toBeNull();
    expect(plotly.react).toHaveBeenCalledTimes(1);
    const data = (plotly.react.mock.calls[0] as unknown[] | undefined)?.[1] as Array<{ z: number[][] }>;
    expect(data[0]?.z).toEqual([
      [2, 0],
      [1, 1],
    ]);
    cleanup();
    expect(plotly.purge).toHaveBeenCalledTimes(1);
    expect(root.childElementCount).toBe(0);
  });

  it("says where a result came from and when, never 'No evaluation data yet' above it", async () => {
    const { model, root, cleanup } = mount({ _devices: ["cpu"], _eval_data: null, _eval_result: null });
    expect(root.querySelector(".mp-eval-data")?.textContent).toMatch(/No evaluation data yet/);
    expect(root.querySelector<HTMLElement>(".mp-eval-origin")?.hidden).toBe(true);
    const today = new Date();
    const pad = (v: number) => String(v).padStart(2, "0");
    const day = `${today.getFullYear()}-${pad(today.getMonth() + 1)}-${pad(today.getDate())}`;
    model.set("_eval_result", { ...evalResult(), batch_size: 256, source: "panel.evaluate", finished_at: `${day}T14:02:31+08:00` });
    await nextFrame();
    expect(root.textContent).not.toMatch(/No evaluation data yet/);
    expect(root.querySelector(".mp-eval-origin")?.textContent).toBe("Result from panel.evaluate(...) at 14:02:31.");
    expect(root.querySelector(".mp-eval-batch-used dd")?.textContent).toBe("256");
    expect(root.querySelector(".mp-eval-seconds dd")?.textContent).toBe("1 ms");
    expect(root.querySelector(".mp-eval-when dd")?.textContent).toBe("14:02:31");
    cleanup();
  });

  it("shows Run as running while the kernel evaluates, and the new time once it ran", async () => {
    const data = { n: 4, x_shape: [4, 2], has_targets: true };
    const { model, root, cleanup } = mount({ _devices: ["cpu"], _eval_data: data, _eval_result: null });
    const run = root.querySelector<HTMLButtonElement>(".mp-eval-run")!;
    expect(run.textContent).toBe("Run");
    model.set("_eval_running", true); // an evaluation started from code, or from another view
    await nextFrame();
    expect([run.disabled, run.textContent, run.getAttribute("aria-busy")]).toEqual([true, "Running…", "true"]);
    model.set("_eval_result", { ...evalResult(), source: "run", finished_at: "2001-02-03T04:05:06+00:00" });
    model.set("_eval_running", false);
    await nextFrame();
    expect([run.disabled, run.textContent]).toEqual([false, "Run"]);
    expect(root.querySelector(".mp-eval-origin")?.textContent).toBe("Result from the Run button at 2001-02-03 04:05:06.");
    cleanup();
  });
});
