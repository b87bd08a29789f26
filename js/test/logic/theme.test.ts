// core/theme.ts without a DOM: the theme from JupyterLab's variables, the Plotly layout
// fragment, the merge with a view's layout, the colour scale, and the colour arithmetic.
// LIGHT and DARK are the computed values of JupyterLab 4.6's own theme CSS
// (share/jupyter/lab/themes/@jupyterlab/theme-{light,dark}-extension/index.css, var() fallbacks
// resolved by hand), not anything theme.ts produces.
import { describe, expect, it } from "vitest";
import {
  FALLBACK,
  type ThemeVar,
  colorscale,
  fallbackTheme,
  luminance,
  parseColor,
  plotlyLayout,
  themeFromVars,
  withTheme,
} from "../../src/core/theme";

const LIGHT: Partial<Record<ThemeVar, string>> = {
  "--jp-layout-color1": "white",
  "--jp-layout-color2": "#eee",
  "--jp-ui-font-color1": "rgba(0,0,0,.87)",
  "--jp-ui-font-color2": "rgba(0,0,0,.54)",
  "--jp-border-color1": "#bdbdbd",
  "--jp-border-color2": "#e0e0e0",
  "--jp-brand-color1": "#1976d2",
  "--jp-success-color1": "#388e3c",
  "--jp-warn-color1": "#f57c00",
  "--jp-error-color1": "#d32f2f",
};
const DARK: Partial<Record<ThemeVar, string>> = {
  "--jp-layout-color1": " #212121", // getPropertyValue keeps the space after the colon
  "--jp-layout-color2": "#424242",
  "--jp-ui-font-color1": "rgba(255,255,255,.87)",
  "--jp-ui-font-color2": "rgba(255,255,255,.54)",
  "--jp-border-color1": "#616161",
  "--jp-border-color2": "#424242",
  "--jp-brand-color1": "#2196f3",
  "--jp-success-color1": "#4caf50",
  "--jp-warn-color1": "#ff9800",
  "--jp-error-color1": "#f44336",
};
const reader = (vars: Partial<Record<ThemeVar, string>>) => (name: ThemeVar) => vars[name] ?? "";

