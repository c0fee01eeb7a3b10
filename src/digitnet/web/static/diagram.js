// 2. The network diagram: the input image, the neurons of every layer, the strongest connections.
import { drawBackprop } from './backprop.js';
import { seen } from './draw.js';
import { refreshHover } from './hover.js';
import { inspect, markSelected } from './inspect.js';
import { state } from './state.js';
import { showStrip } from './strip.js';
import { $, BLUE, RED, clamp01, grey, rgb, svg } from './view.js';

const MAX_SHOWN = 32; // neurons drawn per layer; larger layers show their first 32

export const net = $('#net');
export const diagram = { orientation: null, cols: [], neurons: [], links: [], labels: [], values: [], image: null };

// Under this width (CSS px) the diagram runs top to bottom; a laptop's column (about 600 px) stays
// left to right, so the outputs stay beside the pad.
const VERTICAL_BELOW = 480;
const TOUCH_TARGET = 33; // CSS px between neuron centres on touch screens (targets at least 32 px)
export const wantsVertical = () => net.parentElement.clientWidth < VERTICAL_BELOW;
const coarse = window.matchMedia('(pointer: coarse)');

// Where each layer's neurons go: left to right on wide screens, top to bottom on narrow ones. On
// touch screens a layer takes as many lines as it needs for each neuron to be a finger wide.
function layout(sizes, vertical) {
  const L = sizes.length - 1;
  const W = vertical ? 400 : 820;
  const H = vertical ? 760 : 500;
  const grid = vertical ? { x: 102, y: 8, size: 196 } : { x: 10, y: 152, size: 196 };
  const scale = (net.parentElement.clientWidth || W) / W; // CSS px per diagram unit
  const minSpan = coarse.matches ? TOUCH_TARGET / scale : 0;
  const cols = [];
  for (let l = 1; l <= L; l++) {
    const k = sizes[l];
    const shown = Math.min(k, MAX_SHOWN);
    const output = l === L;
    const room = vertical ? 392 : 440;
    const fit = minSpan ? Math.max(1, Math.floor(room / minSpan)) : shown;
    const lines = Math.max(shown > 16 ? 2 : 1, Math.ceil(shown / fit));
    const perLine = Math.ceil(shown / lines);
    let span; let along; let across;
    if (vertical) {
      const y0 = 290; const y1 = 680;
      across = L === 1 ? y1 : y0 + ((y1 - y0) * (l - 1)) / (L - 1);
      span = Math.max(minSpan, output ? 36 : Math.min(36, 380 / perLine));
      along = W / 2;
    } else {
      const x0 = 310; const x1 = 680;
      across = L === 1 ? x1 : x0 + ((x1 - x0) * (l - 1)) / (L - 1);
      span = Math.max(minSpan, Math.min(30, 440 / perLine));
      along = H / 2;
    }
    const r = Math.max(4, Math.min(11, span * 0.36));
    const pos = [];
    for (let i = 0; i < shown; i++) {
      const line = Math.floor(i / perLine);
      const j = i % perLine;
      const a = along + (j - (perLine - 1) / 2) * span;
      const gap = span * 1.1 + (output && vertical ? 32 : 0); // room for the digits under the outputs
      const b = across + (line - (lines - 1) / 2) * gap;
      pos.push(vertical ? { x: a, y: b } : { x: b, y: a });
    }
    cols.push({ layer: l, k, shown, r, hit: Math.max(r + 3.5, span / 2), pos, output, center: across });
  }
  return { W, H, grid, cols, vertical };
}

export function pixelPosition(grid, i) {
  const cell = grid.size / 28;
  return { x: grid.x + ((i % 28) + 0.5) * cell, y: grid.y + (Math.floor(i / 28) + 0.5) * cell };
}

