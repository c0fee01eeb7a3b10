// 4. Backpropagation on this example: what the cost wants from each neuron, and one step on this
// tab's own practice copy. Every quantity is drawn on a fixed scale for the network (the server's
// wants_scale and change_scale), not rescaled for each example: a right answer's small wishes
// look small, a wrong answer's large.
import { api, failed, toast } from './api.js';
import { diagram, pixelPosition, updateDiagram } from './diagram.js';
import { state } from './state.js';
import { $, BLUE, RED, amount, clamp01, fieldError, html, num, rgb, svg } from './view.js';

const HIDE_BELOW = 0.02; // marks under 2% of their scale are not drawn

export function buildLabels() {
  const box = $('#labels');
  box.textContent = '';
  state.classNames.forEach((name, k) => {
    const b = html('button', { type: 'button', 'aria-pressed': 'false', 'data-label': k, class: 'label-button' }, name, box);
    b.addEventListener('click', () => setLabel(k, true));
  });
}

export function setLabel(k, run) {
  state.label = k;
  for (const b of document.querySelectorAll('#labels button')) {
    b.setAttribute('aria-pressed', String(Number(b.dataset.label) === k));
  }
  $('#bp-step').disabled = k === null;
  if (run) runBackprop();
}

// A new input (Clear, a new drawing, noise): no label chosen for it yet, no lesson drawn.
export function forgetLabel() {
  setLabel(null, false);
  clearBackprop();
}

// eta as the learner typed it, or null (and a message beside the field) if the server would refuse it.
function eta() {
  const input = $('#bp-eta');
  const v = Number(input.value);
  const ok = input.value.trim() !== '' && Number.isFinite(v) && v > 0 && v <= Number(input.max);
  fieldError('#bp-eta', ok ? '' : `η must be a number above 0 and at most ${input.max} (not ${input.value || 'empty'})`);
  return ok ? v : null;
}

export async function runBackprop() {
  if (state.label === null || !state.current || !state.ready) return;
  const learningRate = eta();
  if (learningRate === null) { clearBackprop(); return; }
  try {
    const bp = await api('/api/backprop', { input: state.current.input, label: state.label,
      learning_rate: learningRate, top: 12 });
    state.backprop = { ...bp, eta: learningRate };
    renderBackprop();
    drawBackprop();
  } catch (error) { failed(error); }
}

function renderBackprop() {
  const bp = state.backprop;
  const box = $('#bp-result');
  box.textContent = '';
  const formula = state.info.model.cost_formula;
  html('p', { class: 'cost' }, `Cost of this example: ${formula} = ${num(bp.cost, 3)}` +
    (bp.steps_taken ? ` (on the copy, after ${bp.steps_taken} step${bp.steps_taken > 1 ? 's' : ''}; the diagram ` +
      'shows the copy too, until you reset it or draw with another network)' : ''), box);
  const table = html('table', { class: 'wants-table' }, null, html('div', { class: 'table-wrap' }, null, box));
  const head = html('tr', {}, null, html('thead', {}, null, table));
  for (const t of ['digit', 'output a', 'right y', 'wanted change −∂C/∂a']) html('th', { scope: 'col' }, t, head);
  const body = html('tbody', {}, null, table);
  const L = bp.wants.length;
  const wants = bp.wants[L - 1];
  const scale = bp.wants_scale[L - 1] || 1;
  bp.output.forEach((a, j) => {
    const tr = html('tr', { class: j === bp.label ? 'right' : '' }, null, body);
    html('th', { scope: 'row' }, state.classNames[j], tr);
    const cell = html('td', {}, null, tr);
    const bar = html('span', { class: 'bar-h' }, null, cell);
    html('span', { class: 'fill' }, null, bar).style.width = `${(100 * clamp01(a)).toFixed(1)}%`;
    html('span', { class: 'num' }, a.toFixed(2), cell);
    html('td', { class: 'num' }, bp.target[j].toFixed(0), tr);
    const wc = html('td', {}, null, tr);
    const wbar = html('span', { class: 'want-bar' }, null, wc);
    const fill = html('span', { class: wants[j] >= 0 ? 'up' : 'down' }, null, wbar);
    fill.style.width = `${(50 * Math.min(1, Math.abs(wants[j]) / scale)).toFixed(1)}%`;
    const shown = amount(wants[j]);
    html('span', { class: 'num' }, `${shown === '0' ? '' : wants[j] > 0 ? '↑ ' : '↓ '}${shown}`, wc);
  });
  saturation(bp, box);
  const changes = html('div', { class: 'changes-list' }, null, box);
  html('p', {}, `The weights one step (η = ${bp.eta}) would change most:`, changes);
  const ol = html('ol', {}, null, changes);
  for (const c of bp.weight_changes.slice(0, 6)) {
    const from = c.layer === 1 ? `pixel (${Math.floor(c.from / 28)}, ${c.from % 28})` : `layer ${c.layer - 1} neuron ${c.from}`;
    const to = c.layer === L ? `output ${state.classNames[c.to]}` : `layer ${c.layer} neuron ${c.to}`;
    html('li', {}, `${from} → ${to}: w = ${num(c.weight)}, change ${amount(c.change)}`, ol);
  }
  legend(bp, box);
  $('#bp-reset').disabled = bp.steps_taken === 0;
}

