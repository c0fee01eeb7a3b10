// The ten outputs as a compact strip under the pad: on narrow screens the diagram's output layer is
// out of sight while you draw, so the strip shows each output a beside the drawing.
import { state } from './state.js';
import { $, clamp01, html } from './view.js';

const strip = $('#strip');

function build(k) {
  strip.textContent = '';
  for (let i = 0; i < k; i++) {
    const cell = html('div', { class: 'strip-cell', 'data-digit': i }, null, strip);
    html('span', { class: 'fill' }, null, html('span', { class: 'strip-bar' }, null, cell));
    html('span', { class: 'strip-digit' }, state.classNames[i] || String(i), cell);
    html('span', { class: 'strip-value' }, '–', cell);
  }
}

export function showStrip(result) {
  const out = result.output;
  if (strip.children.length !== out.length) build(out.length);
  Array.from(strip.children).forEach((cell, i) => {
    cell.querySelector('.fill').style.height = `${(100 * clamp01(out[i])).toFixed(1)}%`;
    cell.querySelector('.strip-value').textContent = out[i].toFixed(2);
    cell.classList.toggle('best', i === result.guess && !result.blank);
    cell.setAttribute('aria-label', `output ${state.classNames[i]}: ${out[i].toFixed(2)}`);
  });
}
