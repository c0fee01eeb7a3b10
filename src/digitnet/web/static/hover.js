// Seeing a neuron: hovering or focusing one lights up its incoming connections (the drawn ones) and
// shows its a, z and b in a line under the diagram.
import { diagram } from './diagram.js';
import { state } from './state.js';
import { $, fmt } from './view.js';

const net = $('#net'); // not diagram.js's: this module runs first (diagram.js imports it)
let shown = null; // {layer, index} of the neuron hovered or focused

function at(event) {
  const n = event.target && event.target.closest && event.target.closest('.neuron');
  return n ? { layer: Number(n.dataset.layer), index: Number(n.dataset.index) } : null;
}

net.addEventListener('pointerover', (event) => { const n = at(event); if (n) show(n); });
net.addEventListener('focusin', (event) => { const n = at(event); if (n) show(n); });
net.addEventListener('pointerleave', () => show(focused()));
net.addEventListener('focusout', (event) => { if (!net.contains(event.relatedTarget)) show(null); });

function focused() {
  const n = document.activeElement && document.activeElement.closest && document.activeElement.closest('#net .neuron');
  return n ? { layer: Number(n.dataset.layer), index: Number(n.dataset.index) } : null;
}

function show(neuron) {
  shown = neuron;
  refreshHover();
}

// Called again after each forward pass: the line's numbers follow the drawing.
export function refreshHover() {
  const line = $('#neuron-line');
  net.classList.toggle('highlighting', shown !== null);
  let count = 0;
  for (const link of diagram.links) {
    const mine = shown !== null && link.layer === shown.layer && link.to === shown.index;
    link.line.classList.toggle('incoming', mine);
    if (mine) count += 1;
  }
  if (shown === null || !state.info || !diagram.neurons[shown.layer - 1]) { line.textContent = ''; return; }
  const L = state.info.model.sizes.length - 1;
  const name = shown.layer === L ? `Output ${state.classNames[shown.index]}` : `Layer ${shown.layer}, neuron ${shown.index}`;
  const b = state.info.biases[shown.layer - 1][shown.index];
  const r = state.current;
  const values = r ? `a = ${fmt(r.layers[shown.layer - 1].a[shown.index])}, z = ${fmt(r.layers[shown.layer - 1].z[shown.index])}, `
    : '';
  line.textContent = `${name}: ${values}b = ${fmt(b)}; lit: ${count} of its strongest incoming connections.`;
}
