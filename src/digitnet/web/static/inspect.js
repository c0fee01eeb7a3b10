// 3. Inspecting a neuron: its weights (as an image for the first layer), its bias, z and a, and the
// activation's curve with this z marked. The panel scrolls into view when it is out of sight.
import { api, failed } from './api.js';
import { drawCurve } from './curve.js';
import { diagram, layerActivations } from './diagram.js';
import { state } from './state.js';
import { $, diverging, fmt, grey, html, maxAbs, paint, rgb, signed } from './view.js';

const hint = Array.from($('#inspect').children, (n) => n.cloneNode(true)); // "Click (or tap) a neuron…"

const request = (layer, index, result) => api('/api/neuron', { layer, index, input: result ? result.input : undefined });

// scroll: bring the panel into view (a click, a key); not for a neuron restored from the URL.
export async function inspect(layer, index, scroll = true) {
  try {
    const result = state.current;
    const data = await request(layer, index, result);
    state.selected = { layer, index, data, result };
    markSelected();
    paintInspect();
    if (scroll) bringIntoView();
  } catch (error) { failed(error); }
}

// Back to the hint, for a new network.
export function clearInspect() {
  state.selected = null;
  $('#inspect').replaceChildren(...hint.map((n) => n.cloneNode(true)));
}

function bringIntoView() {
  const panel = $('#inspect').closest('.panel');
  const r = panel.getBoundingClientRect();
  if (r.top >= -1 && r.bottom <= window.innerHeight + 1) return; // in view, to the pixel's fraction
  const still = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  panel.scrollIntoView({ behavior: still ? 'auto' : 'smooth', block: r.height > window.innerHeight ? 'start' : 'nearest' });
}

// After each forward pass: the neuron's z, a and curve for the new image (one request at a time).
let fetching = false;
export async function renderInspect() {
  if (fetching || !state.selected) return;
  fetching = true;
  try {
    while (state.selected && state.selected.result !== state.current) {
      const s = state.selected; const result = state.current;
      const data = await request(s.layer, s.index, result);
      if (state.selected === s) { s.data = data; s.result = result; paintInspect(); }
    }
  } catch (error) { failed(error); } finally { fetching = false; }
}

export function markSelected() {
  for (const row of diagram.neurons) for (const n of row) n.classList.remove('selected');
  const s = state.selected;
  const row = s && diagram.neurons[s.layer - 1];
  if (row && row[s.index]) row[s.index].classList.add('selected');
}

function paintInspect() {
  const box = $('#inspect');
  const s = state.selected;
  if (!s) return;
  const { layer, index, data } = s;
  const L = state.info.model.sizes.length - 1;
  const result = s.result;
  box.textContent = '';
  const name = layer === L ? `Output neuron ${state.classNames[index]}` : `Layer ${layer}, neuron ${index}`;
  html('h3', {}, name, box);
  const inputs = result ? layerActivations(result, layer - 1) : null;
  const w = data.weights;
  const m = maxAbs(w);
  if (data.image_side === 28) {
    const row = html('div', { class: 'inspect-images' }, null, box);
    const f1 = html('figure', {}, null, row);
    const c1 = html('canvas', { width: 28, height: 28, class: 'weights-image', id: 'neuron-weights',
      'aria-label': 'the neuron’s 784 incoming weights as an image' }, null, f1);
    paint(c1, w.map((v) => v / m), 28, true);
    html('figcaption', {}, 'its weights w (blue +, red −)', f1);
    if (inputs) {
      const prod = w.map((v, i) => v * inputs[i]);
      const mp = maxAbs(prod);
      const f2 = html('figure', {}, null, row);
      const c2 = html('canvas', { width: 28, height: 28, class: 'weights-image',
        'aria-label': 'each weight times its input pixel' }, null, f2);
      paint(c2, prod.map((v) => v / mp), 28, true);
      html('figcaption', {}, 'w × a: what this image adds up', f2);
    }
  } else {
    const strip = html('div', { class: 'cells', id: 'neuron-weights', role: 'img',
      'aria-label': `its ${w.length} incoming weights` }, null, box);
    const limit = Math.min(w.length, 128);
    for (let i = 0; i < limit; i++) {
      const cell = html('span', { class: 'cell', title: `from neuron ${i}: w = ${w[i].toFixed(3)}` +
        (inputs ? `, a = ${inputs[i].toFixed(3)}` : '') }, null, strip);
      cell.style.background = rgb(diverging(w[i] / m));
      if (inputs) cell.style.borderColor = grey(inputs[i]);
    }
    html('p', { class: 'muted small' }, `Its ${w.length} weights from layer ${layer - 1}` +
      (w.length > limit ? ` (first ${limit} shown)` : '') + ': blue +, red −; the border is that neuron’s activation now.', box);
  }
  const dl = html('dl', { class: 'numbers' }, null, box);
  const item = (term, value) => { html('dt', {}, term, dl); html('dd', {}, value, dl); };
  item('bias b', fmt(data.bias));
  if (result) {
    const z = result.layers[layer - 1].z[index];
    const a = result.layers[layer - 1].a[index];
    item('z = Σ w·a + b', `${fmt(z - data.bias)} ${data.bias >= 0 ? '+' : '−'} ${fmt(Math.abs(data.bias))} = ${fmt(z)}`);
    const symbol = layer === L ? state.info.model.output_symbol : state.info.model.hidden_symbol;
    item(`a = ${symbol}(z)`, fmt(a));
    drawCurve(box, data, symbol);
  } else {
    item('z, a', 'draw a digit to see them');
  }
  const strongest = w.map((v, i) => [v, i]).sort((p, q) => Math.abs(q[0]) - Math.abs(p[0])).slice(0, 3);
  const what = (i) => (data.image_side === 28 ? `pixel (${Math.floor(i / 28)}, ${i % 28})` : `neuron ${i}`);
  html('p', { class: 'muted small' }, `Strongest weights: ${strongest.map(([v, i]) => `${what(i)} ${signed(v, 2)}`).join(', ')}.`, box);
}
