// The served network: is it ready (or still training at start-up), which one, and loading it.
import { api } from './api.js';
import { buildLabels, clearBackprop, runBackprop, setLabel } from './backprop.js';
import { buildDiagram } from './diagram.js';
import { showForward } from './draw.js';
import { state } from './state.js';
import { ACTIVE, follow, following } from './train.js';
import { $, html, pct } from './view.js';

export function showStartup(run) {
  const box = $('#startup');
  if (state.ready) { box.hidden = true; return; }
  box.hidden = false;
  const p = run ? run.progress || 0 : 0;
  $('#startup-text').textContent = run && run.state === 'failed'
    ? `The default network could not be trained: ${run.message}`
    : `Training the default network (784-16-16-10, as in the lessons) before the page can draw: ${Math.round(100 * p)}%`;
  $('#startup-bar').style.width = `${(100 * p).toFixed(1)}%`;
}

let polling = null;
export async function refreshStatus() {
  try {
    await applyStatus(await api('/api/status'));
  } catch (error) {
    $('#model').textContent = `The server does not answer: ${error.message}`;
  }
}

export async function applyStatus(status) {
  state.classNames = status.class_names;
  const wasReady = state.ready;
  state.ready = status.ready;
  document.body.classList.toggle('not-ready', !status.ready);
  for (const id of ['#clear', '#example', '#noise']) $(id).disabled = !status.ready;
  if (!status.ready) {
    $('#model').textContent = status.message;
    showStartup(state.run || { progress: status.progress, state: status.training });
    if (!polling) polling = setInterval(refreshStatus, 700);
    if (!following() && ACTIVE.includes(status.training)) follow();
    return;
  }
  if (polling) { clearInterval(polling); polling = null; }
  $('#startup').hidden = true;
  const m = status.model;
  $('#model').textContent = `Network ${m.sizes.join('-')} (${m.activation}, ${m.cost} cost), ` +
    `${pct(m.test_accuracy)} right on the 10,000 test images — ${m.source}`;
  $('#t-original').hidden = !/trained on this page/.test(m.source);
  if (!wasReady || status.model_version !== state.modelVersion) await loadNetwork(status.model_version);
}

async function loadNetwork(version) {
  state.info = await api('/api/network?top=256');
  state.modelVersion = state.info.model_version || version;
  state.selected = null;
  $('#inspect').querySelectorAll('*').forEach((n) => n.remove());
  html('p', { class: 'muted' }, 'Click a neuron in the diagram to see the weights it gives its inputs, its bias, ' +
    'and how its weighted sum z becomes its activation a.', $('#inspect'));
  clearBackprop();
  buildLabels();
  if (state.label !== null) setLabel(state.label, false);
  buildDiagram();
  const input = state.current ? state.current.input : new Array(784).fill(0);
  showForward(await api('/api/forward', { input }), state.current ? $('#source').textContent.replace(/^Input: |\.$/g, '') : 'a blank image');
  if (state.label !== null) runBackprop();
}

export function modelChanged() { refreshStatus(); }
