// 1. Drawing: the pad, sent to the server as a grey grid while you draw; and one forward pass shown.
import { api, failed } from './api.js';
import { forgetLabel, runBackprop, setLabel } from './backprop.js';
import { updateDiagram } from './diagram.js';
import { renderInspect } from './inspect.js';
import { state, stats } from './state.js';
import { modelChanged } from './status.js';
import { $, paint } from './view.js';

const PAD_GRID = 140; // the drawing is sent as a 140x140 grid of grey levels

const pad = $('#pad');
const padCtx = pad.getContext('2d');
const small = document.createElement('canvas');
small.width = small.height = PAD_GRID;
const smallCtx = small.getContext('2d', { willReadFrequently: true });
export const seen = $('#seen');

let drawing = false;
let last = null;
let dirtySince = null; // time of the oldest stroke event not yet sent
let inFlight = false;
let clearOnDraw = false; // after a test digit or random noise, the next stroke starts a fresh input

function padPoint(event) {
  const r = pad.getBoundingClientRect();
  return { x: (event.clientX - r.left) * (pad.width / r.width), y: (event.clientY - r.top) * (pad.height / r.height) };
}

const stroke = (from, to) => window.digitnetPad.stroke(padCtx, from, to);

pad.addEventListener('pointerdown', (event) => {
  if (!state.ready || event.button > 0) return;
  event.preventDefault();
  pad.setPointerCapture(event.pointerId);
  if (clearOnDraw) { padCtx.clearRect(0, 0, pad.width, pad.height); clearOnDraw = false; forgetLabel(); }
  $('#pad-hint').hidden = true;
  drawing = true;
  last = padPoint(event);
  stroke(last, last);
  changed(event.timeStamp);
});

// The pen's moves as soon as they come: pointerrawupdate (where the browser has it: Chromium, on
// a secure origin such as localhost) is dispatched at once, while pointermove waits for the next
// animation frame (up to 16 ms) before the drawing can be sent.
const MOVE = 'onpointerrawupdate' in window ? 'pointerrawupdate' : 'pointermove';
pad.addEventListener(MOVE, (event) => {
  if (!drawing) return;
  const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
  for (const e of (events.length ? events : [event])) {
    const p = padPoint(e);
    stroke(last, p);
    last = p;
  }
  changed(event.timeStamp);
});

function endStroke() {
  if (!drawing) return;
  drawing = false;
  strokeEnded = true;
  if (!inFlight && dirtySince === null) afterStroke();
}
pad.addEventListener('pointerup', endStroke);
pad.addEventListener('pointercancel', endStroke);
pad.addEventListener('lostpointercapture', endStroke);

let strokeEnded = false;
function afterStroke() {
  strokeEnded = false;
  if (state.label !== null) runBackprop();
}

function changed(timeStamp) {
  if (dirtySince === null) dirtySince = timeStamp;
  sendDrawing();
}

// One request in flight at a time; whatever was drawn meanwhile goes in the next one.
async function sendDrawing() {
  if (inFlight || dirtySince === null || !state.ready) return;
  const t0 = dirtySince;
  const sent = performance.now();
  dirtySince = null;
  inFlight = true;
  state.answerDue = true;
  smallCtx.clearRect(0, 0, PAD_GRID, PAD_GRID);
  smallCtx.drawImage(pad, 0, 0, PAD_GRID, PAD_GRID);
  const rgba = smallCtx.getImageData(0, 0, PAD_GRID, PAD_GRID).data;
  let bytes = '';
  for (let i = 0; i < PAD_GRID * PAD_GRID; i++) bytes += String.fromCharCode(rgba[4 * i + 3]); // ink = alpha
  const pixels = btoa(bytes);
  try {
    stats.canvasRequests += 1;
    const t1 = performance.now();
    const result = await api('/api/canvas', { width: PAD_GRID, height: PAD_GRID, pixels });
    const t2 = performance.now();
    showForward(result, 'your drawing');
    const t3 = performance.now();
    stats.fetchMs.push(t2 - t1);
    stats.renderMs.push(t3 - t2);
    afterPaint((frame, painted) => {
      stats.latencies.push(painted - t0);
      stats.phases.push({ waited: sent - t0, encoded: t1 - sent, fetched: t2 - t1, rendered: t3 - t2,
        frame: frame - t3, painted: painted - frame });
      if (!inFlight && dirtySince === null) state.answerDue = false;
    });
  } catch (error) {
    failed(error);
    state.answerDue = false;
  } finally {
    inFlight = false;
  }
  if (dirtySince !== null) sendDrawing();
  else if (strokeEnded && !drawing) afterStroke();
}

