// digitnet's page: draw a digit, watch the network think (lesson 1), learn (lessons 2 and 3).
// Plain JavaScript modules, no libraries, no build step. All the numbers come from the server:
// the drawing is sent as a grey grid, brought to MNIST's form there (the same code as
// `digitnet predict`), and every layer's activations come back. One module per panel (draw,
// diagram, inspect, backprop, train; pick: a weight or bias picked in the diagram), status.js for
// the served network, state.js what they share.
import { buildLabels } from './backprop.js';
import { buildDiagram, net, updateDiagram } from './diagram.js';
import './dreams.js';
import './pick.js';
import './pictures.js';
import { state } from './state.js';
import { refreshStatus } from './status.js';
import { drawCurves, follow } from './train.js';

let resizeTimer = null;
let lastWidth = net.parentElement.clientWidth;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    // The diagram's orientation, and on touch screens its lines of neurons, follow its width (not
    // the height, which a phone's address bar changes while scrolling).
    const width = net.parentElement.clientWidth;
    if (width !== lastWidth) { lastWidth = width; buildDiagram(); }
    drawCurves();
  }, 150);
});

// Replay (lessons.js) asks the diagram to show a recorded step's network thinking about the drawing;
// it can when that network has the served one's layers (detail.shown says whether it did).
document.addEventListener('digitnet:replay-forward', (event) => {
  const result = event.detail.result;
  const sizes = state.info ? state.info.model.sizes : [];
  event.detail.shown = result.layers.length === sizes.length - 1 && result.layers.every((l, i) => l.a.length === sizes[i + 1]);
  if (event.detail.shown) updateDiagram(result);
});

buildLabels();
drawCurves();
refreshStatus();
follow();
