// The inspector's picture of a = sigma(z) for one neuron: the activation's curve (sampled by the
// server, so no activation is named here) with this neuron's z marked, and what its slope means.
import { fmt, html, svg } from './view.js';

const W = 280; const H = 140;
const PAD = { l: 34, r: 10, t: 10, b: 24 };

export function drawCurve(box, data, symbol) {
  const c = data.curve;
  if (!c) return;
  const zMin = c.z[0]; const zMax = c.z[c.z.length - 1];
  const aMin = Math.min(0, ...c.a); const aMax = Math.max(1, ...c.a);
  const x = (z) => PAD.l + ((z - zMin) / (zMax - zMin)) * (W - PAD.l - PAD.r);
  const y = (a) => H - PAD.b - ((a - aMin) / (aMax - aMin)) * (H - PAD.t - PAD.b);
  const figure = html('figure', { class: 'curve-figure' }, null, box);
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'act-curve', id: 'act-curve', role: 'img',
    'data-z-min': zMin, 'data-z-max': zMax, 'data-x0': x(zMin), 'data-x1': x(zMax),
    'aria-label': `${symbol}(z) for z from ${fmt(zMin, 1)} to ${fmt(zMax, 1)}, this neuron's z = ${fmt(data.z)} marked` },
  figure);
  svg('line', { x1: x(zMin), x2: x(zMax), y1: y(0), y2: y(0), class: 'axis' }, root);
  if (zMin < 0 && zMax > 0) svg('line', { x1: x(0), x2: x(0), y1: y(aMin), y2: y(aMax), class: 'axis' }, root);
  svg('polyline', { points: c.z.map((z, i) => `${x(z).toFixed(2)},${y(c.a[i]).toFixed(2)}`).join(' '),
    class: 'act-line' }, root);
  svg('line', { x1: x(data.z), x2: x(data.z), y1: y(aMin), y2: y(aMax), class: 'act-z' }, root);
  svg('circle', { cx: x(data.z), cy: y(data.a), r: 5, class: 'act-marker', id: 'curve-marker' }, root);
  const label = (text, at, anchor) => {
    svg('text', { x: at[0], y: at[1], 'text-anchor': anchor, class: 'act-label' }, root).textContent = text;
  };
  label(fmt(zMin, 0), [x(zMin), H - 6], 'start');
  label(fmt(zMax, 0), [x(zMax), H - 6], 'end');
  label('z', [(x(zMin) + x(zMax)) / 2, H - 6], 'middle');
  label(fmt(aMax, aMax > 1 ? 0 : 1), [PAD.l - 4, y(aMax) + 4], 'end');
  label('0', [PAD.l - 4, y(0) + 4], 'end');
  html('figcaption', {}, `a = ${symbol}(z) as this neuron's z alone changes; the dot: z = ${fmt(data.z)}, ` +
    `a = ${fmt(data.a)}`, figure);
  const slope = `${symbol}′(z) = ${data.slope.toPrecision(2)}`;
  html('p', { class: data.saturated ? 'saturated' : 'muted small', id: 'saturation' }, data.saturated
    ? `Saturated: the curve is flat here (${slope}). A nudge to z barely moves a, so backpropagation ` +
      'passes almost nothing back through this neuron: from this image its weights and bias hardly learn, ' +
      'and the neurons feeding it get almost no wish through it.'
    : `On the slope: a nudge to z moves a by ${slope} times as much, so backpropagation passes this ` +
      'image’s wishes through this neuron and its weights learn from it.', box);
}
