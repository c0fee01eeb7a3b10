// Picking a weight or a bias in the diagram for the mini-batch panel (6), lesson 3's "which nudge
// does each example wish for this weight": a click on a connection picks its weight W[l-1][to, from]
// (l: the layer it feeds), a click on a neuron of layer l its bias b[l-1][i]. The connections are
// thin lines, so a click picks the drawn line nearest to it, within a few pixels.
import { toast } from './api.js';
import { diagram, net } from './diagram.js';
import { state } from './state.js';
import { $ } from './view.js';

const REACH = 6; // screen pixels: how far from a line a click still picks it

// The distance from point p to the segment a-b.
function distance(p, a, b) {
  const dx = b.x - a.x; const dy = b.y - a.y;
  const t = Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / (dx * dx + dy * dy || 1)));
  return Math.hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
}

// The drawn connection nearest to a click, if one is within REACH pixels.
export function linkAt(event) {
  const ctm = net.getScreenCTM();
  if (!ctm) return null;
  const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(ctm.inverse());
  const reach = REACH / (Math.hypot(ctm.a, ctm.b) || 1);
  let best = null; let bestDistance = reach;
  for (const link of diagram.links) {
    const l = link.line;
    const a = { x: Number(l.getAttribute('x1')), y: Number(l.getAttribute('y1')) };
    const b = { x: Number(l.getAttribute('x2')), y: Number(l.getAttribute('y2')) };
    const d = distance(point, a, b);
    if (d <= bestDistance) { best = link; bestDistance = d; }
  }
  return best;
}

// Put the parameter in the mini-batch panel's fields; the panel opens it if a run is paused.
// A neuron's click (which also inspects it, panel 3) picks its bias quietly.
function pick(layer, kind, row, col, line, quiet) {
  const run = state.run;
  const sizes = run && run.settings && run.settings.sizes;
  const shown = state.info && state.info.model.sizes;
  if (sizes && shown && sizes.join('-') !== shown.join('-')) {
    if (!quiet) toast(`The diagram shows the served ${shown.join('-')} network, the run trains a ${sizes.join('-')} one: ` +
      'pick its weights in the mini-batch panel, or draw with the run\'s network first.');
    return;
  }
  for (const l of diagram.links) l.line.classList.remove('picked');
  if (line) line.classList.add('picked');
  $('#mb-layer').value = String(layer); $('#mb-kind').value = kind; $('#mb-row').value = String(row);
  if (col !== null) $('#mb-col').value = String(col);
  $('#mb-kind').dispatchEvent(new Event('change'));
  const name = kind === 'W' ? `W${layer}[${row}, ${col}]` : `b${layer}[${row}]`;
  if (!quiet && !(run && run.state === 'paused')) toast(`Picked ${name}: pause a training run to see each example's nudge to it.`);
}

net.addEventListener('click', (event) => {
  const neuron = event.target.closest && event.target.closest('.neuron');
  if (neuron) { pick(Number(neuron.dataset.layer) - 1, 'b', Number(neuron.dataset.index), null, null, true); return; }
  const link = linkAt(event);
  if (link) pick(link.layer - 1, 'W', link.to, link.from, link.line, false);
});
