// 5. Training: start a run, follow it live (Server-Sent Events), pause, stop, use or save it.
import { api, decode, failed, toast } from './api.js';
import { state, stats } from './state.js';
import { applyStatus, refreshStatus } from './status.js';
import { $, fieldError, fmt, html, paint, pct } from './view.js';

const form = $('#train-form');
const FIELDS = { hidden: '#t-hidden', learning_rate: '#t-eta', batch_size: '#t-batch', epochs: '#t-epochs' };

// What a field accepts, in words: from its own limits (the schema's, written in index.html).
function accepts(field) {
  const input = $(FIELDS[field]);
  if (field === 'hidden') return 'Hidden layers: up to 4 sizes separated by commas, each 1 to 512 neurons (e.g. 16,16)';
  const name = input.parentElement.firstChild.textContent.trim();
  if (field === 'learning_rate') return `${name}: a number above 0, at most ${input.max}`;
  return `${name}: a whole number from ${input.min} to ${input.max}`;
}

function checkForm(hidden) {
  const wrong = [];
  if (hidden.length > 4 || hidden.some((k) => !Number.isInteger(k) || k < 1 || k > 512)) wrong.push('hidden');
  for (const field of ['learning_rate', 'batch_size', 'epochs']) {
    const input = $(FIELDS[field]);
    const v = Number(input.value);
    const whole = field !== 'learning_rate';
    if (input.value.trim() === '' || !Number.isFinite(v) || v > Number(input.max) ||
        (whole ? !Number.isInteger(v) || v < Number(input.min) : v <= 0)) wrong.push(field);
  }
  for (const field of Object.keys(FIELDS)) fieldError(FIELDS[field], wrong.includes(field) ? accepts(field) : '');
  return wrong.length === 0;
}

form.setAttribute('novalidate', ''); // the page says what is wrong beside each field, in words
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const hiddenText = $('#t-hidden').value.trim();
  const hidden = hiddenText ? hiddenText.split(/[\s,]+/).filter(Boolean).map(Number) : [];
  if (!checkForm(hidden)) return;
  const limit = $('#t-limit').value;
  const body = {
    hidden,
    activation: $('#t-activation').value,
    cost: $('#t-cost').value,
    learning_rate: Number($('#t-eta').value),
    batch_size: Number($('#t-batch').value),
    epochs: Number($('#t-epochs').value),
    limit: limit ? Number(limit) : null,
    seconds_per_batch: window.digitnetLive.speed(),
  };
  try {
    await api('/api/train', body);
    follow();
  } catch (error) {
    const known = error.fields.filter((f) => f.field in FIELDS);
    for (const f of known) fieldError(FIELDS[f.field], accepts(f.field));
    if (!known.length) failed(error);
  }
});

$('#t-pause').addEventListener('click', async () => {
  const paused = state.run && state.run.state === 'paused';
  try { onTrainState(await api(paused ? '/api/train/resume' : '/api/train/pause', undefined, 'POST')); } catch (error) { failed(error); }
});
$('#t-stop').addEventListener('click', async () => {
  try { onTrainState(await api('/api/train/stop', undefined, 'POST')); } catch (error) { failed(error); }
});
$('#t-use').addEventListener('click', async () => {
  try {
    const status = await api(`/api/train/use${state.run && state.run.run ? `?run=${state.run.run}` : ''}`, undefined, 'POST');
    await applyStatus(status);
    toast(`Now drawing with the network ${status.model.source}, in this tab only.`);
  } catch (error) { failed(error); }
});
$('#t-original').addEventListener('click', async () => {
  try {
    const status = await api('/api/model/original', undefined, 'POST');
    await applyStatus(status);
    toast(`Back to the server's own network: ${status.model.source}.`);
  } catch (error) { failed(error); }
});
$('#t-save').addEventListener('click', async () => {
  try {
    const saved = await api('/api/train/save', {});
    toast(`Saved as ${saved.path}`);
  } catch (error) { failed(error); }
});
$('#t-download').addEventListener('click', (event) => {
  if ($('#t-download').getAttribute('aria-disabled') === 'true') event.preventDefault();
});