// Call back once the next frame is painted, with the times (performance.now()) its rendering started
// and ended: the frame's requestAnimationFrame callbacks run before its style, layout and paint, and
// a message posted from one is handled after them, once the frame's pixels are drawn and handed to
// the compositor (which puts them on the screen).
function afterPaint(callback) {
  requestAnimationFrame(() => {
    const frame = performance.now();
    const channel = new MessageChannel();
    channel.port1.onmessage = () => callback(frame, performance.now());
    channel.port2.postMessage(null);
  });
}

function clearPad() {
  forgetLabel();
  padCtx.clearRect(0, 0, pad.width, pad.height);
  $('#pad-hint').hidden = false;
  clearOnDraw = false;
  dirtySince = null;
  showInput(new Array(784).fill(0), 'a blank image');
}

// Put a 28x28 image on the pad, pixel for pixel, so strokes can be added to it.
function padImage(values) {
  const tile = document.createElement('canvas');
  tile.width = tile.height = 28;
  const ctx = tile.getContext('2d');
  const image = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) image.data.set([255, 255, 255, Math.round(255 * values[i])], 4 * i);
  ctx.putImageData(image, 0, 0);
  padCtx.clearRect(0, 0, pad.width, pad.height);
  padCtx.imageSmoothingEnabled = false;
  padCtx.drawImage(tile, 0, 0, pad.width, pad.height);
  padCtx.imageSmoothingEnabled = true;
  $('#pad-hint').hidden = true;
}

async function showInput(values, what) {
  try {
    showForward(await api('/api/forward', { input: values }), what);
  } catch (error) { failed(error); }
}

$('#clear').addEventListener('click', clearPad);

$('#example').addEventListener('click', () => loadExample());

// A test image on the pad (random, or test image number ``index``), with its label for backpropagation.
export async function loadExample(index) {
  try {
    const result = await api(index === undefined ? '/api/example' : `/api/example?index=${index}`);
    padImage(result.input);
    clearOnDraw = true;
    setLabel(result.label, false);
    showForward(result, `test image #${result.index} (labelled ${state.classNames[result.label]})`);
    runBackprop();
  } catch (error) { failed(error); }
}

$('#noise').addEventListener('click', async () => {
  const values = Array.from({ length: 784 }, () => Math.random());
  padImage(values);
  clearOnDraw = true;
  forgetLabel();
  await showInput(values, 'random noise (draw to start again)');
});

export function showForward(result, what) {
  if (result.model_version !== state.modelVersion) { modelChanged(); }
  state.current = result;
  paint(seen, result.input, 28, false);
  const g = $('#guess');
  if (result.blank) { // no ink: the outputs are no reading of anything, so no guess is shown
    g.textContent = '–';
    $('#confidence').textContent = 'blank: nothing to read';
  } else {
    g.textContent = state.classNames[result.guess];
    $('#confidence').textContent = `output ${result.output[result.guess].toFixed(2)}`;
  }
  $('#source').textContent = `Input: ${what}.`;
  updateDiagram(result);
  if (state.selected) renderInspect();
  $('#bp-step').disabled = state.label === null;
}
