// What the page's panels share: the served network, the current drawing, the run followed.

// Read by the browser tests: stroke-to-screen latencies (ms) and request counts.
export const stats = { latencies: [], fetchMs: [], renderMs: [], canvasRequests: 0, errors: [], curve: [] };
window.digitnet = stats;

export const state = {
  ready: false,
  modelVersion: 0,
  info: null, // GET /api/network
  current: null, // the last ForwardResponse
  classNames: '0123456789'.split(''),
  label: null, // the right digit, chosen for backpropagation
  backprop: null,
  selected: null, // {layer, index, data}
  run: null, // the training run followed
  points: [],
  history: [],
  batches: [], // the mini-batches' cost, piece by piece (live.js draws them)
};
window.digitnetState = state; // read by lessons.js: the current drawing, the run
