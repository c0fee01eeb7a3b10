// 4. Backpropagation on this example: what the cost wants from each neuron, and one step on a copy.
import { api, failed, toast } from './api.js';
import { diagram, pixelPosition } from './diagram.js';
import { state } from './state.js';
import { $, BLUE, RED, clamp01, fmt, html, maxAbs, rgb, signed, svg } from './view.js';

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
  $('#bp-step').disabled = false;
  if (run) runBackprop();
}

const eta = () => {
  const v = parseFloat($('#bp-eta').value);
  return Number.isFinite(v) && v > 0 && v <= 10 ? v : 1.5;
};

export async function runBackprop() {
  if (state.label === null || !state.current || !state.ready) return;
  try {
    state.backprop = await api('/api/backprop', { input: state.current.input, label: state.label,
      learning_rate: eta(), top: 12 });
    renderBackprop();
    drawBackprop();
  } catch (error) { failed(error); }
}

function renderBackprop() {
  const bp = state.backprop;
  const box = $('#bp-result');
  box.textContent = '';
  const formula = state.info.model.cost_formula;
  html('p', { class: 'cost' }, `Cost of this example: ${formula} = ${bp.cost.toFixed(3)}` +
    (bp.steps_taken ? ` (on the copy, after ${bp.steps_taken} step${bp.steps_taken > 1 ? 's' : ''})` : ''), box);
  const table = html('table', { class: 'wants-table' }, null, html('div', { class: 'table-wrap' }, null, box));
  const head = html('tr', {}, null, html('thead', {}, null, table));
  for (const t of ['digit', 'output a', 'right y', 'wanted change −∂C/∂a']) html('th', { scope: 'col' }, t, head);
  const body = html('tbody', {}, null, table);
  const wants = bp.wants[bp.wants.length - 1];
  const m = maxAbs(wants);
  bp.output.forEach((a, j) => {
    const tr = html('tr', { class: j === bp.label ? 'right' : '' }, null, body);
    html('th', { scope: 'row' }, state.classNames[j], tr);
    const cell = html('td', {}, null, tr);
    const bar = html('span', { class: 'bar-h' }, null, cell);
    const fill = html('span', { class: 'fill' }, null, bar);
    fill.style.width = `${(100 * clamp01(a)).toFixed(1)}%`;
    html('span', { class: 'num' }, a.toFixed(2), cell);
    html('td', { class: 'num' }, bp.target[j].toFixed(0), tr);
    const wc = html('td', {}, null, tr);
    const wbar = html('span', { class: 'want-bar' }, null, wc);
    const wfill = html('span', { class: wants[j] >= 0 ? 'up' : 'down' }, null, wbar);
    wfill.style.width = `${(50 * Math.abs(wants[j]) / m).toFixed(1)}%`;
    html('span', { class: 'num' }, `${wants[j] >= 0 ? '↑' : '↓'} ${signed(wants[j], 2)}`, wc);
  });
  const changes = html('div', { class: 'changes-list' }, null, box);
  html('p', {}, `The weights one step (η = ${eta()}) would change most:`, changes);
  const ol = html('ol', {}, null, changes);
  const L = bp.wants.length;
  for (const c of bp.weight_changes.slice(0, 6)) {
    const from = c.layer === 1 ? `pixel (${Math.floor(c.from / 28)}, ${c.from % 28})` : `layer ${c.layer - 1} neuron ${c.from}`;
    const to = c.layer === L ? `output ${state.classNames[c.to]}` : `layer ${c.layer} neuron ${c.to}`;
    html('li', {}, `${from} → ${to}: w = ${fmt(c.weight)}, change ${signed(c.change)}`, ol);
  }
  $('#bp-reset').disabled = bp.steps_taken === 0;
}

// Arrows beside each neuron: the change its activation should make (blue up, red down); the
// weights a step would change most, as thick dashed lines.
export function drawBackprop() {
  const bp = state.backprop;
  if (!bp || !diagram.lay) return;
  diagram.gWants.textContent = '';
  diagram.gChanges.textContent = '';
  const lay = diagram.lay;
  bp.wants.forEach((wants, l) => {
    const col = lay.cols[l];
    if (!col) return;
    const m = maxAbs(wants);
    col.pos.forEach((p, i) => {
      const v = wants[i] / m;
      const len = 3 + 13 * Math.abs(v);
      if (Math.abs(v) < 0.02) return;
      const x = lay.vertical ? p.x : p.x + col.r + 6;
      const cy = lay.vertical ? p.y - col.r - 5 - len / 2 : p.y;
      const dir = v >= 0 ? -1 : 1; // the arrow points up (-y) for "more", down for "less"
      const tip = cy + (dir * len) / 2;
      const color = rgb(v >= 0 ? BLUE : RED);
      const g = svg('g', { class: 'want' }, diagram.gWants);
      svg('line', { x1: x, y1: cy - (dir * len) / 2, x2: x, y2: tip - dir * 3, stroke: color, 'stroke-width': 2.5 }, g);
      svg('path', { d: `M${x - 4},${tip - dir * 4} L${x + 4},${tip - dir * 4} L${x},${tip} Z`, fill: color }, g);
    });
  });
  for (const c of bp.weight_changes) {
    const col = lay.cols[c.layer - 1];
    const prev = c.layer > 1 ? lay.cols[c.layer - 2] : null;
    if (c.to >= col.shown || (prev && c.from >= prev.shown)) continue;
    const p = prev ? prev.pos[c.from] : pixelPosition(lay.grid, c.from);
    const q = col.pos[c.to];
    svg('line', { x1: p.x, y1: p.y, x2: q.x, y2: q.y, stroke: rgb(c.change >= 0 ? BLUE : RED), 'stroke-width': 3,
      class: 'change' }, diagram.gChanges);
  }
}

export function clearBackprop() {
  state.backprop = null;
  $('#bp-result').textContent = '';
  $('#step-result').textContent = '';
  if (diagram.gWants) { diagram.gWants.textContent = ''; diagram.gChanges.textContent = ''; }
}

$('#bp-step').addEventListener('click', async () => {
  if (state.label === null || !state.current) { toast('Choose the right digit first.'); return; }
  try {
    const r = await api('/api/backprop/step', { input: state.current.input, label: state.label, learning_rate: eta() });
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
  html('p', {}, `One step on a copy of the network (the network you draw with is unchanged; steps taken: ${r.steps_taken}). ` +
    `Cost ${r.cost_before.toFixed(3)} → ${r.cost_after.toFixed(3)}; guess ${state.classNames[r.guess_before]} → ${state.classNames[r.guess_after]}.`, box);
  const grid = html('div', { class: 'before-after', role: 'img', 'aria-label': 'outputs before and after the step' }, null, box);
  r.before.forEach((b, j) => {
    const col = html('div', { class: `ba-col${j === state.label ? ' right' : ''}` }, null, grid);
    const bars = html('div', { class: 'ba-bars' }, null, col);
    const before = html('span', { class: 'ba before', title: `before ${b.toFixed(3)}` }, null, bars);
    before.style.height = `${(100 * clamp01(b)).toFixed(1)}%`;
    const after = html('span', { class: 'ba after', title: `after ${r.after[j].toFixed(3)}` }, null, bars);
    after.style.height = `${(100 * clamp01(r.after[j])).toFixed(1)}%`;
    html('span', { class: 'ba-label' }, state.classNames[j], col);
  });
  html('p', { class: 'muted small' }, 'Grey: outputs before the step; bright: after.', box);
}