// A confidently wrong output barely moves when its σ is flat where it sits: say so, with the numbers.
function saturation(bp, box) {
  const L = bp.wants.length;
  const sigma = state.info.model.output_symbol;
  const stuck = bp.output.map((a, j) => j).filter((j) => {
    const miss = Math.abs(bp.output[j] - bp.target[j]);
    return miss > 0.5 && Math.abs(bp.output_delta[j]) < 0.1 * miss;
  });
  if (!stuck.length) return;
  const parts = stuck.map((j) => {
    const dCda = -bp.wants[L - 1][j];
    const slope = dCda ? bp.output_delta[j] / dCda : 0;
    return `output ${state.classNames[j]} is ${num(bp.output[j], 2)} and should be ${bp.target[j]}, but z = ${num(bp.output_z[j])} ` +
      `where ${sigma} is flat: ${sigma}′(z) = ${num(slope, 2)}, so ∂C/∂z = ∂C/∂a · ${sigma}′(z) = ${num(dCda, 3)} × ${num(slope, 2)} = ` +
      `${num(bp.output_delta[j], 2)}`;
  });
  html('p', { class: 'bp-saturated', id: 'bp-saturated' }, `Saturated: ${parts.join('; ')}. Every weight change into ` +
    'it is proportional to ∂C/∂z, so however wrong this output is, one step moves it little. (With the cross-entropy ' +
    'cost and softmax outputs, ∂C/∂z = a − y: no such slow-down.)', box);
}

function legend(bp, box) {
  const L = bp.wants.length;
  const ul = html('ul', { class: 'bp-legend', id: 'bp-legend', 'aria-label': 'what the marks mean' }, null, box);
  const item = (draw, text) => {
    const li = html('li', {}, null, ul);
    const s = svg('svg', { width: 26, height: 14, 'aria-hidden': 'true' }, li);
    draw(s);
    li.appendChild(document.createTextNode(text));
  };
  const scales = bp.wants_scale.map((s, l) => `${l === L - 1 ? 'outputs' : `layer ${l + 1}`} ${num(s, 2)}`).join(', ');
  item((s) => arrow(s, 8, 7, 10, 1), 'Blue arrow up beside a neuron: the cost wants its activation a higher.');
  item((s) => arrow(s, 8, 7, 10, -1), `Red arrow down: lower. An arrow's length is how much, |−∂C/∂a|, on a fixed scale for each layer (full ` +
    `length: ${scales}; a wish only one test image in ten goes beyond), the same for every example; under ` +
    `${100 * HIDE_BELOW}% of it, no arrow.`);
  item((s) => svg('line', { x1: 1, y1: 7, x2: 25, y2: 7, stroke: rgb(BLUE), 'stroke-width': 3, 'stroke-dasharray': '6 4' }, s),
    `Dashed line: one of the ${bp.weight_changes.length} weights this step changes most; blue: the weight grows, red: ` +
    `it shrinks; its thickness is how much, |−η ∂C/∂w| (thickest: ${num(bp.change_scale, 2)} at η = ${bp.eta}).`);
  item((s) => svg('rect', { x: 1, y: 3, width: 24, height: 8, rx: 3, fill: rgb(BLUE) }, s),
    'In the table: the output a (grey bar) and the wanted change (blue: up, red: down), on the outputs\u2019 arrow scale.');
}

function arrow(parent, x, cy, len, sign) {
  const dir = sign >= 0 ? -1 : 1; // the arrow points up (-y) for "more", down for "less"
  const tip = cy + (dir * len) / 2;
  const color = rgb(sign >= 0 ? BLUE : RED);
  const g = svg('g', { class: 'want' }, parent);
  svg('line', { x1: x, y1: cy - (dir * len) / 2, x2: x, y2: tip - dir * 3, stroke: color, 'stroke-width': 2.5 }, g);
  svg('path', { d: `M${x - 4},${tip - dir * 4} L${x + 4},${tip - dir * 4} L${x},${tip} Z`, fill: color }, g);
}

