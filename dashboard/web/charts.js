// Canvas charts: the depth chart of the book and the price chart of recent
// trades. Coordinates are floats; every number written on a chart is a server
// string (a level's or a trade's price), padded to the increment.

import { pad } from "./decimal.js";

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

// drawDepth draws cumulative size against price: bids stepping down to the
// left of the best bid, asks to the right of the best ask. The range is
// symmetric around the mid price and as wide as the nearer side's deepest level.
export function drawDepth(ctx, w, h, book, priceDp, c) {
  const { bids, asks } = book ? book.all() : { bids: [], asks: [] };
  ctx.font = c.font;
  if (bids.length === 0 || asks.length === 0) {
    label(ctx, c.text, "no book yet", w / 2, h / 2, "center", "middle");
    return;
  }
  const mid = (bids[0].value + asks[0].value) / 2;
  const half = Math.max(Math.min(mid - bids[bids.length - 1].value, asks[asks.length - 1].value - mid), 1e-12);
  const lo = mid - half, hi = mid + half;
  const cumBids = cumulative(bids, (l) => l.value >= lo);
  const cumAsks = cumulative(asks, (l) => l.value <= hi);
  const maxCum = Math.max(cumBids.max, cumAsks.max) || 1;
  const top = 16, bottom = h - 18;
  const x = (p) => ((p - lo) / (hi - lo)) * w;
  const y = (q) => bottom - (q / maxCum) * (bottom - top);

  grid(ctx, w, top, bottom, c.grid);
  area(ctx, cumBids.points, x, y, bottom, 0, c.bid, c.bidFill);
  area(ctx, cumAsks.points, x, y, bottom, w, c.ask, c.askFill);

  const lastBid = cumBids.points[cumBids.points.length - 1].level;
  const lastAsk = cumAsks.points[cumAsks.points.length - 1].level;
  label(ctx, c.bid, pad(lastBid.price, priceDp), pad0, h - 2, "left", "bottom");
  label(ctx, c.ask, pad(lastAsk.price, priceDp), w - pad0, h - 2, "right", "bottom");
  label(ctx, c.bid, pad(bids[0].price, priceDp), x(mid) - pad0, top - 2, "right", "bottom");
  label(ctx, c.ask, pad(asks[0].price, priceDp), x(mid) + pad0, top - 2, "left", "bottom");
}

function cumulative(levels, inRange) {
  const points = [];
  let sum = 0;
  for (const level of levels) {
    if (!inRange(level) && points.length > 0) break;
    sum += Number.parseFloat(level.size);
    points.push({ level, value: level.value, cum: sum });
  }
  return { points, max: sum };
}

// area draws one side as a step function from the best level outwards to edge.
function area(ctx, points, x, y, bottom, edge, stroke, fill) {
  ctx.beginPath();
  ctx.moveTo(x(points[0].value), bottom);
  let prevY = bottom;
  for (const p of points) {
    const px = x(p.value);
    ctx.lineTo(px, prevY);
    prevY = y(p.cum);
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

// drawPrices draws the recent trades' prices over time, with the highest,
// lowest and last trade prices written as the server sent them.
export function drawPrices(ctx, w, h, trades, priceDp, c) {
  const list = trades ? trades.list : [];
  ctx.font = c.font;
  const timed = list.filter((t) => !Number.isNaN(t.ms));
  if (timed.length < 2) {
    label(ctx, c.text, timed.length ? "waiting for trades…" : "no trades yet", w / 2, h / 2, "center", "middle");
    return;
  }
  let hiT = timed[0], loT = timed[0];
  for (const t of timed) {
    if (t.value > hiT.value) hiT = t;
    if (t.value < loT.value) loT = t;
  }
  const t0 = timed[0].ms, t1 = timed[timed.length - 1].ms;
  const span = hiT.value - loT.value || Math.abs(hiT.value) * 1e-4 || 1;
  const top = 16, bottom = h - 16, right = w - pad0;
  const x = (ms) => (t1 > t0 ? ((ms - t0) / (t1 - t0)) * (right - pad0) + pad0 : right);
  const y = (v) => bottom - ((v - (loT.value - span * 0.05)) / (span * 1.1)) * (bottom - top);

  grid(ctx, w, top, bottom, c.grid);
  ctx.beginPath();
  timed.forEach((t, i) => {
    const px = x(t.ms), py = y(t.value);
    if (i === 0) ctx.moveTo(px, py);
    else ctx.lineTo(px, py);
  });
  ctx.strokeStyle = c.line;
  ctx.lineWidth = 1.5;
  ctx.lineJoin = "round";
  ctx.stroke();

  const last = timed[timed.length - 1];
  ctx.fillStyle = last.takerSide === "buy" ? c.bid : c.ask;
  ctx.beginPath();
  ctx.arc(x(last.ms), y(last.value), 3, 0, 2 * Math.PI);
  ctx.fill();
  label(ctx, c.text, `high ${pad(hiT.price, priceDp)}`, pad0, top - 2, "left", "bottom");
  label(ctx, c.text, `low ${pad(loT.price, priceDp)}`, pad0, h - 2, "left", "bottom");
  label(ctx, c.text, `last ${pad(last.price, priceDp)}`, right, top - 2, "right", "bottom");
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
