// The ONE module that imports Plotly. A partial bundle: plotly.js core plus the three trace
// types the views draw (bar: weight histograms; scatter: metric curves; heatmap: confusion
// matrix and distributions over time). The full plotly.js-dist-min is ~4.6 MB and anywidget
// sends the whole ESM with every widget instance, so each trace type added here costs every
// user; check `npm run build` output size (target: whole bundle <= 1.5 MB minified).
import Plotly from "plotly.js/lib/core";
import bar from "plotly.js/lib/bar";
import heatmap from "plotly.js/lib/heatmap";
import scatter from "plotly.js/lib/scatter";

// Registration mutates plotly's own registry and is idempotent, so doing it at import time
// is safe even when render() runs several times.
Plotly.register([bar, scatter, heatmap]);

export type { PlotlyModule } from "plotly.js/lib/core";
export default Plotly;
