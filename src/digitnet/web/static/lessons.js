// The lessons' views of one step of gradient descent: the mini-batch opened up (each example's
// nudge and their average), the gradient ranked, the cost surface with the path, and replay.
// All the numbers come from /api/lessons/... (lessons.py); this module only draws them.
'use strict';

(() => {
  const { $, api, html, decode, colour, paint, surface, toast, fmt, sci } = window.digitnetKit;
  const shown = {}; // read by the browser tests: the numbers each view shows
  window.digitnetLessons = shown;
  let run = null;

  // -- one mini-batch, opened up ---------------------------------------------------------------

  // The weight or bias picked, each index kept inside the run's layer sizes.
  function chosen() {
    const sizes = (run && run.settings && run.settings.sizes) || [784, 16, 16, 10];
    const pick = (id, n) => {
      const v = Math.max(0, Math.min(n - 1, Math.floor(Number($(id).value) || 0)));
      $(id).max = String(n - 1); $(id).value = String(v);
      return v;
    };
    const layer = pick('#mb-layer', sizes.length - 1);
    const kind = $('#mb-kind').value;
    const q = { layer, kind, row: pick('#mb-row', sizes[layer + 1]) };
    if (kind === 'W') q.col = pick('#mb-col', sizes[layer]);
    return q;
  }

  let batchAsked = 0; // the latest request wins: an older answer must not replace the learner's pick
  async function openBatch() {
    const q = new URLSearchParams(Object.entries(chosen()).map(([k, v]) => [k, String(v)]));
    const mine = ++batchAsked;
    let b;
    try { b = await api(`/api/lessons/batch?${q}`); } catch (e) { toast(e.message); return; }
    if (mine !== batchAsked) return;
    shown.batch = b;
    const box = $('#mb-examples');
    box.textContent = '';
    const biggest = Math.max(1e-12, ...b.nudges.map(Math.abs));
    b.images.forEach((img, k) => {
      const cell = html('div', { class: 'example', title: `image #${b.indices[k]}` }, null, box);
      const c = html('canvas', { width: 28, height: 28 }, null, cell);
      paint(c, decode(img, false), 28, false);
      html('div', {}, `${b.labels[k]} → ${b.guesses[k]}${b.labels[k] === b.guesses[k] ? ' ✓' : ''}`, cell);
      html('div', {}, `C = ${fmt(b.costs[k], 3)}`, cell);
      const bar = html('div', { class: 'bar' }, null, cell);
      const fill = html('div', {}, null, bar);
      fill.style.width = `${(100 * Math.abs(b.nudges[k])) / biggest}%`;
      const [r, g, bl] = colour(b.nudges[k] >= 0 ? 1 : -1, true);
      fill.style.background = `rgb(${r},${g},${bl})`;
      html('div', { class: 'nudge' }, sci(b.nudges[k]), cell);
    });
    const p = b.parameter.name;
    const out = $('#mb-average');
    out.dataset.average = String(b.average);
    out.textContent = `${p} = ${fmt(b.value, 4)}. The ${b.nudges.length} wishes average ${sci(b.average)} ` +
      `(= −∂C/∂${p}); the step moves it by η × that = ${sci(b.learning_rate * b.average)}.`;
  }

  // -- the gradient as 13,002 nudges -------------------------------------------------------------

  async function showGradient() {
    let g;
    try { g = await api('/api/lessons/gradient?top=12'); } catch (e) { toast(e.message); return; }
    shown.gradient = g;
    const pctOf = (n) => `${(100 * (g.share[n] || 0)).toFixed(0)}%`;
    $('#grad-share').textContent = `|∇C| = ${sci(g.norm)} over ${g.n_parameters.toLocaleString('en')} numbers. ` +
      `The 10 largest carry ${pctOf('10')} of |∇C|², the 100 largest ${pctOf('100')}, the 1,000 largest ${pctOf('1000')}.`;
    const list = $('#grad-top');
    list.textContent = '';
    for (const e of g.top) html('li', {}, `${e.parameter.name}: ∂C/∂w = ${sci(e.gradient)}`, list);
    const box = $('#grad-images');
    box.textContent = '';
    g.images.slice(0, 32).forEach((b64, n) => {
      const c = html('canvas', { width: 28, height: 28, class: 'weight-tile', title: `neuron ${n}: click a pixel` }, null, box);
      paint(c, decode(b64, true).map((v) => -v), 28, true); // drawn as the nudge, −∂C/∂w
      c.addEventListener('click', (ev) => {
        const r = c.getBoundingClientRect();
        const x = Math.min(27, Math.floor(((ev.clientX - r.left) / r.width) * 28));
        const y = Math.min(27, Math.floor(((ev.clientY - r.top) / r.height) * 28));
        $('#mb-layer').value = '0'; $('#mb-kind').value = 'W'; $('#mb-row').value = String(n);
        $('#mb-col').value = String(28 * y + x);
        openBatch();
      });
    });
  }

  // -- the cost surface ----------------------------------------------------------------------------

  async function showSurface() {
    $('#surf-go').disabled = true;
    let s;
    try { s = await api('/api/lessons/surface', { directions: $('#surf-dir').value, resolution: 25 }); } catch (e) {
      toast(e.message); $('#surf-go').disabled = false; return;
    }
    $('#surf-go').disabled = false;
    shown.surface = s;
    const [ctx, w, h] = surface($('#surf-canvas'));
    const n = s.alpha.length;
    const flat = s.cost.flat();
    const lo = Math.log(Math.min(...flat)); const hi = Math.log(Math.max(...flat));
    const cell = w / n;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const t = (Math.log(s.cost[i][j]) - lo) / (hi - lo || 1); // dark = low cost
        const band = Math.floor(t * 12) % 2 ? 0.9 : 1; // bands as contour lines
        ctx.fillStyle = `rgb(${Math.round(255 * t * band)},${Math.round(160 * t * band)},${Math.round(70 + 120 * (1 - t))})`;
        ctx.fillRect(j * cell, h - (i + 1) * cell, cell + 0.5, cell + 0.5);
      }
    }
    const span = s.alpha[n - 1];
    const X = (a) => w / 2 + (a / span) * (w / 2 - cell / 2);
    const Y = (b) => h / 2 - (b / span) * (h / 2 - cell / 2);
    ctx.strokeStyle = '#fff'; ctx.lineWidth = 1.5; ctx.beginPath();
    s.path.concat([[0, 0]]).forEach(([a, b], k) => { if (k) ctx.lineTo(X(a), Y(b)); else ctx.moveTo(X(a), Y(b)); });
    ctx.stroke();
    ctx.fillStyle = '#ffd166'; ctx.beginPath(); ctx.arc(X(0), Y(0), 5, 0, 2 * Math.PI); ctx.fill();
    const out = $('#surf-origin');
    out.dataset.origin = String(s.origin_cost);
    out.textContent = `At the centre (the network now, step ${s.step}): cost ${fmt(s.origin_cost, 5)} on ${s.images} ` +
      `test images. Across the slice: ${fmt(Math.exp(lo), 3)} to ${fmt(Math.exp(hi), 3)}.` +
      (s.explained !== null ? ` The plane holds ${(100 * s.explained).toFixed(0)}% of the path's spread.` : '');
  }

  // -- replay ----------------------------------------------------------------------------------------

  let replayTimer = null;
  async function showReplay() {
    const step = Number($('#rp-step').value);
    let r;
    try { r = await api(`/api/lessons/replay?step=${step}`); } catch (e) { toast(e.message); return; }
    shown.replay = r;
    $('#rp-step').max = String(r.total_steps);
    $('#rp-label').textContent = `Step ${step.toLocaleString('en')} of ${r.total_steps.toLocaleString('en')} ` +
      `(epoch ${r.epoch.toFixed(2)})`;
    const box = $('#rp-weights');
    box.textContent = '';
    r.images.slice(0, 16).forEach((b64) => paint(html('canvas', { width: 28, height: 28, class: 'weight-tile' }, null, box),
      decode(b64, true), 28, true));
    drawReplayCurve(r);
    const current = window.digitnetState && window.digitnetState.current;
    if (current && !current.blank) {
      try {
        const f = await api('/api/lessons/replay/forward', { step, image: current.input });
        const asked = { step, result: f, shown: false };
        document.dispatchEvent(new CustomEvent('digitnet:replay-forward', { detail: asked }));
        shown.replayForward = { ...f, step, diagram: asked.shown };
        $('#rp-guess').textContent = `Your drawing, to the network of step ${step}: ${f.guess} ` +
          `(output ${fmt(f.output[f.guess], 3)}). ` + (asked.shown
          ? 'The diagram (2) shows every neuron of that network; draw again to see the served one.'
          : 'The diagram (2) shows the served network, whose layers differ from this run\'s.');
      } catch (e) { toast(e.message); }
    }
  }

  function drawReplayCurve(r) {
    const [ctx, w, h] = surface($('#rp-curve'));
    const pts = r.points.filter((p) => Number.isFinite(p.batch_cost));
    if (!pts.length) return;
    const maxV = Math.max(...pts.map((p) => p.batch_cost)); const minV = Math.min(...pts.map((p) => p.batch_cost));
    const X = (s) => 8 + ((w - 16) * s) / Math.max(1, r.total_steps);
    const Y = (v) => 8 + (h - 16) * (1 - (v - minV) / (maxV - minV || 1));
    ctx.strokeStyle = '#ffd166'; ctx.lineWidth = 1.5; ctx.beginPath();
    pts.forEach((p, k) => { if (k) ctx.lineTo(X(p.step), Y(p.batch_cost)); else ctx.moveTo(X(p.step), Y(p.batch_cost)); });
    ctx.stroke();
    ctx.strokeStyle = '#4ea1ff'; ctx.beginPath(); ctx.moveTo(X(r.step), 0); ctx.lineTo(X(r.step), h); ctx.stroke();
  }

  async function recording(action) {
    try {
      const info = await api(`/api/lessons/recording/${action}`, { name: $('#rp-name').value });
      toast(`${action === 'save' ? 'Saved' : 'Loaded'} ${info.filename}: ${info.steps} steps, ${info.snapshots} snapshots`);
      $('#rp-step').disabled = false; $('#rp-step').max = String(info.steps);
      showReplay();
    } catch (e) { toast(e.message); }
  }

  function onTrain(r) {
    run = r;
    const paused = r.state === 'paused';
    $('#mb-open').disabled = !paused;
    $('#surf-go').disabled = !r.has_network;
    const recorded = r.total_steps > 0 && r.state !== 'loading';
    $('#rp-step').disabled = !recorded;
    if (recorded) $('#rp-step').max = String(r.step);
    if (paused && (!shown.batch || shown.batch.step !== r.step)) { openBatch(); showGradient(); }
  }

  function init() {
    $('#mb-open').addEventListener('click', () => { openBatch(); showGradient(); });
    for (const id of ['#mb-layer', '#mb-kind', '#mb-row', '#mb-col']) {
      $(id).addEventListener('change', () => { if (run && run.state === 'paused') openBatch(); });
    }
    $('#surf-go').addEventListener('click', showSurface);
    $('#rp-step').addEventListener('input', () => { clearTimeout(replayTimer); replayTimer = setTimeout(showReplay, 60); });
    $('#rp-save').addEventListener('click', () => recording('save'));
    $('#rp-load').addEventListener('click', () => recording('load'));
    document.addEventListener('digitnet:train', (e) => onTrain(e.detail));
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init); else init();
})();
