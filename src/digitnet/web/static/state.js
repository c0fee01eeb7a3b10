// What the page's panels share: the network drawn with, the current drawing, the run followed;
// and the page's settings kept in its URL (the hash), so a reload or a shared link restores them.

// Read by the browser tests and bench_live: stroke-to-screen latencies (ms) and each one's phases
// (draw.js), request counts, when the training's news was drawn and how long that took (train.js).
export const stats = { latencies: [], phases: [], fetchMs: [], renderMs: [], canvasRequests: 0, news: [], errors: [],
  curve: [] };
window.digitnet = stats;

// The URL's hash holds `net=original` or `net=run-N` (the network this tab draws with) and
// `neuron=L.i` (the neuron selected, layer L from 1, index i from 0), e.g. #net=run-2&neuron=1.3.
// It is read once when the page loads (`fromUrl`) and rewritten on each change, without adding
// to the history.
function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  const run = /^run-(\d+)$/.exec(params.get('net') || '');
  const neuron = /^(\d+)\.(\d+)$/.exec(params.get('neuron') || '');
  return { run: run ? Number(run[1]) : null,
    neuron: neuron ? { layer: Number(neuron[1]), index: Number(neuron[2]) } : null };
}
export const fromUrl = readHash();

let selected = null;
export const state = {
  ready: false,
  answerDue: false, // a drawing is on its way to the server or back: its answer has the next frames first
  modelVersion: 0,
  run: null, // the training run followed
  network: null, // the run whose network this tab draws with (null: the server's own), from /api/status
  info: null, // GET /api/network
  current: null, // the last ForwardResponse
  classNames: '0123456789'.split(''),
  label: null, // the right digit, chosen for backpropagation
  backprop: null,
  points: [],
  history: [],
  batches: [], // the mini-batches' cost, piece by piece (live.js draws them)
  // The selected neuron {layer, index, data} (null: none). Setting it also writes it in the URL.
  get selected() { return selected; },
  set selected(value) { selected = value; writeUrl(); },
};
window.digitnetState = state; // read by lessons.js: the current drawing, the run

export function writeUrl() {
  const params = new URLSearchParams();
  params.set('net', state.network ? `run-${state.network}` : 'original');
  if (selected) params.set('neuron', `${selected.layer}.${selected.index}`);
  const hash = `#${params.toString()}`;
  if (location.hash !== hash) history.replaceState(null, '', hash);
}

// A hash changed by hand (or a link followed within the page) is applied as a fresh load would.
window.addEventListener('hashchange', () => location.reload());
