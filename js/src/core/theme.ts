// The ONE place where the figures get their colours: JupyterLab's theme variables, read from
// the view's element, turned into a Plotly layout fragment and a colour scale. widget.css
// styles the DOM from the same variables, so figures and text follow Light, Dark and
// High Contrast alike. Outside JupyterLab (marimo, the saved HTML page, Notebook 7 without a
// theme) the variables are absent and FALLBACK, the same light palette as widget.css's
// fallbacks, is used.
//
// Views never write a colour into a figure: they build their layout without colours and pass
// it through withTheme(); heatmaps take colorscale(). themeOf(ctx, el) tells them when the
// JupyterLab theme changes, so they redraw.

import type { ViewContext } from "./context";

/** The theme variables read, and the light palette used where a host defines none. */
export const FALLBACK = {
  "--jp-layout-color1": "#ffffff",
  "--jp-layout-color2": "#eeeeee",
  "--jp-ui-font-color1": "rgba(0, 0, 0, 0.87)",
  "--jp-ui-font-color2": "rgba(0, 0, 0, 0.54)",
  "--jp-border-color1": "#bdbdbd",
  "--jp-border-color2": "#e0e0e0",
  "--jp-brand-color1": "#1976d2",
  "--jp-success-color1": "#388e3c",
  "--jp-warn-color1": "#f57c00",
  "--jp-error-color1": "#d32f2f",
  "--jp-ui-font-family": "system-ui, -apple-system, 'Segoe UI', helvetica, arial, sans-serif",
} as const;

export type ThemeVar = keyof typeof FALLBACK;

/** The colours a figure uses; every one is a CSS colour string Plotly understands. */
export interface Theme {
  /** True on a light background (JupyterLab Light), false on Dark and High Contrast. */
  light: boolean;
  /** --jp-layout-color1: the panel's background, and every figure's paper and plot area. */
  background: string;
  /** --jp-layout-color2: a raised surface; the empty end of heatmap colour scales. */
  backgroundAlt: string;
  /** --jp-ui-font-color1: axis labels, tick labels, hover text. */
  foreground: string;
  /** --jp-ui-font-color2: secondary text. */
  foregroundDim: string;
  /** --jp-border-color1: axis and zero lines. */
  axis: string;
  /** --jp-border-color2: grid lines. */
  grid: string;
  /** --jp-brand-color1: bars, lines, the full end of heatmap colour scales. */
  accent: string;
  /**
   * --jp-success-color1, --jp-warn-color1, --jp-error-color1: further traces. (JupyterLab's
   * --jp-accept-color-normal is its brand blue in every theme, the accent again.)
   */
  success: string;
  warn: string;
  error: string;
  /** --jp-ui-font-family. */
  fontFamily: string;
  /** Changes whenever any colour above does: views compare it to know they must redraw. */
  key: string;
}

/**
 * The theme from a variable reader: `read("--jp-layout-color1")` returns the variable's value,
 * or "" where the host does not define it (then FALLBACK's value is used). `light` says whether
 * the background is light; by default it is worked out from the background colour.
 */
export function themeFromVars(read: (name: ThemeVar) => string, light?: boolean): Theme {
  const v = (name: ThemeVar) => read(name).trim() || FALLBACK[name];
  const t: Omit<Theme, "key" | "light"> = {
    background: v("--jp-layout-color1"),
    backgroundAlt: v("--jp-layout-color2"),
    foreground: v("--jp-ui-font-color1"),
    foregroundDim: v("--jp-ui-font-color2"),
    axis: v("--jp-border-color1"),
    grid: v("--jp-border-color2"),
    accent: v("--jp-brand-color1"),
    success: v("--jp-success-color1"),
    warn: v("--jp-warn-color1"),
    error: v("--jp-error-color1"),
    fontFamily: v("--jp-ui-font-family"),
  };
  const bg = parseColor(t.background);
  const isLight = light ?? (bg ? luminance(bg) > 0.4 : true);
  return { ...t, light: isLight, key: JSON.stringify([isLight, ...Object.values(t)]) };
}

/** The fallback theme: what a host without JupyterLab's variables shows. */
export function fallbackTheme(): Theme {
  return themeFromVars(() => "");
}

/**
 * The colour part of a Plotly layout: paper and plot background, fonts, grid and axis lines,
 * hover labels and the default trace colours. Merge it with withTheme().
 */
export function plotlyLayout(t: Theme): Record<string, unknown> {
  const axis = { color: t.foreground, gridcolor: t.grid, linecolor: t.axis, zerolinecolor: t.axis, tickcolor: t.axis };
  return {
    paper_bgcolor: t.background,
    plot_bgcolor: t.background,
    font: { color: t.foreground, family: t.fontFamily },
    colorway: [t.accent, t.warn, t.success, t.error],
    hoverlabel: { bgcolor: t.backgroundAlt, bordercolor: t.axis, font: { color: t.foreground, family: t.fontFamily } },
    xaxis: { ...axis },
    yaxis: { ...axis },
  };
}

