// The network, run in the browser: each layer a' = sigma(W a + b), as digitnet's Network.forward.
// W[l] is (k, n) row by row (k neurons, each fed by the n activations of the layer before),
// b[l] is (k,); both come from the exported model as base64 float32.
'use strict';

const DigitNet = (() => {
  // sigma by digitnet's name; each maps a layer's z (an array) to its a.
  const ACTIVATIONS = {
    sigmoid: (z) => z.map((v) => 1 / (1 + Math.exp(-v))),
    relu: (z) => z.map((v) => (v > 0 ? v : 0)),
    softmax: (z) => {
      const top = Math.max(...z);
      const e = z.map((v) => Math.exp(v - top));
      const sum = e.reduce((s, v) => s + v, 0);
      return e.map((v) => v / sum);
    },
  };

  function floats(b64) {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    return new Float32Array(bytes.buffer);
  }

  function load(model) {
    const sigma = ACTIVATIONS[model.activation];
    const output = ACTIVATIONS[model.output];
    if (!sigma || !output) throw new Error(`unknown activation ${model.activation} or ${model.output}`);
    return {
      sizes: model.sizes,
      activation: model.activation,
      output: model.output,
      cost: model.cost,
      W: model.W.map(floats),
      b: model.b.map(floats),
      sigmas: model.sizes.slice(1).map((_, l) => (l === model.sizes.length - 2 ? output : sigma)),
    };
  }

  // z = W a + b for one layer, with a the activations feeding it (length n).
  function weightedSum(W, b, a) {
    const k = b.length;
    const n = a.length;
    const z = new Array(k);
    for (let j = 0; j < k; j++) {
      let s = b[j];
      const row = j * n;
      for (let i = 0; i < n; i++) s += W[row + i] * a[i];
      z[j] = s;
    }
    return z;
  }

  // Every layer's z and a for one input x (784 brightnesses); a[0] is x itself.
  function forward(net, x) {
    const a = [Array.from(x)];
    const z = [];
    for (let l = 0; l < net.W.length; l++) {
      z.push(weightedSum(net.W[l], net.b[l], a[l]));
      a.push(net.sigmas[l](z[l]));
    }
    return { z, a };
  }

  // The output layer for many inputs at once: X is m * 784 numbers, row by row.
  function predictProba(net, X, m) {
    const n = net.sizes[0];
    const out = [];
    for (let r = 0; r < m; r++) {
      const { a } = forward(net, X.slice(r * n, (r + 1) * n));
      out.push(a[a.length - 1]);
    }
    return out;
  }

  const argmax = (v) => v.reduce((best, x, i) => (x > v[best] ? i : best), 0);

  return { load, forward, predictProba, argmax, floats };
})();
