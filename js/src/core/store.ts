// View-local state shared by the tree, the parameter table and the histograms of ONE view:
// the selected subtree, the table's sort order and the parameters picked for histograms.
// Nothing here is written to the kernel; two views of one widget select independently.

import type { Sort } from "../logic/params";

export interface PanelState {
  selectedPath: string | null; // tree selection: filters the table to this subtree
  sort: Sort | null; // null: the kernel's order
  picked: ReadonlySet<number>; // parameter ids chosen for histograms (empty: the first few rows)
}

export interface Store {
  get(): PanelState;
  update(patch: Partial<PanelState>): void;
  /** Call `fn` after every update; returns the unsubscribe. */
  subscribe(fn: (state: PanelState) => void): () => void;
}

export function createStore(initial?: Partial<PanelState>): Store {
  let state: PanelState = { selectedPath: null, sort: null, picked: new Set(), ...initial };
  const subs = new Set<(s: PanelState) => void>();
  return {
    get: () => state,
    update(patch) {
      state = { ...state, ...patch };
      for (const fn of Array.from(subs)) fn(state);
    },
    subscribe(fn) {
      subs.add(fn);
      return () => subs.delete(fn);
    },
  };
}