// Arrows beside each neuron: the change its activation should make (blue up, red down); the
// weights a step would change most, as thick dashed lines. The diagram shows the network the
// wishes are of: the practice copy once steps were taken on it.
export function drawBackprop() {
  const bp = state.backprop;
  if (!bp || !diagram.lay) return;
  diagram.gWants.textContent = '';
  diagram.gChanges.textContent = '';
  if (state.current) {
    const output = bp.layers[bp.layers.length - 1].a;
    updateDiagram(bp.steps_taken ? { ...state.current, layers: bp.layers, output,
      guess: output.indexOf(Math.max(...output)) } : state.current);
  }
  const lay = diagram.lay;
  bp.wants.forEach((wants, l) => {
    const col = lay.cols[l];
    if (!col) return;
    const scale = bp.wants_scale[l] || 1;
    col.pos.forEach((p, i) => {
      const v = Math.max(-1, Math.min(1, wants[i] / scale));
      if (Math.abs(v) < HIDE_BELOW) return;
      const len = 3 + 13 * Math.abs(v);
      const x = lay.vertical ? p.x : p.x + col.r + 6;
      const cy = lay.vertical ? p.y - col.r - 5 - len / 2 : p.y;
      arrow(diagram.gWants, x, cy, len, v);
    });
  });
  for (const c of bp.weight_changes) {
    const col = lay.cols[c.layer - 1];
    const prev = c.layer > 1 ? lay.cols[c.layer - 2] : null;
    const s = Math.min(1, Math.abs(c.change) / (bp.change_scale || 1));
    if (c.to >= col.shown || (prev && c.from >= prev.shown) || s < HIDE_BELOW) continue;
    const p = prev ? prev.pos[c.from] : pixelPosition(lay.grid, c.from);
    const q = col.pos[c.to];
    svg('line', { x1: p.x, y1: p.y, x2: q.x, y2: q.y, stroke: rgb(c.change >= 0 ? BLUE : RED),
      'stroke-width': (1 + 3 * s).toFixed(2), class: 'change' }, diagram.gChanges);
  }
}

export function clearBackprop() {
  const copy = state.backprop && state.backprop.steps_taken;
  state.backprop = null;
  $('#bp-result').textContent = '';
  $('#step-result').textContent = '';
  if (diagram.gWants) { diagram.gWants.textContent = ''; diagram.gChanges.textContent = ''; }
  if (copy && state.current) updateDiagram(state.current); // the network drawn with again, not the copy
}

$('#bp-step').addEventListener('click', async () => {
  if (state.label === null || !state.current) { toast('Choose the right digit first.'); return; }
  const learningRate = eta();
  if (learningRate === null) return;
  try {
    const r = await api('/api/backprop/step', { input: state.current.input, label: state.label, learning_rate: learningRate });
    renderStep(r);
    await runBackprop();
  } catch (error) { failed(error); }
});

$('#bp-reset').addEventListener('click', async () => {
  try {
    await api('/api/backprop/reset', undefined, 'POST');
    $('#step-result').textContent = '';
    await runBackprop();
  } catch (error) { failed(error); }
});

$('#bp-eta').addEventListener('change', runBackprop);

function renderStep(r) {
  const box = $('#step-result');
  box.textContent = '';
  html('p', {}, `One step on this tab's copy of the network (the network you draw with is unchanged; steps taken: ` +
    `${r.steps_taken}). Cost ${num(r.cost_before, 4)} → ${num(r.cost_after, 4)}; guess ${state.classNames[r.guess_before]} → ` +
    `${state.classNames[r.guess_after]}.`, box);
  const grid = html('div', { class: 'before-after', role: 'img', 'aria-label': 'outputs before and after the step' }, null, box);
  r.before.forEach((b, j) => {
    const col = html('div', { class: `ba-col${j === state.label ? ' right' : ''}` }, null, grid);
    html('span', { class: 'ba-num', title: `change ${amount(r.after[j] - b, 2)}` }, `${b.toFixed(2)}\n${r.after[j].toFixed(2)}`, col);
    const bars = html('div', { class: 'ba-bars' }, null, col);
    const before = html('span', { class: 'ba before', title: `before ${b.toFixed(3)}` }, null, bars);
    before.style.height = `${(100 * clamp01(b)).toFixed(1)}%`;
    const after = html('span', { class: 'ba after', title: `after ${r.after[j].toFixed(3)}` }, null, bars);
    after.style.height = `${(100 * clamp01(r.after[j])).toFixed(1)}%`;
    html('span', { class: 'ba-label' }, state.classNames[j], col);
  });
  html('p', { class: 'muted small' }, 'Grey: outputs before the step; bright: after. Above each: the output before (top) and after.', box);
}
