// A per-view helper handed to every mounted section. One per render() call, never shared
// between views, so two views of one widget (or a hot reload) cannot leak into each other.

import type { AnyModel } from "@anywidget/types";
import type { Model, Reply } from "../model";
import { type Language, type Translate, pageLanguage, resolveLanguage, translator } from "./i18n";

/** The change events of the synced traits: a misspelt trait name fails to compile. */
export type ChangeEvent = `change:${keyof Model}`;

export interface ViewContext {
  /** The language this view shows (core/i18n.ts: `_language`, else the page's, else English). */
  readonly language: Language;
  /** Look up a UI string of that language in the catalog: `ctx.t("tabs.model")`. */
  readonly t: Translate;
  /**
   * Run `fn` once before the next animation frame. Scheduling the same function several times
   * in one frame runs it once: kernel updates arriving in bursts cost one redraw per frame.
   */
  schedule(fn: () => void): void;
  /**
   * Subscribe to a trait change ("change:_summary", ...) for the lifetime of this view; the
   * listener is removed by dispose().
   */
  on(event: ChangeEvent, fn: () => void): void;
  /**
   * Add a DOM listener for the lifetime of this view; dispose() removes it, so no view has to
   * pair addEventListener with removeEventListener by hand (and forget one).
   */
  listen<K extends keyof HTMLElementEventMap>(
    target: HTMLElement,
    type: K,
    handler: (ev: HTMLElementEventMap[K]) => void,
    options?: AddEventListenerOptions,
  ): void;
  /**
   * Send a custom message with a fresh request id and call `onReply` once with the kernel's
   * reply carrying the same id (`{kind: "<kind>_reply", id, ok, error?}`). Returns the id.
   * If the view is disposed first, onReply is never called.
   */
  send(msg: { kind: string; [key: string]: unknown }, onReply: (reply: Reply) => void): string;
  /** Register a cleanup to run when the view is disposed (last registered runs first). */
  onDispose(fn: () => void): void;
  /** True once dispose() ran: asynchronous callbacks check it before touching the DOM. */
  readonly disposed: boolean;
  /** Remove every model and DOM listener, cancel pending frames, drop pending replies, run cleanups. */
  dispose(): void;
}

type Frame = (cb: () => void) => number;
type CancelFrame = (handle: number) => void;

function frameFns(): [Frame, CancelFrame] {
  if (typeof requestAnimationFrame === "function" && typeof cancelAnimationFrame === "function") {
    return [(cb) => requestAnimationFrame(cb), (h) => cancelAnimationFrame(h)];
  }
  // No rAF (tests under Node, a hidden host): a 16 ms timer has the same coalescing effect.
  return [(cb) => setTimeout(cb, 16) as unknown as number, (h) => clearTimeout(h)];
}

let counter = 0;
function requestId(): string {
  const c = globalThis.crypto as Crypto | undefined;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  counter += 1;
  return `req-${Date.now().toString(36)}-${counter}-${Math.random().toString(36).slice(2)}`;
}

/** Create the context for one view of `model`. */
export function createContext(model: AnyModel<Model>): ViewContext {
  const [frame, cancelFrame] = frameFns();
  const queued = new Set<() => void>();
  let handle: number | null = null;
  const listeners: Array<[ChangeEvent, () => void]> = [];
  const domListeners: Array<() => void> = [];
  const pending = new Map<string, (reply: Reply) => void>();
  const cleanups: Array<() => void> = [];
  let disposed = false;

  const flush = () => {
    handle = null;
    const fns = Array.from(queued);
    queued.clear();
    for (const fn of fns) {
      if (disposed) return;
      fn();
    }
  };

  const onCustom = (msg: unknown) => {
    if (!msg || typeof msg !== "object") return;
    const reply = msg as Reply;
    if (typeof reply.id !== "string" || typeof reply.kind !== "string" || !reply.kind.endsWith("_reply")) return;
    const cb = pending.get(reply.id);
    if (!cb) return; // another view's request, or one already answered
    pending.delete(reply.id);
    cb(reply);
  };
  model.on("msg:custom", onCustom);

  // Read once per view: a change of `_language` re-renders the whole view (widget.ts).
  const language = resolveLanguage(model.get("_language"), pageLanguage());
  const ctx: ViewContext = {
    language,
    t: translator(language),
    schedule(fn) {
      if (disposed) return;
      queued.add(fn);
      if (handle === null) handle = frame(flush);
    },
    on(event, fn) {
      if (disposed) return;
      model.on(event, fn);
      listeners.push([event, fn]);
    },
    listen(target, type, handler, options) {
      if (disposed) return;
      const fn = handler as EventListener;
      target.addEventListener(type, fn, options);
      domListeners.push(() => target.removeEventListener(type, fn, options));
    },
    send(msg, onReply) {
      const id = requestId();
      if (disposed) return id;
      pending.set(id, onReply);
      model.send({ ...msg, id });
      return id;
    },
    onDispose(fn) {
      cleanups.push(fn);
    },
    get disposed() {
      return disposed;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      if (handle !== null) cancelFrame(handle);
      handle = null;
      queued.clear();
      pending.clear();
      model.off("msg:custom", onCustom);
      for (const [event, fn] of listeners) model.off(event, fn);
      listeners.length = 0;
      for (const remove of domListeners) remove();
      domListeners.length = 0;
      while (cleanups.length) {
        const fn = cleanups.pop() as () => void;
        try {
          fn();
        } catch {
          // A failing cleanup must not stop the others (Plotly.purge on a detached node, ...).
        }
      }
    },
  };
  return ctx;
}