/**
 * `layout` (a view's sizes, margins, titles: no colours) over the theme's fragment. Objects one
 * level down (font, xaxis, yaxis, hoverlabel) are merged key by key, so a view that sets
 * `font: {size: 9}` keeps the theme's font colour.
 */
export function withTheme(layout: object, t: Theme): Record<string, unknown> {
  const out: Record<string, unknown> = { ...plotlyLayout(t) };
  for (const [key, value] of Object.entries(layout)) {
    const base = out[key];
    out[key] = isPlain(base) && isPlain(value) ? { ...base, ...value } : value;
  }
  return out;
}

/** Heatmap colour scale: empty cells in the raised surface colour, the fullest in the accent. */
export function colorscale(t: Theme): Array<[number, string]> {
  return [
    [0, t.backgroundAlt],
    [1, t.accent],
  ];
}

function isPlain(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** [r, g, b, a] (0-255, alpha 0-1) of a hex, rgb(), rgba() or white/black colour; null otherwise. */
export function parseColor(css: string): [number, number, number, number] | null {
  const s = css.trim().toLowerCase();
  if (s === "white") return [255, 255, 255, 1];
  if (s === "black") return [0, 0, 0, 1];
  const hex = /^#([0-9a-f]{3,8})$/.exec(s)?.[1];
  if (hex && [3, 4, 6, 8].includes(hex.length)) {
    const full = hex.length <= 4 ? hex.replace(/./g, (c) => c + c) : hex;
    const n = (i: number) => Number.parseInt(full.slice(2 * i, 2 * i + 2), 16);
    return [n(0), n(1), n(2), full.length === 8 ? n(3) / 255 : 1];
  }
  const fn = /^rgba?\(([^)]*)\)$/.exec(s)?.[1];
  if (fn) {
    const parts = fn.split(/[\s,/]+/).filter(Boolean);
    if (parts.length < 3) return null;
    const num = (p: string, scale: number) => (p.endsWith("%") ? (Number.parseFloat(p) / 100) * scale : Number.parseFloat(p));
    const [r, g, b] = parts.slice(0, 3).map((p) => num(p, 255)) as [number, number, number];
    const a = parts[3] === undefined ? 1 : num(parts[3], 1);
    if ([r, g, b, a].some((x) => !Number.isFinite(x))) return null;
    return [r, g, b, a];
  }
  return null;
}

/** WCAG relative luminance (0 = black, 1 = white) of an opaque [r, g, b] colour. */
export function luminance([r, g, b]: readonly number[]): number {
  const lin = (c: number) => {
    const x = c / 255;
    return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r ?? 0) + 0.7152 * lin(g ?? 0) + 0.0722 * lin(b ?? 0);
}

/**
 * The theme as the element sees it. A detached element (a view not yet in the page) inherits
 * nothing, so the document root is read instead: JupyterLab defines its variables there.
 * JupyterLab's own light/dark flag (body[data-jp-theme-light]) wins over the colour guess.
 */
export function readTheme(el: Element | null): Theme {
  const target = el && el.isConnected ? el : typeof document !== "undefined" ? document.documentElement : null;
  if (!target || typeof getComputedStyle !== "function") return fallbackTheme();
  const style = getComputedStyle(target);
  const flag = typeof document !== "undefined" ? document.body?.dataset.jpThemeLight : undefined;
  return themeFromVars((name) => style.getPropertyValue(name), flag === undefined ? undefined : flag !== "false");
}

/** The theme of one view, and a way to hear when JupyterLab switches it. */
export interface ThemeSource {
  /** The current theme (read again after a switch, and until the view is in the page). */
  get(): Theme;
  /** Call `fn` after every theme switch; returns the unsubscribe. */
  subscribe(fn: () => void): () => void;
}

/** The attributes JupyterLab's theme manager sets on <body> once a new theme's CSS is in. */
export const THEME_ATTRIBUTES = ["data-jp-theme-name", "data-jp-theme-light"];

const sources = new WeakMap<ViewContext, ThemeSource>();

/**
 * The ThemeSource of the view that owns `ctx`: one per render() call, shared by its sections,
 * reading from `el` (any element of the view). Its MutationObserver on document.body is
 * disconnected when the view is disposed.
 */
export function themeOf(ctx: ViewContext, el: Element): ThemeSource {
  let source = sources.get(ctx);
  if (!source) {
    source = createThemeSource(el, ctx.onDispose.bind(ctx));
    sources.set(ctx, source);
  }
  return source;
}

function createThemeSource(el: Element, onDispose: (fn: () => void) => void): ThemeSource {
  let cached: Theme | null = null;
  const listeners = new Set<() => void>();
  const observer =
    typeof MutationObserver === "function" && typeof document !== "undefined" && document.body
      ? new MutationObserver(() => {
          cached = null;
          for (const fn of Array.from(listeners)) fn();
        })
      : null;
  observer?.observe(document.body, { attributes: true, attributeFilter: THEME_ATTRIBUTES });
  onDispose(() => {
    observer?.disconnect();
    listeners.clear();
  });
  return {
    get() {
      // Not cached while detached: the page's own values are read once the view is in it.
      if (!cached || !el.isConnected) cached = readTheme(el);
      return cached;
    },
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
}
