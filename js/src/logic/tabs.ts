// The panel's tabs without a DOM: which tabs exist, what a key does in the tab bar, and when
// the view may open the Training tab by itself. views/tabs.ts renders them.

export type TabId = "model" | "parameters" | "training" | "inference";

export interface TabSpec {
  id: TabId;
  label: string; // the catalog key of its label (core/i18n.ts)
}

/** The tabs, in order. Model first: it is what a panel opens on. */
export const TABS: readonly TabSpec[] = [
  { id: "model", label: "tabs.model" },
  { id: "parameters", label: "tabs.parameters" },
  { id: "training", label: "tabs.training" },
  { id: "inference", label: "tabs.inference" },
];

/**
 * The tab a key moves to from tab `current` (an index into `count` tabs), following the
 * WAI-ARIA tabs pattern: Left/Right wrap around, Home/End go to the ends. null for any other
 * key (left to the page).
 */
export function tabKey(current: number, count: number, key: string): number | null {
  if (count <= 0) return null;
  if (key === "ArrowRight") return (current + 1) % count;
  if (key === "ArrowLeft") return (current - 1 + count) % count;
  if (key === "Home") return 0;
  if (key === "End") return count - 1;
  return null;
}

/**
 * Should the view open the Training tab by itself? Only when a loop has just started (some
 * bar runs now and none ran at the last update) and the user has not chosen a tab in this
 * view: a tab the user picked is never taken away, even by the next loop.
 */
export function autoOpenTraining(opts: { userChose: boolean; runningBefore: boolean; runningNow: boolean }): boolean {
  return !opts.userChose && opts.runningNow && !opts.runningBefore;
}
