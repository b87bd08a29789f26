// The ONE module that imports Plotly. A partial bundle: plotly.js core plus the three trace
// types the views draw (bar: weight histograms; scatter: metric curves; heatmap: confusion
// matrix and distributions over time). The full plotly.js-dist-min is ~4.6 MB and anywidget
// sends the whole ESM with every widget instance, so each trace type added here costs every
// user; check `npm run build` output size (target: whole bundle <= 1.5 MB minified).
// plotly's registry requires maplibre-gl's stylesheet when a map subplot registers. None does
// here, so package.json marks maplibre-gl external: bundled, that unused CSS adds 65 KB.
import Plotly from "plotly.js/lib/core";
import type { PlotlyModule } from "plotly.js/lib/core";
import bar from "plotly.js/lib/bar";
import heatmap from "plotly.js/lib/heatmap";
import scatter from "plotly.js/lib/scatter";

// Registration mutates plotly's own registry and is idempotent, so doing it at import time
// is safe even when render() runs several times.
Plotly.register([bar, scatter, heatmap]);

// Plotly.react finishes asynchronously (margin and axis redraws run after it returns). A purge,
// or a second react, on the same div before that threw "Cannot read properties of undefined
// (reading '_redrawFromAutoMarginCount')" in the browser suite, when a refresh and a selection
// change arrived together. So the calls on one div run in order: each waits for the last.
const lastCall = new WeakMap<HTMLElement, Promise<unknown>>();

function inOrder<T>(el: HTMLElement, call: () => T | Promise<T>): Promise<T> {
  const run = () => call();
  const prev = lastCall.get(el);
  const result = prev ? prev.then(run, run) : Promise.resolve().then(run);
  const settled = result.then(
    () => undefined,
    () => undefined,
  );
  lastCall.set(el, settled);
  void settled.then(() => {
    if (lastCall.get(el) === settled) lastCall.delete(el);
  });
  return result;
}

/** Plotly with react/purge serialised per div; the views use it as they would Plotly. */
const SafePlotly: Pick<PlotlyModule, "react" | "purge" | "version"> = {
  react: (el, data, layout, config) => inOrder(el, () => Plotly.react(el, data, layout, config)),
  purge: (el) => {
    if (lastCall.has(el)) void inOrder(el, () => Plotly.purge(el));
    else Plotly.purge(el);
  },
  version: Plotly.version,
};

export type { PlotlyModule };
export default SafePlotly;
