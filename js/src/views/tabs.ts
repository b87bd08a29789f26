// The tab bar and the tab panels (WAI-ARIA tabs pattern, automatic activation). Every panel
// stays mounted: switching toggles `hidden`, so no view is re-created and each keeps its
// selection, search, sort, zoom and scroll. widget.ts mounts the sections into the panels.
//
// Stable class names (browser tests rely on them):
//   .mp-tabs (role tablist), .mp-tab[data-tab] (role tab; .mp-tab-busy on Training while a
//   loop runs), .mp-tabpanel[data-tab] (role tabpanel), with data-tab one of
//   model | parameters | training | inference.

import type { ViewContext } from "../core/context";
import { h } from "../core/dom";
import { TABS, type TabId, tabKey } from "../logic/tabs";

export interface Tabs {
  /** The panel that holds tab `id`'s sections. */
  panel(id: TabId): HTMLElement;
  /** Show tab `id`. `byUser`: a click or a key, which the view never overrides afterwards. */
  show(id: TabId, byUser: boolean): void;
  current(): TabId;
  /** Has the user picked a tab in this view (click or keyboard)? */
  userChose(): boolean;
  /** Mark a tab as busy (a loop runs): a dot on its label. */
  setBusy(id: TabId, busy: boolean): void;
  /** Call `fn(id)` each time a tab is shown (after it is visible). */
  onShow(fn: (id: TabId) => void): void;
}

/**
 * Build the tab bar into `bar` and one panel per tab into `body`; `initial` is shown first.
 * DOM listeners go through ctx, so dispose() removes them.
 */
export function mountTabs(bar: HTMLElement, body: HTMLElement, ctx: ViewContext, initial: TabId = "model"): Tabs {
  // Ids tie each tab to its panel (aria-controls / aria-labelledby); unique per view, since
  // one widget can be displayed several times on a page.
  const uid = `mp-${Math.random().toString(36).slice(2, 10)}`;
  bar.setAttribute("role", "tablist");
  bar.setAttribute("aria-label", ctx.t("tabs.label"));
  const tabs = new Map<TabId, HTMLButtonElement>();
  const panels = new Map<TabId, HTMLElement>();
  for (const spec of TABS) {
    const tab = h("button", "mp-tab", ctx.t(spec.label));
    tab.type = "button";
    tab.id = `${uid}-tab-${spec.id}`;
    tab.dataset.tab = spec.id;
    tab.setAttribute("role", "tab");
    tab.setAttribute("aria-controls", `${uid}-panel-${spec.id}`);
    const panel = h("div", "mp-tabpanel");
    panel.id = `${uid}-panel-${spec.id}`;
    panel.dataset.tab = spec.id;
    panel.setAttribute("role", "tabpanel");
    panel.setAttribute("aria-labelledby", tab.id);
    bar.appendChild(tab);
    body.appendChild(panel);
    tabs.set(spec.id, tab);
    panels.set(spec.id, panel);
  }
  let current: TabId = initial;
  let chosen = false;
  const listeners: Array<(id: TabId) => void> = [];
  // Each panel's own scroll position: a hidden panel has no height (widget.css), which resets
  // it; the scrollers inside a panel keep theirs.
  const scrolled = new Map<TabId, number>();

  const apply = () => {
    // Read before anything changes: two panels shown at once would share (and clamp) the height.
    for (const [id, panel] of panels) if (id !== current && !panel.hidden) scrolled.set(id, panel.scrollTop);
    for (const [id, tab] of tabs) {
      const on = id === current;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1; // roving tabindex: Tab enters the bar on the shown tab
      tab.classList.toggle("mp-tab-selected", on);
      (panels.get(id) as HTMLElement).hidden = !on;
    }
    const top = scrolled.get(current);
    if (top) (panels.get(current) as HTMLElement).scrollTop = top;
  };
  apply();

  const api: Tabs = {
    panel: (id) => panels.get(id) as HTMLElement,
    show(id, byUser) {
      if (byUser) chosen = true;
      if (id === current) return;
      current = id;
      apply();
      for (const fn of listeners) fn(id);
    },
    current: () => current,
    userChose: () => chosen,
    setBusy(id, busy) {
      tabs.get(id)?.classList.toggle("mp-tab-busy", busy);
    },
    onShow(fn) {
      listeners.push(fn);
    },
  };

  ctx.listen(bar, "click", (ev) => {
    const tab = (ev.target as HTMLElement).closest(".mp-tab") as HTMLElement | null;
    if (tab?.dataset.tab) api.show(tab.dataset.tab as TabId, true);
  });
  ctx.listen(bar, "keydown", (ev) => {
    const index = TABS.findIndex((t) => t.id === current);
    const next = tabKey(index, TABS.length, ev.key);
    if (next === null) return;
    // preventDefault also keeps JupyterLab's notebook shortcuts off the key.
    ev.preventDefault();
    const id = (TABS[next] as (typeof TABS)[number]).id;
    api.show(id, true);
    tabs.get(id)?.focus();
  });
  return api;
}