/** WCAG contrast of an opaque colour pair, from the formula (not from theme.ts's helpers). */
function contrast(a: [number, number, number], b: [number, number, number]): number {
  const lum = (rgb: number[]) =>
    rgb
      .map((c) => c / 255)
      .map((x) => (x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4))
      .reduce((s, x, i) => s + x * ([0.2126, 0.7152, 0.0722][i] as number), 0);
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

describe("themeFromVars", () => {
  it("takes every colour from JupyterLab Dark's variables and sees a dark background", () => {
    const t = themeFromVars(reader(DARK));
    expect(t).toMatchObject({
      light: false,
      background: "#212121",
      backgroundAlt: "#424242",
      foreground: "rgba(255,255,255,.87)",
      foregroundDim: "rgba(255,255,255,.54)",
      axis: "#616161",
      grid: "#424242",
      accent: "#2196f3",
      success: "#4caf50",
      warn: "#ff9800",
      error: "#f44336",
    });
  });

  it("sees JupyterLab Light (a named colour) as light", () => {
    const t = themeFromVars(reader(LIGHT));
    expect(t.light).toBe(true);
    expect(t.background).toBe("white");
    expect(t.accent).toBe("#1976d2");
  });

  it("falls back to the light palette, variable by variable, where the host defines none", () => {
    const t = themeFromVars(reader({ "--jp-brand-color1": "#ff0000" }));
    expect(t.accent).toBe("#ff0000");
    expect(t.background).toBe(FALLBACK["--jp-layout-color1"]);
    expect(t.foreground).toBe(FALLBACK["--jp-ui-font-color1"]);
    expect(fallbackTheme().light).toBe(true);
    expect(fallbackTheme().fontFamily).toBe(FALLBACK["--jp-ui-font-family"]);
  });

  it("lets JupyterLab's light/dark flag win over the colour guess", () => {
    expect(themeFromVars(reader(LIGHT), false).light).toBe(false);
    expect(themeFromVars(reader({ "--jp-layout-color1": "hsl(0 0% 10%)" }), false).light).toBe(false);
  });

  it("changes its key when any colour changes, and only then", () => {
    expect(themeFromVars(reader(DARK)).key).toBe(themeFromVars(reader(DARK)).key);
    expect(themeFromVars(reader(DARK)).key).not.toBe(themeFromVars(reader(LIGHT)).key);
    expect(themeFromVars(reader({ ...DARK, "--jp-border-color2": "#333" })).key).not.toBe(themeFromVars(reader(DARK)).key);
  });

  it("falls back to a readable palette: text 4.5:1 or more on the background", () => {
    const bg = parseColor(FALLBACK["--jp-layout-color1"]) as [number, number, number, number];
    for (const name of ["--jp-ui-font-color1", "--jp-ui-font-color2"] as const) {
      const [r, g, b, a] = parseColor(FALLBACK[name]) as [number, number, number, number];
      const over = [r, g, b].map((c, i) => a * c + (1 - a) * (bg[i] as number)) as [number, number, number];
      expect(contrast(over, [bg[0], bg[1], bg[2]])).toBeGreaterThanOrEqual(4.5);
    }
  });
});

describe("plotlyLayout and withTheme", () => {
  const dark = themeFromVars(reader(DARK));

  it("paints paper, plot area, fonts, grid and axis lines from the theme", () => {
    const l = plotlyLayout(dark) as Record<string, any>;
    expect(l.paper_bgcolor).toBe("#212121");
    expect(l.plot_bgcolor).toBe("#212121");
    expect(l.font.color).toBe("rgba(255,255,255,.87)");
    for (const axis of [l.xaxis, l.yaxis]) {
      expect(axis).toMatchObject({ gridcolor: "#424242", linecolor: "#616161", zerolinecolor: "#616161", color: "rgba(255,255,255,.87)" });
    }
    expect(l.colorway[0]).toBe("#2196f3");
    expect(l.hoverlabel).toMatchObject({ bgcolor: "#424242", font: { color: "rgba(255,255,255,.87)" } });
  });

  it("keeps the view's sizes and titles, merges one level down, and copies", () => {
    const view = {
      width: 320,
      font: { size: 9 },
      xaxis: { title: { text: "step" }, showgrid: false },
      margin: { l: 40 },
    };
    const before = JSON.stringify(view);
    const l = withTheme(view, dark) as Record<string, any>;
    expect(l.width).toBe(320);
    expect(l.font).toEqual({ size: 9, color: "rgba(255,255,255,.87)", family: dark.fontFamily });
    expect(l.xaxis).toMatchObject({ title: { text: "step" }, showgrid: false, gridcolor: "#424242" });
    expect(l.yaxis.gridcolor).toBe("#424242");
    expect(l.margin).toEqual({ l: 40 });
    expect(l.paper_bgcolor).toBe("#212121");
    expect(JSON.stringify(view)).toBe(before);
    // Two layouts from one theme share no objects: Plotly may mutate what it is given.
    const l2 = withTheme({}, dark) as Record<string, any>;
    expect(l2.xaxis).not.toBe(l2.yaxis);
    expect(l2.xaxis).not.toBe((withTheme({}, dark) as Record<string, any>).xaxis);
  });

  it("scales heatmaps from the raised surface to the accent", () => {
    expect(colorscale(dark)).toEqual([
      [0, "#424242"],
      [1, "#2196f3"],
    ]);
    expect(colorscale(themeFromVars(reader(LIGHT)))).toEqual([
      [0, "#eee"],
      [1, "#1976d2"],
    ]);
  });
});

describe("parseColor and luminance", () => {
  it("reads the colour syntaxes JupyterLab's themes use", () => {
    expect(parseColor("white")).toEqual([255, 255, 255, 1]);
    expect(parseColor("#eee")).toEqual([238, 238, 238, 1]);
    expect(parseColor(" #212121 ")).toEqual([33, 33, 33, 1]);
    expect(parseColor("#11223380")).toEqual([17, 34, 51, 128 / 255]);
    expect(parseColor("rgba(0,0,0,.87)")).toEqual([0, 0, 0, 0.87]);
    expect(parseColor("rgb(10 20 30 / 50%)")).toEqual([10, 20, 30, 0.5]);
    expect(parseColor("color-mix(in srgb, red, blue)")).toBeNull();
    expect(parseColor("#12")).toBeNull();
  });

  it("gives WCAG's relative luminance", () => {
    expect(luminance([255, 255, 255])).toBeCloseTo(1, 10);
    expect(luminance([0, 0, 0])).toBe(0);
    // #777777: ((0x77/255 + 0.055) / 1.055) ** 2.4 = 0.18447 for every channel.
    expect(luminance([0x77, 0x77, 0x77])).toBeCloseTo(0.18447, 4);
    // Pure green weighs 0.7152 by the definition.
    expect(luminance([0, 255, 0])).toBeCloseTo(0.7152, 10);
  });
});
