// 7. Inside the trained network, part 1: layer 2 seen through layer 1, and the confusion matrix on the
// test set, whose cells open the digits misread there (choose one to draw with it). The maths is the
// server's (digitnet.inspect, as `digitnet show`); this module only draws it.
import { api, failed } from './api.js';
import { loadExample } from './draw.js';
import { state } from './state.js';
import { $, html, paint } from './view.js';

const { decode } = window.digitnetKit;

function tile(parent, values, signed, attrs) {
  const canvas = html('canvas', { width: 28, height: 28, class: 'tile', ...attrs }, null, parent);
  paint(canvas, values, 28, signed);
  return canvas;
}

$('#templates-go').addEventListener('click', async () => {
  try {
    const t = await api('/api/pictures/templates');
    const box = $('#templates');
    box.textContent = '';
    t.images.forEach((b64, i) => tile(box, decode(b64, true), true,
      { 'aria-label': `layer 2 neuron ${i} through layer 1`, title: `layer 2, neuron ${i}` }));
    $('#templates-note').textContent = `${t.images.length} of the ${t.neurons} second-layer neurons, ` +
      'each scaled to its own largest weight.';
  } catch (error) { failed(error); }
});

$('#confusion-go').addEventListener('click', async () => {
  try { showConfusion(await api('/api/pictures/confusion')); } catch (error) { failed(error); }
});

function showConfusion(c) {
  const box = $('#confusion');
  box.textContent = '';
  const names = state.classNames;
  html('span', { class: 'corner', title: 'row: the right digit; column: the guess' }, '', box);
  names.forEach((n) => html('span', { class: 'head' }, n, box));
  c.counts.forEach((row, label) => {
    html('span', { class: 'head' }, names[label], box);
    const total = row.reduce((s, v) => s + v, 0) || 1;
    row.forEach((count, guess) => {
      const cell = html('button', { type: 'button', class: label === guess ? 'cell right' : 'cell',
        'data-label': label, 'data-guess': guess, 'aria-label': `${names[label]} read as ${names[guess]}: ${count}` },
      String(count), box);
      const share = count / total;
      cell.style.setProperty('--share', label === guess ? 0 : Math.min(1, Math.sqrt(share * 4)).toFixed(3));
      cell.disabled = count === 0;
      cell.addEventListener('click', () => openCell(label, guess));
    });
  });
  $('#confusion-note').textContent = `${(100 * c.accuracy).toFixed(1)}% of the ${c.total.toLocaleString('en')} ` +
    'test images on the diagonal (read right); the redder a cell, the more of that row went there.';
  $('#misread-note').textContent = '';
  $('#misread').textContent = '';
}

async function openCell(label, guess) {
  try {
    const m = await api('/api/pictures/misread', { label, guess, limit: 24 });
    const names = state.classNames;
    for (const b of document.querySelectorAll('#confusion .cell')) {
      b.classList.toggle('open', Number(b.dataset.label) === label && Number(b.dataset.guess) === guess);
    }
    $('#misread-note').textContent = `${m.count} test image${m.count === 1 ? '' : 's'} of a ${names[label]} read as ` +
      `${names[guess]}${m.count > m.index.length ? ` (the ${m.index.length} it is surest of)` : ''}. ` +
      'Choose one to draw with it.';
    const box = $('#misread');
    box.textContent = '';
    m.index.forEach((index, i) => {
      const b = html('button', { type: 'button', class: 'digit-button', 'data-index': index,
        'aria-label': `test image ${index}: a ${names[label]} read as ${names[guess]}` }, null, box);
      tile(b, decode(m.images[i], false), false, {});
      html('span', {}, `#${index} ${m.confidence[i].toFixed(2)}`, b);
      b.addEventListener('click', async () => {
        await loadExample(index);
        $('#pad').scrollIntoView({ behavior: 'smooth', block: 'nearest' });
      });
    });
  } catch (error) { failed(error); }
}

// A new network: the pictures were of the old one.
export function clearPictures() {
  for (const id of ['#templates', '#templates-note', '#confusion', '#confusion-note', '#misread', '#misread-note',
    '#dreams', '#noise-result']) $(id).textContent = '';
}
