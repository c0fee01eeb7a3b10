// digitnet.preprocess.to_mnist, ported line by line, for a grey grid of ink levels 0-255
// (the drawing pad's alpha, as the served page sends it): MNIST's recipe.
//   1. grey levels / 255; the background is the median of the outer frame; ink is what differs;
//   2. the ink stretched so its strongest pixel is 1 (a blank grid gives 784 zeros);
//   3. crop to the pixels above INK_THRESHOLD, resize so the larger side is 20 (Pillow's Lanczos);
//   4. paste into 28x28, shifted by whole pixels so the centre of mass rounds to (14, 14).
// Float32Array mirrors NumPy's float32 where preprocess.py works in float32.
'use strict';

const Preprocess = (() => {
  const SIDE = 28;
  const BOX = 20;
  const CENTRE = 14.0;
  const BLANK_CONTRAST = 0.1;
  const INK_THRESHOLD = 0.1;
  const LANCZOS_SUPPORT = 3.0;

  function median(values) {
    const s = Float64Array.from(values).sort();
    const mid = s.length >> 1;
    return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  }

  function frame(a, h, w) {
    const out = [];
    for (let c = 0; c < w; c++) out.push(a[c]);
    for (let c = 0; c < w; c++) out.push(a[(h - 1) * w + c]);
    for (let r = 1; r < h - 1; r++) out.push(a[r * w]);
    for (let r = 1; r < h - 1; r++) out.push(a[r * w + w - 1]);
    return out;
  }

  // Grey levels 0-255 -> ink in [0, 1], strongest stroke 1; null if blank (preprocess._ink).
  function ink(levels, h, w) {
    const scale = Math.fround(1 / 255);
    const grey = Float32Array.from(levels, (v) => v * scale);
    const background = Math.fround(median(frame(grey, h, w)));
    const out = new Float32Array(h * w);
    let contrast = 0;
    for (let i = 0; i < h * w; i++) {
      const v = background > 0.5 ? background - grey[i] : grey[i] - background;
      out[i] = v > 0 ? v : 0;
      contrast = Math.max(contrast, out[i]);
    }
    if (contrast < BLANK_CONTRAST) return null;
    const stretch = Math.fround(1 / contrast);
    for (let i = 0; i < h * w; i++) out[i] = out[i] * stretch;
    return out;
  }

  // The bounding box of the pixels above INK_THRESHOLD (preprocess._crop).
  function crop(a, h, w) {
    let top = h; let bottom = -1; let left = w; let right = -1;
    for (let r = 0; r < h; r++) {
      for (let c = 0; c < w; c++) {
        if (a[r * w + c] > INK_THRESHOLD) {
          top = Math.min(top, r); bottom = Math.max(bottom, r);
          left = Math.min(left, c); right = Math.max(right, c);
        }
      }
    }
    const ch = bottom - top + 1; const cw = right - left + 1;
    const out = new Float32Array(ch * cw);
    for (let r = 0; r < ch; r++) for (let c = 0; c < cw; c++) out[r * cw + c] = a[(top + r) * w + left + c];
    return { a: out, h: ch, w: cw };
  }

  function sinc(x) {
    if (x === 0) return 1;
    const px = x * Math.PI;
    return Math.sin(px) / px;
  }
  const lanczos = (x) => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0);

  // Pillow's precompute_coeffs (Resample.c): for each output pixel its first input pixel and weights.
  function coefficients(inSize, outSize) {
    const scale = inSize / outSize;
    const filterscale = Math.max(scale, 1);
    const support = LANCZOS_SUPPORT * filterscale;
    const taps = [];
    for (let xx = 0; xx < outSize; xx++) {
      const centre = (xx + 0.5) * scale;
      const xmin = Math.max(0, Math.trunc(centre - support + 0.5));
      const xmax = Math.min(inSize, Math.trunc(centre + support + 0.5)) - xmin;
      const k = [];
      let sum = 0;
      for (let x = 0; x < xmax; x++) {
        const v = lanczos((x + xmin - centre + 0.5) / filterscale);
        k.push(v);
        sum += v;
      }
      taps.push({ xmin, k: sum !== 0 ? k.map((v) => v / sum) : k });
    }
    return taps;
  }

  // One pass of Pillow's resampling of a float32 image along rows (horizontal) or columns.
  function resamplePass(a, h, w, outSize, horizontal) {
    const taps = coefficients(horizontal ? w : h, outSize);
    const oh = horizontal ? h : outSize; const ow = horizontal ? outSize : w;
    const out = new Float32Array(oh * ow);
    for (let r = 0; r < oh; r++) {
      for (let c = 0; c < ow; c++) {
        const { xmin, k } = taps[horizontal ? c : r];
        let s = 0;
        for (let x = 0; x < k.length; x++) s += (horizontal ? a[r * w + xmin + x] : a[(xmin + x) * w + c]) * k[x];
        out[r * ow + c] = s;
      }
    }
    return out;
  }

  // Resize so the larger side is BOX, aspect kept, strongest stroke back at 1 (preprocess._fit_box).
  function fitBox({ a, h, w }) {
    const scale = BOX / Math.max(h, w);
    const nh = Math.max(1, Math.trunc(h * scale + 0.5)); const nw = Math.max(1, Math.trunc(w * scale + 0.5));
    if (nh === h && nw === w) return { a, h, w };
    let small = a;
    if (nw !== w) small = resamplePass(small, h, w, nw, true); // Pillow: horizontal first
    if (nh !== h) small = resamplePass(small, h, nw, nh, false);
    let top = 0;
    for (let i = 0; i < small.length; i++) { small[i] = Math.min(1, Math.max(0, small[i])); top = Math.max(top, small[i]); }
    if (top > 0) for (let i = 0; i < small.length; i++) small[i] = small[i] / top;
    return { a: small, h: nh, w: nw };
  }

  // Paste into SIDE x SIDE so the centre of mass rounds to CENTRE (preprocess._centre_by_mass).
  function centreByMass({ a, h, w }) {
    let mass = 0; let my = 0; let mx = 0;
    for (let r = 0; r < h; r++) {
      for (let c = 0; c < w; c++) { const v = a[r * w + c]; mass += v; my += v * r; mx += v * c; }
    }
    const clip = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
    const top = clip(Math.floor(CENTRE - my / mass + 0.5), 0, SIDE - h);
    const left = clip(Math.floor(CENTRE - mx / mass + 0.5), 0, SIDE - w);
    const out = new Float32Array(SIDE * SIDE);
    for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) out[(top + r) * SIDE + left + c] = a[r * w + c];
    return out;
  }

  // A grey grid (h * w levels 0-255, row by row) -> the 784 inputs, ink = 1; zeros if blank.
  function toMnist(levels, h, w) {
    const a = ink(levels, h, w);
    if (a === null) return new Float32Array(SIDE * SIDE);
    return centreByMass(fitBox(crop(a, h, w)));
  }

  return { toMnist, SIDE };
})();
