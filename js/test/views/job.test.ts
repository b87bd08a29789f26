// The distributed job in a DOM, alone and in the whole widget (shown whatever tab is open).
import { afterEach, describe, expect, it, vi } from "vitest";
import widget from "../../src/widget";
import { mountJob } from "../../src/views/job";
import type { JobState } from "../../src/model";
import { FakeModel, HOSTILE, irisState, jobState as job, mountView, nextFrame, resetViews } from "../helpers";

vi.mock("../../src/core/plotly", async () => ({ default: (await import("../helpers")).plotlyMock }));

afterEach(resetViews);

const texts = (root: ParentNode, sel: string) => Array.from(root.querySelectorAll(sel)).map((e) => e.textContent);

describe("job view", () => {
  it("is hidden for one process and appears when the kernel reports a job", async () => {
    const { root, model, cleanup } = mountView(mountJob, { _job: null });
    expect(root.hidden).toBe(true);
    expect(root.childElementCount).toBe(0);
    model.set("_job", job());
    await nextFrame();
    expect(root.hidden).toBe(false);
    expect(root.dataset.state).toBe("running");
    expect(texts(root, ".mp-job-item dd")).toEqual(["2", "gloo", "running", "29", "0.236"]);
    cleanup();
  });

  it("shows each rank's rate, marks the slowest in words, and each rank's latest metrics", () => {
    const { root, cleanup } = mountView(mountJob, { _job: job() });
    expect(texts(root, ".mp-job-ranks th")).toEqual(["Rank", "Throughput", "", "loss", "acc"]);
    const rows = Array.from(root.querySelectorAll<HTMLElement>("tr.mp-job-rank"));
    expect(rows.map((r) => r.dataset.rank)).toEqual(["0", "1"]);
    expect(texts(root, ".mp-job-rate")).toEqual(["74.90it/s", "71.20it/s"]);
    expect(Array.from(root.querySelectorAll<HTMLElement>(".mp-job-slowest")).map((r) => r.dataset.rank)).toEqual(["1"]);
    expect(root.querySelector(".mp-job-slowest .mp-job-badge")?.textContent).toBe("slowest");
    const widths = Array.from(root.querySelectorAll<HTMLElement>(".mp-job-bar")).map((b) => b.style.width);
    expect(widths).toEqual(["100.0%", `${((100 * 71.2) / 74.9).toFixed(1)}%`]);
    expect(texts(rows[1] as HTMLElement, "td").slice(3)).toEqual(["0.29", "—"]);
    expect(root.querySelector(".mp-job-failure")).toBeNull();
    cleanup();
  });

  it("writes the failure line (rank, exception, message) as text", () => {
    const failure = { rank: 1, type: "ValueError", message: HOSTILE };
    const { root, cleanup } = mountView(mountJob, { _job: job({ state: "failed", failure }) });
    const line = root.querySelector<HTMLElement>(".mp-job-failure");
    expect(line?.textContent).toBe(`Rank 1 failed: ValueError: ${HOSTILE}`);
    expect(line?.getAttribute("role")).toBe("alert");
    expect(root.querySelector("img")).toBeNull();
    expect(root.dataset.state).toBe("failed");
    cleanup();
  });

  it("a rank that failed before the first report: the failure, no rows", () => {
    const early: JobState = job({ world_size: null, backend: null, step: null, rates: [], slowest: null, metrics: {},
      grad_norm: null, state: "failed", failure: { rank: 0, type: "RuntimeError", message: "boom" } });
    const { root, cleanup } = mountView(mountJob, { _job: early });
    expect(root.querySelectorAll("tr.mp-job-rank")).toHaveLength(0);
    expect(root.querySelector(".mp-job-failure")?.textContent).toBe("Rank 0 failed: RuntimeError: boom");
    cleanup();
  });

  it("sits under the header, outside the tabs, so it shows whatever tab is open", async () => {
    const model = new FakeModel({ ...irisState(), _job: job() });
    const el = document.createElement("div");
    document.body.appendChild(el);
    const cleanup = widget.render({ model: model.asModel(), el } as never) as () => void;
    const panel = el.querySelector(".modelpanel") as HTMLElement;
    const section = panel.querySelector<HTMLElement>(":scope > .mp-job");
    expect(section?.previousElementSibling?.classList.contains("mp-header")).toBe(true);
    expect(section?.nextElementSibling?.classList.contains("mp-tabrow")).toBe(true);
    for (const tab of Array.from(el.querySelectorAll<HTMLElement>(".mp-tab"))) {
      tab.click();
      await nextFrame();
      expect(section?.hidden).toBe(false);
    }
    model.set("_job", null);
    await nextFrame();
    expect(section?.hidden).toBe(true);
    cleanup();
    expect(model.listenerCount()).toBe(0);
  });
});