export function buildDiagram() {
  if (!state.info) return;
  const vertical = wantsVertical();
  const sizes = state.info.model.sizes;
  const lay = layout(sizes, vertical);
  diagram.orientation = vertical;
  diagram.lay = lay;
  net.textContent = '';
  net.setAttribute('viewBox', `0 0 ${lay.W} ${lay.H}`);
  net.classList.toggle('vertical', vertical);
  const gLinks = svg('g', { class: 'links' }, net);
  const gChanges = svg('g', { class: 'changes' }, net);
  const gNeurons = svg('g', { class: 'neurons' }, net);
  const gWants = svg('g', { class: 'wants' }, net);
  const gText = svg('g', { class: 'captions' }, net);
  diagram.gChanges = gChanges;
  diagram.gWants = gWants;

  // The input layer: the 28x28 image itself, one pixel per input neuron.
  const g = lay.grid;
  svg('rect', { x: g.x - 1, y: g.y - 1, width: g.size + 2, height: g.size + 2, class: 'input-frame' }, net);
  diagram.image = svg('image', { x: g.x, y: g.y, width: g.size, height: g.size, class: 'input-image',
    preserveAspectRatio: 'none' }, net);
  const caption = vertical ? { x: g.x + g.size + 8, y: g.y + g.size / 2 } : { x: g.x + g.size / 2, y: g.y + g.size + 22 };
  svg('text', { x: caption.x, y: caption.y, class: 'caption', 'text-anchor': vertical ? 'start' : 'middle' }, gText)
    .textContent = 'input: 784';

  drawLinks(lay, gLinks);
  drawNeurons(lay, gNeurons, gText);
  const firstNeuron = diagram.neurons[0] && diagram.neurons[0][0];
  if (firstNeuron) firstNeuron.setAttribute('tabindex', 0);
  if (state.current) updateDiagram(state.current);
  if (state.selected) markSelected();
  if (state.backprop) drawBackprop();
}

// Connections: the strongest weights into each layer, between neurons that are drawn.
function drawLinks(lay, gLinks) {
  diagram.links = [];
  for (const c of state.info.connections) {
    const col = lay.cols[c.layer - 1];
    const prev = c.layer > 1 ? lay.cols[c.layer - 2] : null;
    for (let i = 0; i < c.to.length; i++) {
      const to = c.to[i]; const from = c.from[i]; const w = c.weight[i];
      if (to >= col.shown || (prev && from >= prev.shown)) continue;
      const p = prev ? prev.pos[from] : pixelPosition(lay.grid, from);
      const q = col.pos[to];
      const s = Math.abs(w) / (c.max_abs || 1);
      const line = svg('line', { x1: p.x, y1: p.y, x2: q.x, y2: q.y, stroke: rgb(w >= 0 ? BLUE : RED),
        'stroke-width': (0.4 + 2.2 * s).toFixed(2), 'stroke-opacity': 0.1, 'data-layer': c.layer, 'data-to': to,
        'data-from': from }, gLinks);
      diagram.links.push({ line, layer: c.layer, from, to, s });
    }
  }
  const top = state.info.connections.length ? state.info.connections[0].to.length : 0;
  $('#links-note').textContent = `(lines: the ${top} strongest weights into each layer)`;
}

// Neurons, focusable: one tab stop for the diagram, arrow keys between neurons.
function drawNeurons(lay, gNeurons, gText) {
  const vertical = lay.vertical;
  diagram.neurons = [];
  diagram.labels = [];
  diagram.values = [];
  for (const col of lay.cols) {
    const row = [];
    col.pos.forEach((p, i) => {
      const n = svg('g', { class: 'neuron', role: 'button', tabindex: -1, 'data-layer': col.layer, 'data-index': i },
        gNeurons);
      svg('circle', { cx: p.x, cy: p.y, r: col.hit, class: 'hit' }, n); // the target: a finger wide on touch
      svg('circle', { cx: p.x, cy: p.y, r: col.r + 3.5, class: 'ring' }, n);
      svg('circle', { cx: p.x, cy: p.y, r: col.r, class: 'body', fill: grey(0) }, n);
      n.addEventListener('click', () => { focusNeuron(col.layer, i, false); inspect(col.layer, i); });
      row.push(n);
    });
    diagram.neurons.push(row);
    const name = col.output ? 'output' : `layer ${col.layer}`;
    const more = col.k > col.shown ? ` (first ${col.shown} of ${col.k})` : ` (${col.k})`;
    const ys = col.pos.map((p) => p.y);
    const at = vertical ? { x: 8, y: Math.min(...ys) - col.r - 26, anchor: 'start' }
      : { x: col.center, y: Math.max(...ys) + col.r + 22, anchor: 'middle' };
    svg('text', { x: at.x, y: at.y, class: 'caption', 'text-anchor': at.anchor }, gText).textContent = name + more;
    if (col.output) {
      col.pos.forEach((p, i) => {
        const lx = vertical ? p.x : p.x + col.r + 9;
        const ly = vertical ? p.y + col.r + 17 : p.y + 5;
        const label = svg('text', { x: lx, y: ly, class: 'digit', 'text-anchor': vertical ? 'middle' : 'start' }, gText);
        label.textContent = state.classNames[i] || String(i);
        diagram.labels.push(label);
        const value = svg('text', { x: vertical ? lx : lx + 16, y: vertical ? ly + 15 : ly, class: 'value',
          'text-anchor': vertical ? 'middle' : 'start' }, gText);
        diagram.values.push(value);
      });
    }
  }
}

