// The shared page: draw, see the network's input, outputs and hidden layers, inspect a neuron.
// Uses DigitNet (net.js) for the forward pass and Preprocess (preprocess.js) for MNIST's form.
'use strict';

(() => {
  const $ = (selector) => document.querySelector(selector);
  const PAD_GRID = 140; // the drawing is read as a 140x140 grid of ink levels, as the served page sends it
  const net = DigitNet.load(JSON.parse($('#model').textContent));
  const pad = $('#pad');
  const padCtx = pad.getContext('2d');
  const small = document.createElement('canvas');
  small.width = small.height = PAD_GRID;
  const smallCtx = small.getContext('2d', { willReadFrequently: true });
  const state = { x: new Float32Array(784), result: null, selected: null };

  const stroke = (from, to) => window.digitnetPad.stroke(padCtx, from, to);

  // The pad's ink (its alpha) as PAD_GRID x PAD_GRID levels 0-255, row by row.
  function grid() {
    smallCtx.clearRect(0, 0, PAD_GRID, PAD_GRID);
    smallCtx.drawImage(pad, 0, 0, PAD_GRID, PAD_GRID);
    const rgba = smallCtx.getImageData(0, 0, PAD_GRID, PAD_GRID).data;
    return Uint8Array.from({ length: PAD_GRID * PAD_GRID }, (_, i) => rgba[4 * i + 3]);
  }

  // Paint a 28x28 image: [0, 1] as grey, or signed values as blue (+) / red (-) scaled by their largest.
  function paint(canvas, values, signed) {
    const ctx = canvas.getContext('2d');
    const img = ctx.createImageData(28, 28);
    const top = signed ? values.reduce((m, v) => Math.max(m, Math.abs(v)), 0) || 1 : 1;
    for (let i = 0; i < 784; i++) {
      const v = values[i] / top;
      const rgb = !signed ? [255 * v, 255 * v, 255 * v] : v >= 0 ? [78 * v, 161 * v, 255 * v] : [-255 * v, -92 * v, -92 * v];
      img.data.set([...rgb, 255], 4 * i);
    }
    ctx.putImageData(img, 0, 0);
  }

  function showOutputs(out) {
    const guess = DigitNet.argmax(out);
    $('#guess').textContent = String(guess);
    const list = $('#outputs');
    list.replaceChildren(...out.map((v, d) => {
      const li = document.createElement('li');
      li.className = d === guess ? 'guess' : '';
      li.dataset.digit = String(d);
      li.innerHTML = `<span class="digit">${d}</span><span class="value">${v.toFixed(3)}</span><span class="bar" style="width:${Math.round(150 * v)}px"></span>`;
      return li;
    }));
  }

  function buildLayers() {
    const box = $('#layers');
    for (let l = 1; l < net.sizes.length - 1; l++) {
      const row = document.createElement('div');
      row.className = 'layer';
      row.innerHTML = `<span class="name">layer ${l} (${net.sizes[l]})</span>`;
      for (let j = 0; j < net.sizes[l]; j++) {
        const b = document.createElement('button');
        b.className = 'neuron';
        b.type = 'button';
        b.dataset.layer = String(l);
        b.dataset.index = String(j);
        b.setAttribute('aria-label', `layer ${l} neuron ${j}`);
        b.addEventListener('click', () => { state.selected = { l, j }; showLayers(); });
        row.append(b);
      }
      box.append(row);
    }
  }

  function showLayers() {
    const { a } = state.result;
    for (const b of document.querySelectorAll('.neuron')) {
      const l = Number(b.dataset.layer); const j = Number(b.dataset.index);
      const v = Math.min(1, a[l][j]);
      b.style.background = `rgb(${Math.round(255 * v)}, ${Math.round(255 * v)}, ${Math.round(255 * v)})`;
      b.title = `a = ${a[l][j].toFixed(3)}`;
      b.classList.toggle('selected', !!state.selected && state.selected.l === l && state.selected.j === j);
    }
    showInspector();
  }

  // The selected neuron: a = sigma(z), z = w . a_prev + b, and its weights as an image if from pixels.
  function showInspector() {
    const sel = state.selected;
    $('#inspector').hidden = !sel;
    if (!sel) return;
    const { l, j } = sel;
    const n = net.sizes[l - 1];
    $('#neuron-title').textContent = `Layer ${l}, neuron ${j} (${net.activation})`;
    const weights = $('#neuron-weights');
    weights.hidden = l !== 1;
    if (l === 1) paint(weights, net.W[0].subarray(j * n, (j + 1) * n), true);
    const rows = [['a', state.result.a[l][j]], ['z', state.result.z[l - 1][j]], ['b', net.b[l - 1][j]]];
    $('#neuron-values').innerHTML = rows.map(([k, v]) => `<dt>${k}</dt><dd id="neuron-${k}">${v.toFixed(4)}</dd>`).join('');
  }

  function update() {
    state.x = Preprocess.toMnist(grid(), PAD_GRID, PAD_GRID);
    state.result = DigitNet.forward(net, state.x);
    paint($('#seen'), state.x, false);
    showOutputs(state.result.a[state.result.a.length - 1]);
    showLayers();
  }

  function padPoint(event) {
    const r = pad.getBoundingClientRect();
    return { x: (event.clientX - r.left) * (pad.width / r.width), y: (event.clientY - r.top) * (pad.height / r.height) };
  }

  let last = null;
  let pending = false;
  function changed() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; update(); });
  }
  pad.addEventListener('pointerdown', (event) => {
    event.preventDefault();
    pad.setPointerCapture(event.pointerId);
    last = padPoint(event);
    stroke(last, last);
    changed();
  });
  pad.addEventListener('pointermove', (event) => {
    if (last === null) return;
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    for (const e of (events.length ? events : [event])) { const p = padPoint(e); stroke(last, p); last = p; }
    changed();
  });
  const end = () => { if (last !== null) { last = null; update(); } };
  pad.addEventListener('pointerup', end);
  pad.addEventListener('pointercancel', end);
  $('#clear').addEventListener('click', () => { padCtx.clearRect(0, 0, pad.width, pad.height); update(); });

  // Draw point lists (pad pixels) as strokes, as the mouse would; for tests and demonstrations.
  function drawStrokes(strokes) {
    padCtx.clearRect(0, 0, pad.width, pad.height);
    for (const points of strokes) {
      let prev = points[0];
      stroke({ x: prev[0], y: prev[1] }, { x: prev[0], y: prev[1] });
      for (const p of points.slice(1)) { stroke({ x: prev[0], y: prev[1] }, { x: p[0], y: p[1] }); prev = p; }
    }
    update();
    return Array.from(grid());
  }

  buildLayers();
  update();
  window.digitnet = {
    net,
    floats: DigitNet.floats,
    predictProba: (X, m) => DigitNet.predictProba(net, X, m),
    toMnist: (levels, h, w) => Array.from(Preprocess.toMnist(levels, h, w)),
    drawStrokes,
    grid: () => Array.from(grid()),
    input: () => Array.from(state.x),
    guess: () => DigitNet.argmax(state.result.a[state.result.a.length - 1]),
  };
})();
