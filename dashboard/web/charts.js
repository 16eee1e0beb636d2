// Canvas charts: the depth chart of the book and the price chart of recent
// trades, drawn from the worker's views (view.js). Coordinates are floats;
// every number written on a chart is a server string (a level's or a
// trade's price), padded to the increment.

// Chart is a canvas that follows its element's size and the device pixel
// ratio; draw(fn) calls fn(ctx, width, height) in CSS pixels.
export class Chart {
  constructor(canvas, onResize) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.width = 0;
    this.height = 0;
    new ResizeObserver(() => {
      this.#fit();
      onResize();
    }).observe(canvas);
    this.#fit();
  }

  #fit() {
    const r = this.canvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    this.width = Math.max(1, Math.round(r.width));
    this.height = Math.max(1, Math.round(r.height));
    this.canvas.width = Math.round(this.width * dpr);
    this.canvas.height = Math.round(this.height * dpr);
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  }

  draw(fn) {
    this.ctx.clearRect(0, 0, this.width, this.height);
    fn(this.ctx, this.width, this.height);
  }
}

// colors reads the chart colors from the page's CSS custom properties, so the
// charts follow the light or dark theme.
export function colors() {
  const css = getComputedStyle(document.documentElement);
  const v = (name) => css.getPropertyValue(name).trim();
  return {
    bid: v("--bid"),
    ask: v("--ask"),
    bidFill: v("--bid-fill"),
    askFill: v("--ask-fill"),
    text: v("--muted"),
    grid: v("--grid"),
    line: v("--accent"),
    font: `11px ${v("--mono")}`,
  };
}

const pad0 = 4; // px around the plot for labels

// drawDepth draws cumulative size against price (a depth view): bids
// stepping down to the left of the best bid, asks to the right of the best
// ask, over a range symmetric around the mid price.
export function drawDepth(ctx, w, h, d, c) {
  ctx.font = c.font;
  if (!d) {
    label(ctx, c.text, "no book yet", w / 2, h / 2, "center", "middle");
    return;
  }
  const top = 16, bottom = h - 18;
  const x = (p) => ((p - d.lo) / (d.hi - d.lo)) * w;
  const y = (q) => bottom - (q / d.maxCum) * (bottom - top);

  grid(ctx, w, top, bottom, c.grid);
  area(ctx, d.bids, x, y, bottom, 0, c.bid, c.bidFill);
  area(ctx, d.asks, x, y, bottom, w, c.ask, c.askFill);

  label(ctx, c.bid, d.lastBid, pad0, h - 2, "left", "bottom");
  label(ctx, c.ask, d.lastAsk, w - pad0, h - 2, "right", "bottom");
  label(ctx, c.bid, d.bestBid, x(d.mid) - pad0, top - 2, "right", "bottom");
  label(ctx, c.ask, d.bestAsk, x(d.mid) + pad0, top - 2, "left", "bottom");
}

// area draws one side as a step function from the best level outwards to
// edge; points are price, cumulative size, price, ...
function area(ctx, points, x, y, bottom, edge, stroke, fill) {
  ctx.beginPath();
  ctx.moveTo(x(points[0]), bottom);
  let prevY = bottom;
  for (let i = 0; i < points.length; i += 2) {
    const px = x(points[i]);
    ctx.lineTo(px, prevY);
    prevY = y(points[i + 1]);
    ctx.lineTo(px, prevY);
  }
  ctx.lineTo(edge, prevY);
  ctx.lineTo(edge, bottom);
  ctx.closePath();
  ctx.fillStyle = fill;
  ctx.fill();
  ctx.strokeStyle = stroke;
  ctx.lineWidth = 1.5;
  ctx.stroke();
}

// drawPrices draws the recent trades' prices over time (a prices view), with
// the highest, lowest and last trade prices written as the server sent them.
export function drawPrices(ctx, w, h, v, c) {
  ctx.font = c.font;
  if (!v || v.points.length < 4) {
    label(ctx, c.text, v && v.count ? "waiting for trades…" : "no trades yet", w / 2, h / 2, "center", "middle");
    return;
  }
  const pts = v.points, n = pts.length;
  const t0 = pts[0], t1 = pts[n - 2];
  const span = v.hiValue - v.loValue || Math.abs(v.hiValue) * 1e-4 || 1;
  const top = 16, bottom = h - 16, right = w - pad0;
  const x = (ms) => (t1 > t0 ? ((ms - t0) / (t1 - t0)) * (right - pad0) + pad0 : right);
  const y = (val) => bottom - ((val - (v.loValue - span * 0.05)) / (span * 1.1)) * (bottom - top);

  grid(ctx, w, top, bottom, c.grid);
  ctx.beginPath();
  ctx.moveTo(x(pts[0]), y(pts[1]));
  for (let i = 2; i < n; i += 2) ctx.lineTo(x(pts[i]), y(pts[i + 1]));
  ctx.strokeStyle = c.line;
  ctx.lineWidth = 1.5;
  ctx.lineJoin = "round";
  ctx.stroke();

  ctx.fillStyle = v.lastSide === "buy" ? c.bid : c.ask;
  ctx.beginPath();
  ctx.arc(x(pts[n - 2]), y(pts[n - 1]), 3, 0, 2 * Math.PI);
  ctx.fill();
  label(ctx, c.text, `high ${v.high}`, pad0, top - 2, "left", "bottom");
  label(ctx, c.text, `low ${v.low}`, pad0, h - 2, "left", "bottom");
  label(ctx, c.text, `last ${v.last}`, right, top - 2, "right", "bottom");
}

function grid(ctx, w, top, bottom, color) {
  ctx.strokeStyle = color;
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let i = 0; i <= 4; i++) {
    const gy = Math.round(top + ((bottom - top) * i) / 4) + 0.5;
    ctx.moveTo(0, gy);
    ctx.lineTo(w, gy);
  }
  ctx.stroke();
}

function label(ctx, color, text, x, y, align, baseline) {
  ctx.fillStyle = color;
  ctx.textAlign = align;
  ctx.textBaseline = baseline;
  ctx.fillText(text, x, y);
}
