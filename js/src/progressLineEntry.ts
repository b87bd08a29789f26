// The entry of the cell's progress-line bundle (static/progress_line.js): only the progress
// view and its styles, no Plotly, so each training cell's line adds kilobytes, not the
// panel's megabyte, to the messages and to the saved notebook.

import { renderProgressLine } from "./progressLine";

export default { render: renderProgressLine };
