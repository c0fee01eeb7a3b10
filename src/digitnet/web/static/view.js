// Small helpers shared by the page's panels: elements, SVG, colours, numbers, pictures.

export const $ = (selector) => document.querySelector(selector);
export const SVGNS = 'http://www.w3.org/2000/svg';
export const BLUE = [78, 161, 255];
export const RED = [255, 92, 92];

export function svg(tag, attrs, parent) {
  const node = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

export function html(tag, attrs, text, parent) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined && text !== null) node.textContent = text;
  if (parent) parent.appendChild(node);
  return node;
}

export const clamp01 = (v) => Math.max(0, Math.min(1, v));
export const fmt = (v, digits = 3) => (v === null || v === undefined ? '–' : Number(v).toFixed(digits));
export const pct = (v) => (v === null || v === undefined ? '–' : `${(100 * v).toFixed(1)}%`);
export const signed = (v, digits = 3) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(digits)}`;

// A weight or a wanted change as a colour: blue for +, red for −, black for 0 (|v| <= 1).
export function diverging(v) {
  const c = v >= 0 ? BLUE : RED;
  const s = Math.min(1, Math.abs(v));
  return [Math.round(c[0] * s), Math.round(c[1] * s), Math.round(c[2] * s)];
}
export const rgb = (c) => `rgb(${c[0]},${c[1]},${c[2]})`;
export function grey(v) {
  const g = Math.round(24 + 231 * clamp01(v));
  return `rgb(${g},${g},${g})`;
}

// Paint a 28x28 image onto a canvas: values in [0, 1] as grey, or in [-1, 1] as blue/red. The
// pixels are written in place (no array for each: a training's weight pictures are 25,000 pixels
// several times a second, and their garbage is collected in the frames a drawing needs).
export function paint(canvas, values, side, signedValues) {
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(side, side);
  const rgba = image.data;
  for (let i = 0; i < side * side; i++) {
    const v = values[i];
    if (signedValues) {
      const c = v >= 0 ? BLUE : RED;
      const s = Math.min(1, Math.abs(v));
      rgba[4 * i] = Math.round(c[0] * s); rgba[4 * i + 1] = Math.round(c[1] * s); rgba[4 * i + 2] = Math.round(c[2] * s);
    } else {
      rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = 255 * v;
    }
    rgba[4 * i + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}

export const maxAbs = (values) => values.reduce((m, v) => Math.max(m, Math.abs(v)), 0) || 1;

// A number with `digits` significant digits, as a learner reads it: 0.00032, not 0.000; 3.2×10⁻⁶
// below 0.0001; and 0 for zero, never −0.000.
const SUPER = { '-': '⁻', 0: '⁰', 1: '¹', 2: '²', 3: '³', 4: '⁴', 5: '⁵', 6: '⁶', 7: '⁷', 8: '⁸', 9: '⁹' };
export function num(v, digits = 3) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const r = Number(v.toPrecision(digits));
  if (r === 0) return '0';
  const a = Math.abs(r);
  const text = a >= 1e-4 ? String(a) : a.toExponential(digits - 1).replace(/e([+-])(\d+)/,
    (m, sign, e) => `×10${sign === '-' ? SUPER['-'] : ''}${[...e].map((d) => SUPER[d]).join('')}`);
  return (r < 0 ? '−' : '') + text;
}
// A change: its sign always shown (+0.012, −3.2×10⁻⁵), and 0 with no sign.
export const amount = (v, digits = 2) => { const t = num(v, digits); return t === '0' || t === '–' || t[0] === '−' ? t : `+${t}`; };

// A message beside the field at fault, in words (and the field marked invalid); '' clears it.
export function fieldError(selector, message) {
  const input = $(selector);
  let box = document.getElementById(`${input.id}-error`);
  if (!box) {
    box = html('span', { id: `${input.id}-error`, class: 'field-error', role: 'alert' });
    input.insertAdjacentElement('afterend', box);
    input.setAttribute('aria-describedby', box.id);
  }
  box.textContent = message || '';
  box.hidden = !message;
  input.setAttribute('aria-invalid', String(Boolean(message)));
}
