// digitnet's page: draw a digit, watch the network think (lesson 1), learn (lessons 2 and 3).
// Plain JavaScript, no libraries, no build step. All the numbers come from the server (app.py):
// the drawing is sent as a grey grid, brought to MNIST's form there (the same code as
// `digitnet predict`), and every layer's activations come back.
'use strict';

(() => {
  const $ = (selector) => document.querySelector(selector);
  const SVGNS = 'http://www.w3.org/2000/svg';
  const BLUE = [78, 161, 255];
  const RED = [255, 92, 92];
  const MAX_SHOWN = 32; // neurons drawn per layer; larger layers show their first 32
  const PAD_GRID = 140; // the drawing is sent as a 140x140 grid of grey levels

  // Read by the browser tests: stroke-to-screen latencies (ms) and request counts.
  const stats = { latencies: [], fetchMs: [], renderMs: [], canvasRequests: 0, errors: [], curve: [] };
  window.digitnet = stats;

  const state = {
    ready: false,
    modelVersion: 0,
    info: null, // GET /api/network
    current: null, // the last ForwardResponse
    classNames: '0123456789'.split(''),
    label: null, // the right digit, chosen for backpropagation
    backprop: null,
    selected: null, // {layer, index, data}
    run: null, // the training run followed
    points: [],
    history: [],
    batches: [], // the mini-batches' cost, piece by piece (live.js draws them)
  };
  window.digitnetState = state; // read by lessons.js: the current drawing, the run

  // -- talking to the server -------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  async function api(path, body, method) {
    const options = { method: method || (body === undefined ? 'GET' : 'POST'), headers: {} };
    if (body !== undefined) {
      options.headers['Content-Type'] = 'application/json';
      options.body = JSON.stringify(body);
    }
    const response = await fetch(path, options);
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok) throw new ApiError(response.status, describe(data, response));
    return data;
  }

  function describe(data, response) {
    if (data && typeof data.detail === 'string') return data.detail;
    if (data && Array.isArray(data.detail)) {
      return data.detail.map((d) => `${(d.loc || []).slice(1).join('.') || 'request'}: ${d.msg}`).join('; ');
    }
    return `${response.status} ${response.statusText}`;
  }

  let toastTimer = null;
  function toast(message) {
    const box = $('#toast');
    box.textContent = message;
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { box.hidden = true; }, 7000);
  }

  function failed(error) {
    stats.errors.push(String(error.message || error));
    toast(error.message || String(error));
  }

  // -- small helpers ---------------------------------------------------------------------------

  function svg(tag, attrs, parent) {
    const node = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (parent) parent.appendChild(node);
    return node;
  }

  function html(tag, attrs, text, parent) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined && text !== null) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }

  const clamp01 = (v) => Math.max(0, Math.min(1, v));
  const fmt = (v, digits = 3) => (v === null || v === undefined ? '–' : Number(v).toFixed(digits));
  const pct = (v) => (v === null || v === undefined ? '–' : `${(100 * v).toFixed(1)}%`);
  const signed = (v, digits = 3) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(digits)}`;

  // A weight or a wanted change as a colour: blue for +, red for −, black for 0 (|v| <= 1).
  function diverging(v) {
    const c = v >= 0 ? BLUE : RED;
    const s = Math.min(1, Math.abs(v));
    return [Math.round(c[0] * s), Math.round(c[1] * s), Math.round(c[2] * s)];
  }
  const rgb = (c) => `rgb(${c[0]},${c[1]},${c[2]})`;
  function grey(v) {
    const g = Math.round(24 + 231 * clamp01(v));
    return `rgb(${g},${g},${g})`;
  }

  // Paint a 28x28 image onto a canvas: values in [0, 1] as grey, or in [-1, 1] as blue/red.
  function paint(canvas, values, side, signedValues) {
    const ctx = canvas.getContext('2d');
    const image = ctx.createImageData(side, side);
    for (let i = 0; i < side * side; i++) {
      const c = signedValues ? diverging(values[i]) : [255 * values[i], 255 * values[i], 255 * values[i]];
      image.data.set([c[0], c[1], c[2], 255], 4 * i);
    }
    ctx.putImageData(image, 0, 0);
  }

  const maxAbs = (values) => values.reduce((m, v) => Math.max(m, Math.abs(v)), 0) || 1;

  // -- 1. drawing ------------------------------------------------------------------------------

  const pad = $('#pad');
  const padCtx = pad.getContext('2d');
  const small = document.createElement('canvas');
  small.width = small.height = PAD_GRID;
  const smallCtx = small.getContext('2d', { willReadFrequently: true });
  const seen = $('#seen');

  let drawing = false;
  let last = null;
  let dirtySince = null; // time of the oldest stroke event not yet sent
  let inFlight = false;
  let clearOnDraw = false; // after random noise, the next stroke starts on a clean pad

  function padPoint(event) {
    const r = pad.getBoundingClientRect();
    return { x: (event.clientX - r.left) * (pad.width / r.width), y: (event.clientY - r.top) * (pad.height / r.height) };
  }

  function stroke(from, to) {
    padCtx.strokeStyle = '#fff';
    padCtx.fillStyle = '#fff';
    padCtx.lineWidth = pad.width * 0.075;
    padCtx.lineCap = 'round';
    padCtx.lineJoin = 'round';
    padCtx.beginPath();
    if (from.x === to.x && from.y === to.y) {
      padCtx.arc(to.x, to.y, padCtx.lineWidth / 2, 0, 2 * Math.PI);
      padCtx.fill();
    } else {
      padCtx.moveTo(from.x, from.y);
      padCtx.lineTo(to.x, to.y);
      padCtx.stroke();
    }
  }

  pad.addEventListener('pointerdown', (event) => {
    if (!state.ready || event.button > 0) return;
    event.preventDefault();
    pad.setPointerCapture(event.pointerId);
    if (clearOnDraw) { padCtx.clearRect(0, 0, pad.width, pad.height); clearOnDraw = false; }
    $('#pad-hint').hidden = true;
    drawing = true;
    last = padPoint(event);
    stroke(last, last);
    changed(event.timeStamp);
  });

  pad.addEventListener('pointermove', (event) => {
    if (!drawing) return;
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    for (const e of (events.length ? events : [event])) {
      const p = padPoint(e);
      stroke(last, p);
      last = p;
    }
    changed(event.timeStamp);
  });

  function endStroke() {
    if (!drawing) return;
    drawing = false;
    strokeEnded = true;
    if (!inFlight && dirtySince === null) afterStroke();
  }
  pad.addEventListener('pointerup', endStroke);
  pad.addEventListener('pointercancel', endStroke);
  pad.addEventListener('lostpointercapture', endStroke);

  let strokeEnded = false;
  function afterStroke() {
    strokeEnded = false;
    if (state.label !== null) runBackprop();
  }

  function changed(timeStamp) {
    if (dirtySince === null) dirtySince = timeStamp;
    sendDrawing();
  }

  // One request in flight at a time; whatever was drawn meanwhile goes in the next one.
  async function sendDrawing() {
    if (inFlight || dirtySince === null || !state.ready) return;
    const t0 = dirtySince;
    dirtySince = null;
    inFlight = true;
    smallCtx.clearRect(0, 0, PAD_GRID, PAD_GRID);
    smallCtx.drawImage(pad, 0, 0, PAD_GRID, PAD_GRID);
    const rgba = smallCtx.getImageData(0, 0, PAD_GRID, PAD_GRID).data;
    let bytes = '';
    for (let i = 0; i < PAD_GRID * PAD_GRID; i++) bytes += String.fromCharCode(rgba[4 * i + 3]); // ink = alpha
    const pixels = btoa(bytes);
    try {
      stats.canvasRequests += 1;
      const t1 = performance.now();
      const result = await api('/api/canvas', { width: PAD_GRID, height: PAD_GRID, pixels });
      const t2 = performance.now();
      showForward(result, 'your drawing');
      stats.fetchMs.push(t2 - t1);
      stats.renderMs.push(performance.now() - t2);
      requestAnimationFrame(() => { stats.latencies.push(performance.now() - t0); });
    } catch (error) {
      failed(error);
    } finally {
      inFlight = false;
    }
    if (dirtySince !== null) sendDrawing();
    else if (strokeEnded && !drawing) afterStroke();
  }

  function clearPad() {
    padCtx.clearRect(0, 0, pad.width, pad.height);
    $('#pad-hint').hidden = false;
    clearOnDraw = false;
    dirtySince = null;
    showInput(new Array(784).fill(0), 'a blank image');
  }

  // Put a 28x28 image on the pad, pixel for pixel, so strokes can be added to it.
  function padImage(values) {
    const tile = document.createElement('canvas');
    tile.width = tile.height = 28;
    const ctx = tile.getContext('2d');
    const image = ctx.createImageData(28, 28);
    for (let i = 0; i < 784; i++) image.data.set([255, 255, 255, Math.round(255 * values[i])], 4 * i);
    ctx.putImageData(image, 0, 0);
    padCtx.clearRect(0, 0, pad.width, pad.height);
    padCtx.imageSmoothingEnabled = false;
    padCtx.drawImage(tile, 0, 0, pad.width, pad.height);
    padCtx.imageSmoothingEnabled = true;
    $('#pad-hint').hidden = true;
  }

  async function showInput(values, what) {
    try {
      showForward(await api('/api/forward', { input: values }), what);
    } catch (error) { failed(error); }
  }

  $('#clear').addEventListener('click', clearPad);

  $('#example').addEventListener('click', async () => {
    try {
      const result = await api('/api/example');
      padImage(result.input);
      clearOnDraw = false;
      setLabel(result.label, false);
      showForward(result, `test image #${result.index} (labelled ${state.classNames[result.label]})`);
      runBackprop();
    } catch (error) { failed(error); }
  });

  $('#noise').addEventListener('click', async () => {
    const values = Array.from({ length: 784 }, () => Math.random());
    padImage(values);
    clearOnDraw = true;
    await showInput(values, 'random noise (draw to start again)');
    if (state.label !== null) runBackprop();
  });

  // -- 2. the network diagram ------------------------------------------------------------------

  const net = $('#net');
  const diagram = { orientation: null, cols: [], neurons: [], links: [], labels: [], values: [], image: null };

  // Where each layer's neurons go: left to right on wide screens, top to bottom on narrow ones.
  function layout(sizes, vertical) {
    const L = sizes.length - 1;
    const W = vertical ? 400 : 820;
    const H = vertical ? 760 : 500;
    const grid = vertical ? { x: 102, y: 8, size: 196 } : { x: 10, y: 152, size: 196 };
    const cols = [];
    for (let l = 1; l <= L; l++) {
      const k = sizes[l];
      const shown = Math.min(k, MAX_SHOWN);
      const output = l === L;
      const lines = shown > 16 ? 2 : 1;
      const perLine = Math.ceil(shown / lines);
      let span; let along; let across;
      if (vertical) {
        const y0 = 290; const y1 = 680;
        across = L === 1 ? y1 : y0 + ((y1 - y0) * (l - 1)) / (L - 1);
        span = output ? 36 : Math.min(36, 380 / perLine);
        along = W / 2;
      } else {
        const x0 = 310; const x1 = 680;
        across = L === 1 ? x1 : x0 + ((x1 - x0) * (l - 1)) / (L - 1);
        span = Math.min(30, 440 / perLine);
        along = H / 2;
      }
      const r = Math.max(4, Math.min(11, span * 0.36));
      const pos = [];
      for (let i = 0; i < shown; i++) {
        const line = Math.floor(i / perLine);
        const j = i % perLine;
        const a = along + (j - (perLine - 1) / 2) * span;
        const b = across + (line - (lines - 1) / 2) * span * 1.1;
        pos.push(vertical ? { x: a, y: b } : { x: b, y: a });
      }
      cols.push({ layer: l, k, shown, r, pos, output, center: across });
    }
    return { W, H, grid, cols, vertical };
  }

  function pixelPosition(grid, i) {
    const cell = grid.size / 28;
    return { x: grid.x + ((i % 28) + 0.5) * cell, y: grid.y + (Math.floor(i / 28) + 0.5) * cell };
  }

  function buildDiagram() {
    if (!state.info) return;
    const vertical = net.parentElement.clientWidth < 620;
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

    // Connections: the strongest weights into each layer, between neurons that are drawn.
    diagram.links = [];
    for (const c of state.info.connections) {
      const col = lay.cols[c.layer - 1];
      const prev = c.layer > 1 ? lay.cols[c.layer - 2] : null;
      for (let i = 0; i < c.to.length; i++) {
        const to = c.to[i]; const from = c.from[i]; const w = c.weight[i];
        if (to >= col.shown || (prev && from >= prev.shown)) continue;
        const p = prev ? prev.pos[from] : pixelPosition(g, from);
        const q = col.pos[to];
        const s = Math.abs(w) / (c.max_abs || 1);
        const line = svg('line', { x1: p.x, y1: p.y, x2: q.x, y2: q.y, stroke: rgb(w >= 0 ? BLUE : RED),
          'stroke-width': (0.4 + 2.2 * s).toFixed(2), 'stroke-opacity': 0.1 }, gLinks);
        diagram.links.push({ line, layer: c.layer, from, s });
      }
    }
    const top = state.info.connections.length ? state.info.connections[0].to.length : 0;
    $('#links-note').textContent = `(lines: the ${top} strongest weights into each layer)`;

    // Neurons, focusable: one tab stop for the diagram, arrow keys between neurons.
    diagram.neurons = [];
    diagram.labels = [];
    diagram.values = [];
    for (const col of lay.cols) {
      const row = [];
      col.pos.forEach((p, i) => {
        const n = svg('g', { class: 'neuron', role: 'button', tabindex: -1, 'data-layer': col.layer, 'data-index': i },
          gNeurons);
        svg('circle', { cx: p.x, cy: p.y, r: col.r + 3.5, class: 'ring' }, n);
        svg('circle', { cx: p.x, cy: p.y, r: col.r, class: 'body', fill: grey(0) }, n);
        n.addEventListener('click', () => { focusNeuron(col.layer, i); inspect(col.layer, i); });
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
    const firstNeuron = diagram.neurons[0] && diagram.neurons[0][0];
    if (firstNeuron) firstNeuron.setAttribute('tabindex', 0);
    if (state.current) updateDiagram(state.current);
    if (state.selected) markSelected();
    if (state.backprop) drawBackprop();
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

  function focusNeuron(layer, index) {
    for (const row of diagram.neurons) for (const n of row) n.setAttribute('tabindex', -1);
    const n = diagram.neurons[layer - 1][index];
    n.setAttribute('tabindex', 0);
    n.focus();
  }

  function layerActivations(result, layer) {
    return layer === 0 ? result.input : result.layers[layer - 1].a;
  }

  function updateDiagram(result) {
    if (!diagram.image || !state.info) return;
    diagram.image.setAttribute('href', seen.toDataURL());
    const L = result.layers.length;
    const relu = state.info.model.activation === 'relu';
    const scales = [1];
    for (let l = 1; l <= L; l++) {
      const a = result.layers[l - 1].a;
      const scale = relu && l < L ? Math.max(...a, 1e-9) : 1;
      scales.push(scale);
      diagram.neurons[l - 1].forEach((n, i) => {
        n.lastChild.setAttribute('fill', grey(a[i] / scale));
        const what = l === L ? `output ${state.classNames[i]}` : `layer ${l} neuron ${i}`;
        n.setAttribute('aria-label', `${what}: activation ${a[i].toFixed(2)}`);
      });
    }
    for (const link of diagram.links) {
      const a = clamp01(layerActivations(result, link.layer - 1)[link.from] / scales[link.layer - 1]);
      link.line.setAttribute('stroke-opacity', (0.05 + 0.8 * link.s * (0.12 + 0.88 * a)).toFixed(3));
    }
    const out = result.output;
    diagram.values.forEach((t, i) => { t.textContent = out[i].toFixed(2); });
    diagram.labels.forEach((t, i) => { t.classList.toggle('guess', i === result.guess && !result.blank); });
    diagram.neurons[L - 1].forEach((n, i) => n.classList.toggle('guess', i === result.guess && !result.blank));
  }

  // -- showing one forward pass -----------------------------------------------------------------

  function showForward(result, what) {
    if (result.model_version !== state.modelVersion) { modelChanged(); }
    state.current = result;
    paint(seen, result.input, 28, false);
    const g = $('#guess');
    if (result.blank) {
      g.textContent = '–';
      $('#confidence').textContent = 'draw a digit';
    } else {
      g.textContent = state.classNames[result.guess];
      $('#confidence').textContent = `output ${result.output[result.guess].toFixed(2)}`;
    }
    $('#source').textContent = `Input: ${what}.`;
    updateDiagram(result);
    if (state.selected) renderInspect();
    $('#bp-step').disabled = state.label === null;
  }

  // -- 3. inspecting a neuron ------------------------------------------------------------------

  async function inspect(layer, index) {
    try {
      const data = await api('/api/neuron', { layer, index });
      state.selected = { layer, index, data };
      markSelected();
      renderInspect();
    } catch (error) { failed(error); }
  }

  function markSelected() {
    for (const row of diagram.neurons) for (const n of row) n.classList.remove('selected');
    const s = state.selected;
    const row = s && diagram.neurons[s.layer - 1];
    if (row && row[s.index]) row[s.index].classList.add('selected');
  }

  function renderInspect() {
    const box = $('#inspect');
    const s = state.selected;
    if (!s) return;
    const { layer, index, data } = s;
    const L = state.info.model.sizes.length - 1;
    const result = state.current;
    box.textContent = '';
    const name = layer === L ? `Output neuron ${state.classNames[index]}` : `Layer ${layer}, neuron ${index}`;
    html('h3', {}, name, box);
    const inputs = result ? layerActivations(result, layer - 1) : null;
    const w = data.weights;
    const m = maxAbs(w);
    if (data.image_side === 28) {
      const row = html('div', { class: 'inspect-images' }, null, box);
      const f1 = html('figure', {}, null, row);
      const c1 = html('canvas', { width: 28, height: 28, class: 'weights-image', id: 'neuron-weights',
        'aria-label': 'the neuron’s 784 incoming weights as an image' }, null, f1);
      paint(c1, w.map((v) => v / m), 28, true);
      html('figcaption', {}, 'its weights w (blue +, red −)', f1);
      if (inputs) {
        const prod = w.map((v, i) => v * inputs[i]);
        const mp = maxAbs(prod);
        const f2 = html('figure', {}, null, row);
        const c2 = html('canvas', { width: 28, height: 28, class: 'weights-image',
          'aria-label': 'each weight times its input pixel' }, null, f2);
        paint(c2, prod.map((v) => v / mp), 28, true);
        html('figcaption', {}, 'w × a: what this image adds up', f2);
      }
    } else {
      const strip = html('div', { class: 'cells', id: 'neuron-weights', role: 'img',
        'aria-label': `its ${w.length} incoming weights` }, null, box);
      const limit = Math.min(w.length, 128);
      for (let i = 0; i < limit; i++) {
        const cell = html('span', { class: 'cell', title: `from neuron ${i}: w = ${w[i].toFixed(3)}` +
          (inputs ? `, a = ${inputs[i].toFixed(3)}` : '') }, null, strip);
        cell.style.background = rgb(diverging(w[i] / m));
        if (inputs) cell.style.borderColor = grey(inputs[i]);
      }
      html('p', { class: 'muted small' }, `Its ${w.length} weights from layer ${layer - 1}` +
        (w.length > limit ? ` (first ${limit} shown)` : '') + ': blue +, red −; the border is that neuron’s activation now.', box);
    }
    const dl = html('dl', { class: 'numbers' }, null, box);
    const item = (term, value) => { html('dt', {}, term, dl); html('dd', {}, value, dl); };
    item('bias b', fmt(data.bias));
    if (result) {
      const z = result.layers[layer - 1].z[index];
      const a = result.layers[layer - 1].a[index];
      item('z = Σ w·a + b', `${fmt(z - data.bias)} ${data.bias >= 0 ? '+' : '−'} ${fmt(Math.abs(data.bias))} = ${fmt(z)}`);
      const act = layer === L ? (state.info.model.cost === 'cross-entropy' ? 'softmax(z)' : 'σ(z)')
        : (state.info.model.activation === 'relu' ? 'relu(z)' : 'σ(z)');
      item(`a = ${act}`, fmt(a));
    } else {
      item('z, a', 'draw a digit to see them');
    }
    const strongest = w.map((v, i) => [v, i]).sort((p, q) => Math.abs(q[0]) - Math.abs(p[0])).slice(0, 3);
    const what = (i) => (data.image_side === 28 ? `pixel (${Math.floor(i / 28)}, ${i % 28})` : `neuron ${i}`);
    html('p', { class: 'muted small' }, `Strongest weights: ${strongest.map(([v, i]) => `${what(i)} ${signed(v, 2)}`).join(', ')}.`, box);
  }

  // -- 4. backpropagation on this example -----------------------------------------------------------

  function buildLabels() {
    const box = $('#labels');
    box.textContent = '';
    state.classNames.forEach((name, k) => {
      const b = html('button', { type: 'button', 'aria-pressed': 'false', 'data-label': k, class: 'label-button' }, name, box);
      b.addEventListener('click', () => setLabel(k, true));
    });
  }

  function setLabel(k, run) {
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

  async function runBackprop() {
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
    const costName = state.info.model.cost;
    const formula = costName === 'quadratic' ? 'C₀ = Σ (aⱼ − yⱼ)²' : 'C₀ = −Σ yⱼ ln aⱼ';
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
  function drawBackprop() {
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

  function clearBackprop() {
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

  // -- 5. training -------------------------------------------------------------------------------------

  const form = $('#train-form');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const hiddenText = $('#t-hidden').value.trim();
    const hidden = hiddenText ? hiddenText.split(/[\s,]+/).filter(Boolean).map(Number) : [];
    const limit = $('#t-limit').value;
    const body = {
      hidden,
      activation: $('#t-activation').value,
      cost: $('#t-cost').value,
      learning_rate: Number($('#t-eta').value),
      batch_size: Number($('#t-batch').value),
      epochs: Number($('#t-epochs').value),
      limit: limit ? Number(limit) : null,
      seconds_per_batch: window.digitnetLive.speed(),
    };
    try {
      await api('/api/train', body);
      follow();
    } catch (error) { failed(error); }
  });

  $('#t-pause').addEventListener('click', async () => {
    const paused = state.run && state.run.state === 'paused';
    try { onTrainState(await api(paused ? '/api/train/resume' : '/api/train/pause', undefined, 'POST')); } catch (error) { failed(error); }
  });
  $('#t-stop').addEventListener('click', async () => {
    try { onTrainState(await api('/api/train/stop', undefined, 'POST')); } catch (error) { failed(error); }
  });
  $('#t-use').addEventListener('click', async () => {
    try {
      const status = await api('/api/train/use', undefined, 'POST');
      await applyStatus(status);
      toast(`Now drawing with the network ${status.model.source}.`);
    } catch (error) { failed(error); }
  });
  $('#t-original').addEventListener('click', async () => {
    try { await applyStatus(await api('/api/model/original', undefined, 'POST')); } catch (error) { failed(error); }
  });
  $('#t-save').addEventListener('click', async () => {
    try {
      const saved = await api('/api/train/save', {});
      toast(`Saved as ${saved.path}`);
    } catch (error) { failed(error); }
  });
  $('#t-download').addEventListener('click', (event) => {
    if ($('#t-download').getAttribute('aria-disabled') === 'true') event.preventDefault();
  });

  let source = null;
  // Follow the training run live (Server-Sent Events); the server replays the run so far on connect.
  function follow() {
    if (source) source.close();
    source = new EventSource('/api/train/events');
    source.onopen = () => { state.points = []; state.history = []; state.batches = []; };
    source.addEventListener('state', (e) => onTrainState(JSON.parse(e.data)));
    source.addEventListener('point', (e) => { state.points.push(JSON.parse(e.data)); drawCurves(); });
    source.addEventListener('batch', (e) => { state.batches.push(JSON.parse(e.data)); drawCurves(); });
    source.addEventListener('step', (e) => window.digitnetLive.showStep(JSON.parse(e.data)));
    source.addEventListener('epoch', (e) => { state.history.push(JSON.parse(e.data)); drawCurves(); renderHistory(); });
    source.addEventListener('weights', (e) => renderWeights(JSON.parse(e.data)));
    source.addEventListener('end', () => { source.close(); source = null; });
  }

  const ACTIVE = ['loading', 'running', 'paused', 'stopping'];
  function onTrainState(s) {
    const previous = state.run;
    if (previous && s.run !== previous.run) { state.points = []; state.history = []; state.batches = []; }
    state.run = { ...(previous || {}), ...s };
    const r = state.run;
    const active = ACTIVE.includes(r.state);
    const settings = r.settings;
    const what = settings ? `${settings.sizes.join('-')}, ${settings.activation}, ${settings.cost}, η = ${settings.learning_rate}, ` +
      `batch ${settings.batch_size}, ${settings.limit ? settings.limit.toLocaleString('en') : 'all 60,000'} images` : '';
    const progress = r.state === 'idle' ? 'No training yet.' : `Run ${r.run}: ${r.state}` +
      (settings ? ` — epoch ${r.epoch} of ${settings.epochs} (${Math.round(100 * r.progress)}%)` : '') + (what ? `. ${what}.` : '.');
    $('#t-status').textContent = r.state === 'failed' ? `${progress} ${r.message}` : progress;
    $('#t-bar').style.width = `${(100 * r.progress).toFixed(1)}%`;
    $('#t-start').disabled = active;
    $('#t-pause').disabled = !(r.state === 'running' || r.state === 'paused');
    $('#t-pause').textContent = r.state === 'paused' ? 'Resume' : 'Pause';
    $('#t-stop').disabled = !(r.state === 'running' || r.state === 'paused' || r.state === 'loading');
    $('#t-use').disabled = !r.has_network;
    $('#t-save').disabled = !r.has_network;
    $('#t-download').setAttribute('aria-disabled', String(!r.has_network));
    if (!state.ready) showStartup(r);
    if (!active && previous && ACTIVE.includes(previous.state)) refreshStatus();
    window.digitnetLive.onState(r);
    document.dispatchEvent(new CustomEvent('digitnet:train', { detail: r }));
    drawCurves();
  }

  function renderHistory() {
    const table = $('#history');
    const body = table.querySelector('tbody');
    body.textContent = '';
    for (const h of state.history) {
      const tr = html('tr', {}, null, body);
      html('td', {}, String(h.epoch), tr);
      html('td', {}, fmt(h.train_cost, 4), tr);
      html('td', {}, pct(h.train_accuracy), tr);
      html('td', {}, pct(h.test_accuracy), tr);
      html('td', {}, fmt(h.seconds, 1), tr);
    }
    table.hidden = state.history.length === 0;
  }

  function renderWeights(images) {
    const box = $('#weights');
    const count = images.data.length;
    while (box.children.length > count) box.lastChild.remove();
    while (box.children.length < count) {
      html('canvas', { width: 28, height: 28, class: 'weight-tile', title: `neuron ${box.children.length}` }, null, box);
    }
    images.data.forEach((b64, n) => {
      const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
      const values = Array.from(new Int8Array(bytes.buffer), (v) => v / 127);
      paint(box.children[n], values, 28, true);
    });
  }

  // The curves are drawn by live.js (axes that follow the numbers, a log scale).
  function drawCurves() {
    stats.curve = state.points.map((p) => p.epoch);
    window.digitnetLive.drawCurves(state);
  }
  document.addEventListener('digitnet:redraw', drawCurves);

  // -- the served network ----------------------------------------------------------------------------

  function showStartup(run) {
    const box = $('#startup');
    if (state.ready) { box.hidden = true; return; }
    box.hidden = false;
    const p = run ? run.progress || 0 : 0;
    $('#startup-text').textContent = run && run.state === 'failed'
      ? `The default network could not be trained: ${run.message}`
      : `Training the default network (784-16-16-10, as in the lessons) before the page can draw: ${Math.round(100 * p)}%`;
    $('#startup-bar').style.width = `${(100 * p).toFixed(1)}%`;
  }

  let polling = null;
  async function refreshStatus() {
    try {
      await applyStatus(await api('/api/status'));
    } catch (error) {
      $('#model').textContent = `The server does not answer: ${error.message}`;
    }
  }

  async function applyStatus(status) {
    state.classNames = status.class_names;
    const wasReady = state.ready;
    state.ready = status.ready;
    document.body.classList.toggle('not-ready', !status.ready);
    for (const id of ['#clear', '#example', '#noise']) $(id).disabled = !status.ready;
    if (!status.ready) {
      $('#model').textContent = status.message;
      showStartup(state.run || { progress: status.progress, state: status.training });
      if (!polling) polling = setInterval(refreshStatus, 700);
      if (!source && ACTIVE.includes(status.training)) follow();
      return;
    }
    if (polling) { clearInterval(polling); polling = null; }
    $('#startup').hidden = true;
    const m = status.model;
    $('#model').textContent = `Network ${m.sizes.join('-')} (${m.activation}, ${m.cost} cost), ` +
      `${pct(m.test_accuracy)} right on the 10,000 test images — ${m.source}`;
    $('#t-original').hidden = !/trained on this page/.test(m.source);
    if (!wasReady || status.model_version !== state.modelVersion) await loadNetwork(status.model_version);
  }

  async function loadNetwork(version) {
    state.info = await api('/api/network?top=256');
    state.modelVersion = state.info.model_version || version;
    state.selected = null;
    $('#inspect').querySelectorAll('*').forEach((n) => n.remove());
    html('p', { class: 'muted' }, 'Click a neuron in the diagram to see the weights it gives its inputs, its bias, ' +
      'and how its weighted sum z becomes its activation a.', $('#inspect'));
    clearBackprop();
    buildLabels();
    if (state.label !== null) setLabel(state.label, false);
    buildDiagram();
    const input = state.current ? state.current.input : new Array(784).fill(0);
    showForward(await api('/api/forward', { input }), state.current ? $('#source').textContent.replace(/^Input: |\.$/g, '') : 'a blank image');
    if (state.label !== null) runBackprop();
  }

  function modelChanged() { refreshStatus(); }

  let resizeTimer = null;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      const vertical = net.parentElement.clientWidth < 620;
      if (vertical !== diagram.orientation) buildDiagram();
      drawCurves();
    }, 150);
  });

  buildLabels();
  drawCurves();
  refreshStatus();
  follow();
})();