net.addEventListener('keydown', (event) => {
  const target = event.target.closest && event.target.closest('.neuron');
  if (!target) return;
  const l = Number(target.dataset.layer); const i = Number(target.dataset.index);
  const key = event.key;
  if (key === 'Enter' || key === ' ') { event.preventDefault(); inspect(l, i); return; }
  const vertical = diagram.orientation;
  const nextLayer = vertical ? { ArrowDown: 1, ArrowUp: -1 } : { ArrowRight: 1, ArrowLeft: -1 };
  const nextIndex = vertical ? { ArrowRight: 1, ArrowLeft: -1 } : { ArrowDown: 1, ArrowUp: -1 };
  if (key in nextLayer) {
    const l2 = Math.max(1, Math.min(diagram.neurons.length, l + nextLayer[key]));
    focusNeuron(l2, Math.min(i, diagram.neurons[l2 - 1].length - 1));
  } else if (key in nextIndex) {
    focusNeuron(l, Math.max(0, Math.min(diagram.neurons[l - 1].length - 1, i + nextIndex[key])));
  } else if (key === 'Home') {
    focusNeuron(l, 0);
  } else if (key === 'End') {
    focusNeuron(l, diagram.neurons[l - 1].length - 1);
  } else {
    return;
  }
  event.preventDefault();
});

// scroll: bring the neuron into view (the arrow keys); not for a click, where it is under the pointer
// already (a neuron half out of view would otherwise send the page away from the inspector).
export function focusNeuron(layer, index, scroll = true) {
  for (const row of diagram.neurons) for (const n of row) n.setAttribute('tabindex', -1);
  const n = diagram.neurons[layer - 1][index];
  n.setAttribute('tabindex', 0);
  n.focus({ preventScroll: !scroll });
}

export function layerActivations(result, layer) {
  return layer === 0 ? result.input : result.layers[layer - 1].a;
}

// An attribute written only when it changes: most of the diagram's hundreds of lines and neurons
// look the same from one answer to the next, and each write is restyled and repainted.
function setIfChanged(node, name, value) {
  if (node.getAttribute(name) !== value) node.setAttribute(name, value);
}

export function updateDiagram(result) {
  if (!diagram.image || !state.info) return;
  diagram.image.setAttribute('href', seen.toDataURL());
  const L = result.layers.length;
  const unbounded = !state.info.model.hidden_bounded; // ReLU: scaled to the layer's largest
  const scales = [1];
  for (let l = 1; l <= L; l++) {
    const a = result.layers[l - 1].a;
    const scale = unbounded && l < L ? Math.max(...a, 1e-9) : 1;
    scales.push(scale);
    diagram.neurons[l - 1].forEach((n, i) => {
      setIfChanged(n.lastChild, 'fill', grey(a[i] / scale));
      n.dataset.activation = String(a[i]);
      const what = l === L ? `output ${state.classNames[i]}` : `layer ${l} neuron ${i}`;
      setIfChanged(n, 'aria-label', `${what}: activation ${a[i].toFixed(2)}`);
    });
  }
  for (const link of diagram.links) {
    const a = clamp01(layerActivations(result, link.layer - 1)[link.from] / scales[link.layer - 1]);
    setIfChanged(link.line, 'stroke-opacity', (0.05 + 0.8 * link.s * (0.12 + 0.88 * a)).toFixed(3));
  }
  const out = result.output;
  diagram.values.forEach((t, i) => { t.textContent = out[i].toFixed(2); });
  diagram.labels.forEach((t, i) => { t.classList.toggle('guess', i === result.guess && !result.blank); });
  diagram.neurons[L - 1].forEach((n, i) => n.classList.toggle('guess', i === result.guess && !result.blank));
  showStrip(result);
  refreshHover();
}
