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

// Paint a 28x28 image onto a canvas: values in [0, 1] as grey, or in [-1, 1] as blue/red.
export function paint(canvas, values, side, signedValues) {
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(side, side);
  for (let i = 0; i < side * side; i++) {
    const c = signedValues ? diverging(values[i]) : [255 * values[i], 255 * values[i], 255 * values[i]];
    image.data.set([c[0], c[1], c[2], 255], 4 * i);
  }
  ctx.putImageData(image, 0, 0);
}

export const maxAbs = (values) => values.reduce((m, v) => Math.max(m, Math.abs(v)), 0) || 1;
