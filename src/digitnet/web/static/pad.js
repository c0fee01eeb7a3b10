// Drawing on the pad, shared by the served page (draw.js) and the exported page (page.js): a round
// white stroke from one point to the next, a dot where the two are the same. A classic script, so
// the exported page can inline it and the served page load it before its modules.
'use strict';

window.digitnetPad = {
  stroke(ctx, from, to) {
    ctx.strokeStyle = '#fff';
    ctx.fillStyle = '#fff';
    ctx.lineWidth = ctx.canvas.width * 0.075;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    if (from.x === to.x && from.y === to.y) {
      ctx.arc(to.x, to.y, ctx.lineWidth / 2, 0, 2 * Math.PI);
      ctx.fill();
    } else {
      ctx.moveTo(from.x, from.y);
      ctx.lineTo(to.x, to.y);
      ctx.stroke();
    }
  },
};