let source = null;
// The run's news comes in bursts: each look of the server's stream sends every curve point, cost
// of mini-batches and weight picture since its last look, and a fast training makes hundreds a
// second. The page takes them all in as they come and draws at most once an animation frame (the
// curves, the history, the latest weight pictures only), so the frames stay free for the drawing pad.
// While a drawing waits for its answer the news waits too (drawing them takes several ms of the
// frame the answer needs), up to NEWS_WAIT_MS: someone drawing on and on still sees the curves move.
const NEWS_WAIT_MS = 250; // 4 times a second at least
const later = { curves: false, history: false, weights: null, since: null };
let frame = 0;
function soon() {
  if (later.since === null) later.since = performance.now();
  if (!frame) frame = requestAnimationFrame(drawNews);
}
function drawNews(now) {
  frame = 0;
  if (state.answerDue && now - later.since < NEWS_WAIT_MS) { frame = requestAnimationFrame(drawNews); return; }
  const t0 = performance.now();
  const { curves, history, weights } = later;
  Object.assign(later, { curves: false, history: false, weights: null, since: null });
  if (weights !== null) renderWeights(JSON.parse(weights));
  if (history) renderHistory();
  if (curves) drawCurves();
  stats.news.push({ at: t0, ms: performance.now() - t0 });
}
/** Whether the page is following a run's events now. */
export const following = () => source !== null;
// Follow the training run live (Server-Sent Events); the server replays the run so far on connect.
export function follow() {
  if (source) source.close();
  source = new EventSource('/api/train/events');
  source.onopen = () => { state.points = []; state.history = []; state.batches = []; };
  source.addEventListener('state', (e) => onTrainState(JSON.parse(e.data)));
  source.addEventListener('point', (e) => { state.points.push(JSON.parse(e.data)); later.curves = true; soon(); });
  source.addEventListener('batch', (e) => { state.batches.push(JSON.parse(e.data)); later.curves = true; soon(); });
  source.addEventListener('step', (e) => window.digitnetLive.showStep(JSON.parse(e.data)));
  source.addEventListener('epoch', (e) => {
    state.history.push(JSON.parse(e.data)); later.curves = true; later.history = true; soon();
  });
  source.addEventListener('weights', (e) => { later.weights = e.data; soon(); });
  source.addEventListener('end', () => { source.close(); source = null; });
}

export const ACTIVE = ['loading', 'running', 'paused', 'stopping'];
export function onTrainState(s) {
  const previous = state.run;
  if (previous && s.run !== previous.run) { state.points = []; state.history = []; state.batches = []; }
  state.run = { ...(previous || {}), ...s };
  const r = state.run;
  const active = ACTIVE.includes(r.state);
  const settings = r.settings;
  const what = settings ? `${settings.sizes.join('-')}, ${settings.activation}, ${settings.cost}, η = ${settings.learning_rate}, ` +
    `batch ${settings.batch_size}, ${settings.limit ? settings.limit.toLocaleString('en') : 'all 60,000'} images` : '';
  const progress = r.state === 'idle' ? 'No training yet.' : `Run ${r.run}: ${r.state}` +
    (settings ? ` — epoch ${r.epoch} of ${settings.epochs} (${Math.round(100 * r.progress)}%)` : '') + (what ? `. ${what}.` : '.');
  $('#t-status').textContent = r.state === 'failed' ? `${progress} ${r.message}` : progress;
  $('#t-bar').style.width = `${(100 * r.progress).toFixed(1)}%`;
  $('#t-start').disabled = active;
  $('#t-pause').disabled = !(r.state === 'running' || r.state === 'paused');
  $('#t-pause').textContent = r.state === 'paused' ? 'Resume' : 'Pause';
  $('#t-stop').disabled = !(r.state === 'running' || r.state === 'paused' || r.state === 'loading');
  $('#t-use').disabled = !r.has_network;
  $('#t-save').disabled = !r.has_network;
  $('#t-download').setAttribute('aria-disabled', String(!r.has_network));
  if (!active && previous && ACTIVE.includes(previous.state)) refreshStatus();
  window.digitnetLive.onState(r);
  document.dispatchEvent(new CustomEvent('digitnet:train', { detail: r }));
  later.curves = true;
  soon();
}

function renderHistory() {
  const table = $('#history');
  const body = table.querySelector('tbody');
  if (body.children.length > state.history.length) body.textContent = ''; // a new run: its rows afresh
  for (const h of state.history.slice(body.children.length)) { // the new epochs' rows only
    const tr = html('tr', {}, null, body);
    html('td', {}, String(h.epoch), tr);
    html('td', {}, fmt(h.train_cost, 4), tr);
    html('td', {}, pct(h.train_accuracy), tr);
    html('td', {}, pct(h.test_accuracy), tr);
    html('td', {}, fmt(h.seconds, 1), tr);
  }
  table.hidden = state.history.length === 0;
}

function renderWeights(images) {
  const box = $('#weights');
  const count = images.data.length;
  while (box.children.length > count) box.lastChild.remove();
  while (box.children.length < count) {
    html('canvas', { width: 28, height: 28, class: 'weight-tile', title: `neuron ${box.children.length}` }, null, box);
  }
  images.data.forEach((b64, n) => paint(box.children[n], decode(b64, true), 28, true));
}

// The curves are drawn by live.js (axes that follow the numbers, a log scale): now (a new size, the
// log scale switched), or with the run's news at the next frame.
export function drawCurves() {
  later.curves = false;
  stats.curve = state.points.map((p) => p.epoch);
  window.digitnetLive.drawCurves(state);
}
document.addEventListener('digitnet:redraw', drawCurves);
