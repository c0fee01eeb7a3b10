// digitnet's page: draw a digit, watch the network think (lesson 1), learn (lessons 2 and 3).
// Plain JavaScript modules, no libraries, no build step. All the numbers come from the server:
// the drawing is sent as a grey grid, brought to MNIST's form there (the same code as
// `digitnet predict`), and every layer's activations come back. One module per panel (draw,
// diagram, inspect, backprop, train), status.js for the served network, state.js what they share.
import { buildLabels } from './backprop.js';
import { buildDiagram, diagram, net } from './diagram.js';
import { refreshStatus } from './status.js';
import { drawCurves, follow } from './train.js';

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
