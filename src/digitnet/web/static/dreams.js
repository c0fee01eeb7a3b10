// 7. Inside the trained network, part 2: the dreams (gradient ascent on the input, the image each
// output likes most) and the noise test (random noise answered with confidence), from the server's
// digitnet.inspect as `digitnet show dream` and `digitnet show noise`.
import { api, failed } from './api.js';
import { state } from './state.js';
import { $, html, paint } from './view.js';

const { decode } = window.digitnetKit;

$('#dreams-go').addEventListener('click', async () => {
  const button = $('#dreams-go');
  button.disabled = true;
  try {
    const d = await api('/api/pictures/dreams', { steps: 200, start: 'noise' });
    const box = $('#dreams');
    box.textContent = '';
    const names = state.classNames;
    for (const dream of d.dreams) {
      const f = html('figure', { class: 'dream', 'data-digit': dream.digit }, null, box);
      const canvas = html('canvas', { width: 28, height: 28, class: 'tile',
        'aria-label': `the image output ${names[dream.digit]} likes most` }, null, f);
      paint(canvas, decode(dream.image, false), 28, false);
      html('figcaption', {}, `${names[dream.digit]}: a ${dream.start.toFixed(2)} → ${dream.activation.toFixed(2)}`, f);
    }
  } catch (error) { failed(error); } finally { button.disabled = false; }
});

$('#noise-go').addEventListener('click', async () => {
  try { showNoise(await api('/api/pictures/noise', { n: 1000, seed: 0 })); } catch (error) { failed(error); }
});

function histogram(parent, counts, total, kind) {
  const row = html('div', { class: `hist ${kind}` }, null, parent);
  counts.forEach((c) => {
    const bar = html('span', { class: 'hbar', title: `${c} of ${total}` }, null, row);
    bar.style.height = `${(100 * c / Math.max(1, total)).toFixed(1)}%`;
  });
}

function showNoise(r) {
  const box = $('#noise-result');
  box.textContent = '';
  const names = state.classNames;
  const top = r.noise_guesses.indexOf(Math.max(...r.noise_guesses));
  html('p', { class: 'noise-words' }, `On ${r.n.toLocaleString('en')} noise images the largest output is ` +
    `${r.noise_median.toFixed(2)} (median), on the ${r.digits.toLocaleString('en')} test digits ` +
    `${r.digit_median.toFixed(2)}. It calls noise “${names[top]}” ${r.noise_guesses[top]} times out of ${r.n}.`, box);
  const charts = html('div', { class: 'hists' }, null, box);
  const chart = (title, counts, total, kind) => {
    const f = html('figure', {}, null, charts);
    histogram(f, counts, total, kind);
    html('figcaption', {}, title, f);
  };
  chart('noise: how sure (0 → 1)', r.noise_histogram, r.n, 'noise');
  chart('test digits: how sure (0 → 1)', r.digit_histogram, r.digits, 'digits');
  const row = html('div', { class: 'noise-samples' }, null, box);
  r.images.forEach((b64, i) => {
    const f = html('figure', { class: 'dream' }, null, row);
    paint(html('canvas', { width: 28, height: 28, class: 'tile', 'aria-label': 'random noise' }, null, f),
      decode(b64, false), 28, false);
    html('figcaption', {}, `“${names[r.guesses[i]]}” ${r.confidences[i].toFixed(2)}`, f);
  });
}
