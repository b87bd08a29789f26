// plotly.js ships no type declarations for its per-trace entry points (lib/core, lib/bar, ...).
// These are the few calls the views make; see https://plotly.com/javascript/plotlyjs-function-reference/.
declare module "plotly.js/lib/core" {
  export interface PlotlyModule {
    register(modules: unknown[]): void;
    react(el: HTMLElement, data: object[], layout?: object, config?: object): Promise<HTMLElement>;
    newPlot(el: HTMLElement, data: object[], layout?: object, config?: object): Promise<HTMLElement>;
    purge(el: HTMLElement): void;
    version: string;
  }
  const Plotly: PlotlyModule;
  export default Plotly;
}
declare module "plotly.js/lib/bar" {
  const trace: unknown;
  export default trace;
}
declare module "plotly.js/lib/scatter" {
  const trace: unknown;
  export default trace;
}
declare module "plotly.js/lib/heatmap" {
  const trace: unknown;
  export default trace;
}
