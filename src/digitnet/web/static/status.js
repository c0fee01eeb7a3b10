// The network this tab draws with: ready or not (the server may still train its default one), which, and loading it.
import { api, toast } from './api.js';
import { buildLabels, clearBackprop, runBackprop, setLabel } from './backprop.js';
import { buildDiagram } from './diagram.js';
import { showForward } from './draw.js';
import { clearInspect, inspect } from './inspect.js';
import { clearPictures } from './pictures.js';
import { fromUrl, state, writeUrl } from './state.js';
import { ACTIVE, follow, following } from './train.js';
import { $, pct } from './view.js';

// While the server trains its default network (not one of the page's runs): its progress.
export function showStartup(status) {
  const box = $('#startup');
  if (state.ready) { box.hidden = true; return; }
  box.hidden = false;
  const p = status.progress || 0;
  $('#startup-text').textContent = /training the default network/.test(status.message)
    ? `Training the default network (784-16-16-10, as in the lessons) before the page can draw: ${Math.round(100 * p)}%`
    : `The page cannot draw yet: ${status.message}`;
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
    showStartup(status);
    if (!polling) polling = setInterval(refreshStatus, 700);
    if (!following() && ACTIVE.includes(status.training)) follow();
    return;
  }
  if (polling) { clearInterval(polling); polling = null; }
  $('#startup').hidden = true;
  if (!wasReady && fromUrl.run !== null && status.run !== fromUrl.run && await restoreRun(fromUrl.run)) return;
  const m = status.model;
  $('#model').textContent = `Network ${m.sizes.join('-')} (${m.activation}, ${m.cost} cost): ` +
    `${pct(m.test_accuracy)} right on the 10,000 test images; ${m.source}.`;
  state.network = status.run;
  $('#t-original').hidden = status.run === null;
  writeUrl();
  if (!wasReady || status.model_version !== state.modelVersion) await loadNetwork(status.model_version);
}

// The URL names a run's network (a reload, a link): draw with it again if the server still has it.
async function restoreRun(run) {
  try {
    await applyStatus(await api(`/api/train/use?run=${run}`, undefined, 'POST'));
    return true;
  } catch (error) {
    toast(`The link asked for the network of run ${run}: ${error.message}. Drawing with the server's own network.`);
    return false;
  }
}

async function loadNetwork(version) {
  const wanted = state.info === null ? fromUrl.neuron : state.selected && { layer: state.selected.layer, index: state.selected.index };
  state.info = await api('/api/network?top=256');
  state.modelVersion = state.info.model_version || version;
  clearInspect();
  clearPictures();
  clearBackprop();
  buildLabels();
  if (state.label !== null) setLabel(state.label, false);
  const previous = state.current;
  state.current = null; // the last network's layers, which need not fit this one's diagram
  buildDiagram();
  const input = previous ? previous.input : new Array(784).fill(0);
  showForward(await api('/api/forward', { input }), previous ? $('#source').textContent.replace(/^Input: |\.$/g, '') : 'a blank image');
  if (state.label !== null) runBackprop();
  const sizes = state.info.model.sizes;
  if (wanted && wanted.layer >= 1 && wanted.layer < sizes.length && wanted.index < sizes[wanted.layer]) {
    await inspect(wanted.layer, wanted.index, false); // the neuron selected before, in the URL or in the last network
  }
}

export function modelChanged() { refreshStatus(); }
