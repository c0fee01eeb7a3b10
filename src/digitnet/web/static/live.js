// Training you can watch (lessons 2 and 3): the curves follow the numbers (and a log scale), the
// speed goes from the engine's full speed down to slow motion, and a button takes one mini-batch
// step. app.js follows the run's events and calls drawCurves; this module draws and steers.
'use strict';

window.digitnetLive = (() => {
  const { $, api, html, surface, toast, fmt } = window.digitnetKit;
  const seen = { steps: [] }; // read by the browser tests: the single steps shown, in order

  // "Nice" tick values covering [lo, hi]: 1, 2 or 5 times a power of ten apart.
  function ticks(lo, hi, count) {
    const raw = (hi - lo) / Math.max(1, count);
    const p = 10 ** Math.floor(Math.log10(raw || 1));
    const step = [1, 2, 5, 10].map((f) => f * p).find((s) => s >= raw) || raw;
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-12; v += step) out.push(Number(v.toPrecision(12)));
    return out;
  }

  // The y range that follows the numbers: the whole run's lowest value up to the highest of its
  // later part (the starting cost would otherwise flatten everything after the first epoch).
  function range(series, position, log) {
    const all = series.flat().filter((p) => Number.isFinite(p.v) && (!log || p.v > 0));
    if (!all.length) return log ? [0.01, 1] : [0, 1];
    const recent = all.filter((p) => p.x >= 0.25 * position);
    let lo = Math.min(...all.map((p) => p.v));
    let hi = Math.max(...(recent.length ? recent : all).map((p) => p.v));
    if (log) return [lo / 1.15, hi * 1.15];
    const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.05 || 0.05;
    return [lo - pad, hi + pad];
  }

  // A long run's line, thinned to what a pixel column shows: in each column its first, lowest,
  // highest and last points (the line looks the same, and drawing it costs the same however long
  // the run), the points in order.
  function thin(pts, X) {
    if (pts.length < 2000) return pts;
    const out = [];
    let column = [];
    const flush = () => {
      if (!column.length) return;
      const lo = column.reduce((a, p) => (p.v < a.v ? p : a));
      const hi = column.reduce((a, p) => (p.v > a.v ? p : a));
      const keep = new Set([column[0], lo, hi, column[column.length - 1]]);
      out.push(...column.filter((p) => keep.has(p)));
      column = [];
    };
    let at = null;
    for (const p of pts) {
      const c = Math.round(X(p.x));
      if (c !== at) { flush(); at = c; }
      column.push(p);
    }
    flush();
    return out;
  }

  // A line chart of several series {points: [{x, v}], colour, width, dots} against epochs.
  function chart(canvas, series, position, log, label) {
    const [ctx, cw, ch] = surface(canvas);
    const m = { l: 50, r: 12, t: 10, b: 32 };
    const w = cw - m.l - m.r; const h = ch - m.t - m.b;
    const xMax = Math.max(1, Math.ceil(position - 1e-9));
    let [lo, hi] = range(series.map((s) => s.points), position, log);
    const f = log ? Math.log10 : (v) => v;
    [lo, hi] = [f(lo), f(hi)];
    const X = (x) => m.l + (w * x) / xMax;
    const Y = (v) => m.t + h * (1 - Math.max(0, Math.min(1, (f(v) - lo) / (hi - lo || 1))));
    ctx.strokeStyle = '#39414f'; ctx.fillStyle = '#9aa3b2'; ctx.lineWidth = 1; ctx.font = '11px system-ui, sans-serif';
    ctx.beginPath(); ctx.moveTo(m.l, m.t); ctx.lineTo(m.l, m.t + h); ctx.lineTo(m.l + w, m.t + h); ctx.stroke();
    ctx.textAlign = 'right'; ctx.textBaseline = 'middle';
    const yTicks = log ? ticks(lo, hi, 4).map((t) => 10 ** t) : ticks(lo, hi, 4);
    for (const t of yTicks) ctx.fillText(label(t), m.l - 5, Y(t));
    ctx.textAlign = 'center'; ctx.textBaseline = 'top';
    for (const t of ticks(0, xMax, 6)) ctx.fillText(String(t), X(t), m.t + h + 5);
    ctx.fillText('epoch', m.l + w / 2, m.t + h + 18);
    for (const s of series) {
      const pts = s.points.filter((p) => Number.isFinite(p.v) && (!log || p.v > 0));
      ctx.strokeStyle = s.colour; ctx.fillStyle = s.colour; ctx.lineWidth = s.width || 2;
      if (s.dots) {
        for (const p of pts) { ctx.beginPath(); ctx.arc(X(p.x), Y(p.v), 3.5, 0, 2 * Math.PI); ctx.fill(); }
        continue;
      }
      ctx.beginPath();
      thin(pts, X).forEach((p, i) => { if (i) ctx.lineTo(X(p.x), Y(p.v)); else ctx.moveTo(X(p.x), Y(p.v)); });
      ctx.stroke();
    }
    canvas.dataset.yMin = String(log ? 10 ** lo : lo);
    canvas.dataset.yMax = String(log ? 10 ** hi : hi);
  }

  function drawCurves(state) {
    const batches = state.batches || [];
    const position = Math.max(0, ...state.points.map((p) => p.epoch), ...batches.map((b) => b.epoch));
    const log = $('#t-log') && $('#t-log').checked;
    const xy = (rows, key) => rows.filter((r) => r[key] !== null && r[key] !== undefined)
      .map((r) => ({ x: r.epoch, v: r[key] }));
    chart($('#cost-curve'), [
      { points: xy(batches, 'cost'), colour: '#8c7a45', width: 1 },
      { points: xy(state.points, 'cost'), colour: '#ffd166' },
      { points: xy(state.history, 'test_cost'), colour: '#4ea1ff', dots: true },
    ], position, log, (v) => (v >= 0.1 ? v.toFixed(2) : v.toPrecision(2)));
    chart($('#acc-curve'), [
      { points: xy(state.points, 'accuracy'), colour: '#ffd166' },
      { points: xy(state.history, 'test_accuracy'), colour: '#4ea1ff', dots: true },
    ], position, false, (v) => `${Math.round(100 * v)}%`);
    $('#cost-curve').dataset.points = String(batches.length + state.points.length);
  }

  // -- speed and single steps ----------------------------------------------------------------

  const speed = () => { const v = $('#t-speed').value; return v === 'full' ? null : Number(v); };

  function showStep(report) {
    seen.steps.push(report.step);
    const box = $('#t-step-report');
    box.dataset.step = String(report.step);
    box.textContent = `Step ${report.step.toLocaleString('en')}: the mini-batch of ${report.indices.length} images ` +
      `(#${report.indices.slice(0, 4).join(', #')}${report.indices.length > 4 ? ', …' : ''}) cost ` +
      `${fmt(report.batch_cost_before)} before its step, ${fmt(report.batch_cost_after)} after; ` +
      `1,000 fixed test images: ${fmt(report.sample_cost_before)} → ${fmt(report.sample_cost_after)}.`;
  }

  function onState(run) {
    const paused = run && run.state === 'paused';
    $('#t-step').disabled = !paused;
    const active = run && ['loading', 'running', 'paused'].includes(run.state);
    $('#t-speed').disabled = false;
    $('#t-speed').dataset.active = String(Boolean(active));
    const where = $('#t-steps');
    where.textContent = run && run.total_steps ? `step ${run.step.toLocaleString('en')} of ${run.total_steps.toLocaleString('en')}` : '';
  }

  function init() {
    $('#t-speed').addEventListener('change', async () => {
      if ($('#t-speed').dataset.active !== 'true') return; // used when the next run starts
      try { await api('/api/train/speed', { seconds_per_batch: speed() }); } catch (e) { toast(e.message); }
    });
    $('#t-step').addEventListener('click', async () => {
      $('#t-step').disabled = true;
      try { showStep(await api('/api/train/step', undefined, 'POST')); } catch (e) { toast(e.message); }
      $('#t-step').disabled = false;
    });
    $('#t-log').addEventListener('change', () => document.dispatchEvent(new CustomEvent('digitnet:redraw')));
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init); else init();
  return { drawCurves, speed, showStep, onState, seen, html, thin };
})();
