// View-local state shared by the views of ONE render: the selected subtree, the table's sort
// order, the parameters picked for histograms, and the tensor ids each view needs histograms
// of. Only the union of `watched` goes to the kernel (core/hists.ts, as hist_watch); two views
// of one widget select and watch independently.

import type { Sort } from "../logic/params";

export interface PanelState {
  selectedPath: string | null; // tree selection: filters the table to this subtree
  sort: Sort | null; // null: the kernel's order
  picked: ReadonlySet<number>; // parameter ids chosen for histograms (empty: the first few rows)
  watched: Readonly<Record<string, readonly number[]>>; // by view ("histograms", "distribution")
}

export interface Store {
  get(): PanelState;
  update(patch: Partial<PanelState>): void;
  /**
   * Call `fn` after every update that changes one of `keys` (all keys when omitted); returns
   * the unsubscribe. A view names what it draws from, so another view's bookkeeping (say,
   * the watched tensors) costs it no redraw, and no forced layout of the whole widget.
   */
  subscribe(fn: (state: PanelState) => void, keys?: readonly (keyof PanelState)[]): () => void;
}

export function createStore(initial?: Partial<PanelState>): Store {
  let state: PanelState = { selectedPath: null, sort: null, picked: new Set(), watched: {}, ...initial };
  const subs = new Map<(s: PanelState) => void, readonly (keyof PanelState)[] | undefined>();
  return {
    get: () => state,
    update(patch) {
      const before = state;
      state = { ...state, ...patch };
      for (const [fn, keys] of Array.from(subs)) {
        if (!keys || keys.some((k) => state[k] !== before[k])) fn(state);
      }
    },
    subscribe(fn, keys) {
      subs.set(fn, keys);
      return () => subs.delete(fn);
    },
  };
}

/** The ids every view of this render watches, ascending, each once. */
export function watchedIds(state: PanelState): number[] {
  const all = new Set<number>();
  for (const ids of Object.values(state.watched)) for (const id of ids) all.add(id);
  return Array.from(all).sort((a, b) => a - b);
}

/**
 * Set what `view` watches. No update (and so no redraw of every subscriber) when the set is
 * unchanged: the views call this from their own redraws.
 */
export function setWatched(store: Store, view: string, ids: readonly number[]): void {
  const current = store.get().watched[view] ?? [];
  if (current.length === ids.length && current.every((id, i) => id === ids[i])) return;
  store.update({ watched: { ...store.get().watched, [view]: ids.slice() } });
}
