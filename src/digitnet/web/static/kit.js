// Small helpers shared by the page's scripts: requests (for the ES modules too, through api.js),
// elements, pictures. A classic script, loaded first, so live.js and lessons.js can use it.
'use strict';

window.digitnetKit = (() => {
  const $ = (selector) => document.querySelector(selector);
  const BLUE = [78, 161, 255];
  const RED = [255, 92, 92];

  class ApiError extends Error {
    constructor(status, message, fields) { super(message); this.status = status; this.fields = fields || []; }
  }

  // This tab's visitor id: random, made when the page loads and kept only in its memory, so a
  // reload or a duplicated tab is a new visitor. Sent with every request, it gives the tab its
  // own network and practice copy on the server (web/visitors.py).
  const visitor = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');

  // The page's one JSON request helper (api.js hands it to the ES modules): an error answer
  // becomes an ApiError carrying the status, the server's message in words and, for a request
  // the server found invalid, the fields at fault ({field, type, msg}).
  async function api(path, body, method) {
    const options = { method: method || (body === undefined ? 'GET' : 'POST'), headers: { 'X-Digitnet-Visitor': visitor } };
    if (body !== undefined) {
      options.headers['Content-Type'] = 'application/json';
      options.body = JSON.stringify(body);
    }
    const response = await fetch(path, options);
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok) throw new ApiError(response.status, describe(data, response), fields(data));
    return data;
  }

  function fields(data) {
    if (!data || !Array.isArray(data.detail)) return [];
    return data.detail.map((d) => ({ field: (d.loc || [])[1], type: d.type, msg: d.msg }));
  }

  function describe(data, response) {
    if (data && typeof data.detail === 'string') return data.detail;
    if (data && Array.isArray(data.detail)) {
      return data.detail.map((d) => `${(d.loc || []).slice(1).join(' ').replace(/_/g, ' ') || 'the request'} ` +
        `${words(d.msg)}`).join('; ');
    }
    return `${response.status} ${response.statusText}`;
  }

  // pydantic's "Input should be less than or equal to 512" as "must be at most 512".
  function words(msg) {
    return String(msg || '').replace(/^Input should be /, 'must be ').replace('less than or equal to', 'at most')
      .replace('greater than or equal to', 'at least').replace('greater than', 'above').replace('less than', 'below')
      .replace(/^Value error, /, '');
  }

  function html(tag, attrs, text, parent) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined && text !== null) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }

  // Base64 bytes as numbers: int8 scaled to [-1, 1] (weights, gradients) or uint8 to [0, 1] (pixels),
  // in a typed array (a live training decodes 32 pictures several times a second).
  function decode(b64, signed) {
    const bytes = atob(b64);
    const values = new Float64Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes.charCodeAt(i);
      values[i] = signed ? ((byte << 24) >> 24) / 127 : byte / 255; // (byte << 24) >> 24: the byte as int8
    }
    return values;
  }

  function colour(v, signed) {
    if (!signed) { const g = Math.round(255 * v); return [g, g, g]; }
    const c = v >= 0 ? BLUE : RED;
    const s = Math.min(1, Math.abs(v));
    return [Math.round(c[0] * s), Math.round(c[1] * s), Math.round(c[2] * s)];
  }

  // A side x side image onto a canvas: [0, 1] as grey, or [-1, 1] as blue (+) / red (−).
  function paint(canvas, values, side, signed) {
    const ctx = canvas.getContext('2d');
    const image = ctx.createImageData(side, side);
    for (let i = 0; i < side * side; i++) {
      const c = colour(values[i], signed);
      image.data[4 * i] = c[0]; image.data[4 * i + 1] = c[1]; image.data[4 * i + 2] = c[2]; image.data[4 * i + 3] = 255;
    }
    ctx.putImageData(image, 0, 0);
  }

  // Canvas sized to its CSS box (sharp on high-density screens); returns [ctx, width, height].
  function surface(canvas) {
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || 360; const h = canvas.clientHeight || 180;
    if (canvas.width !== Math.round(w * dpr)) { canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr); }
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    return [ctx, w, h];
  }

  function toast(message) {
    const box = $('#toast');
    box.textContent = message; box.hidden = false;
    setTimeout(() => { box.hidden = true; }, 7000);
  }

  const fmt = (v, digits = 4) => (v === null || v === undefined ? '–' : Number(v).toFixed(digits));
  const sci = (v) => (v === null || v === undefined ? '–' : Number(v).toExponential(3));
  return { $, api, ApiError, visitor, html, decode, colour, paint, surface, toast, fmt, sci };
})();
