// Views: what the worker hands the page to draw. A view carries meta (a few
// numbers, every time) and only the parts that changed, each ready to draw:
// text already padded to the product's increments (exact strings; sums and
// differences with BigInt), bar widths and chart coordinates as numbers. The
// book goes as its top LADDER_ROWS levels a side and the depth chart's
// points, never whole.

import { Sum, cut, isDecimal, pad, sub, toNumber } from "./decimal.js";
import { LIVE } from "./feed.js";

export const LADDER_ROWS = 12;
const TAPE_ROWS = 40;
const DEPTH_POINTS = 400; // most points a side of the depth chart

// buildView builds the view of the parts named in dirty.
export function buildView(state, dirty, feed, meter) {
  const product = state.byId.get(state.selected) || null;
  const m = state.markets.get(state.selected) || null;
  const dp = product ? product.priceDp : 2;
  const sdp = product ? product.sizeDp : 8;
  const book = m ? m.book : null;
  const parts = {};
  for (const part of dirty) {
    switch (part) {
      case "catalog":
        parts.catalog = state.products.map((p) => ({ id: p.id, display_name: p.display_name }));
        break;
      case "products":
        parts.products = productRows(state);
        break;
      case "head":
        parts.head = head(product, state.tickers.get(state.selected), dp);
        break;
      case "book":
        parts.book = ladder(book, dp, sdp, state.resyncs);
        break;
      case "depth":
        parts.depth = depth(book, dp);
        break;
      case "tape":
        parts.tape = tape(m, dp, sdp);
        parts.prices = prices(m, dp);
        break;
      case "conn":
        parts.conn = conn(feed, state);
        break;
      case "status":
        parts.status = status(state, product);
        break;
      case "meter":
        parts.meter = meterText(meter, product, m, dp);
        break;
      case "subs":
        parts.subs = { list: state.subscriptions, text: subscriptionsText(state.subscriptions) };
        break;
      case "errors":
        parts.errors = state.errors.map((e) => ({ ...e }));
        break;
    }
  }
  return {
    meta: {
      state: feed.state.name,
      transport: feed.state.transport || "",
      connects: feed.connects,
      product: state.selected,
      bookSeq: book ? book.seq : null,
      messages: meter.total,
      resyncs: state.resyncs,
    },
    parts,
  };
}

function productRows(state) {
  const rows = {};
  for (const p of state.products) {
    const t = state.tickers.get(p.id);
    const st = state.statuses.get(p.id) || { status: p.status, message: p.status_message };
    const offline = Boolean(st.status && st.status !== "online");
    const row = { offline, title: offline ? `${p.id}: ${st.status}${st.message ? ` (${st.message})` : ""}` : "" };
    if (t) {
      const ch = change(t.price, t.open_24h, p.priceDp);
      row.last = pad(t.price, p.priceDp);
      row.change = ch.percent;
      row.dir = ch.dir;
      row.volume = `${cut(t.volume_24h, 2)} ${p.base_currency || ""}`.trim();
      row.volumeTitle = `24 h volume ${t.volume_24h} ${p.base_currency || ""}`;
    }
    rows[p.id] = row;
  }
  return rows;
}

function head(p, t, dp) {
  const ch = t ? change(t.price, t.open_24h, dp) : { diff: "", percent: "", dir: "flat" };
  return {
    title: p ? p.display_name || p.id : "—",
    priceHead: p ? `Price (${p.quote_currency})` : "Price",
    sizeHead: p ? `Size (${p.base_currency})` : "Size",
    last: t ? pad(t.price, dp) : "—",
    docTitle: p ? `${t ? `${pad(t.price, dp)} ` : ""}${p.id} · tickerfan` : "tickerfan",
    change: ch.diff ? `${ch.diff} (${ch.percent})` : "",
    dir: ch.dir,
    high: t ? pad(t.high_24h, dp) : "—",
    low: t ? pad(t.low_24h, dp) : "—",
    open: t ? pad(t.open_24h, dp) : "—",
    volume: t && p ? `${pad(t.volume_24h, p.sizeDp)} ${p.base_currency}` : "—",
  };
}

// ladder is the top levels a side with exact cumulative totals, bar widths
// (percent of the largest size shown) and the spread.
function ladder(book, dp, sdp, resyncs) {
  const top = book ? book.top(LADDER_ROWS) : { bids: [], asks: [] };
  let maxSize = 0;
  for (const l of top.bids) maxSize = Math.max(maxSize, toNumber(l.size));
  for (const l of top.asks) maxSize = Math.max(maxSize, toNumber(l.size));
  const rows = (levels) => {
    const total = new Sum();
    return levels.map((l) => ({
      price: pad(l.price, dp),
      size: pad(l.size, sdp),
      total: pad(total.add(l.size), sdp),
      bar: maxSize > 0 ? Math.round((toNumber(l.size) / maxSize) * 1000) / 10 : 0,
    }));
  };
  const ready = Boolean(book && book.ready);
  return {
    product: book ? book.productId : null,
    ready,
    seq: ready ? book.seq : null,
    bids: rows(top.bids),
    asks: rows(top.asks),
    spread: spreadText(top, dp),
    state: !book || book.ready ? "" : book.snapshots ? "(stale: waiting for a snapshot)" : "(waiting for a snapshot)",
    resyncs,
  };
}

function spreadText(top, dp) {
  const bid = top.bids[0], ask = top.asks[0];
  if (!bid || !ask) return "Spread —";
  const spread = sub(ask.price, bid.price);
  const mid = (toNumber(ask.price) + toNumber(bid.price)) / 2;
  const bps = mid > 0 ? (toNumber(spread) / mid) * 1e4 : 0;
  return `Spread ${pad(spread, dp)} (${bps.toFixed(1)} bps)`;
}

// depth is the depth chart: cumulative size against price either side of
// the mid, over a range symmetric around it and as wide as the nearer side's
// deepest level. Points are [price, cumulative size] as floats (coordinates
// only); the labels are the levels' strings.
function depth(book, dp) {
  const { bids, asks } = book ? book.all() : { bids: [], asks: [] };
  if (bids.length === 0 || asks.length === 0) return null;
  const mid = (bids[0].value + asks[0].value) / 2;
  const half = Math.max(Math.min(mid - bids[bids.length - 1].value, asks[asks.length - 1].value - mid), 1e-12);
  const lo = mid - half, hi = mid + half;
  const b = cumulative(bids, (l) => l.value >= lo);
  const a = cumulative(asks, (l) => l.value <= hi);
  return {
    lo, hi, mid,
    maxCum: Math.max(b.max, a.max) || 1,
    bids: b.points, asks: a.points,
    bestBid: pad(bids[0].price, dp), bestAsk: pad(asks[0].price, dp),
    lastBid: pad(b.last.price, dp), lastAsk: pad(a.last.price, dp),
  };
}

function cumulative(levels, inRange) {
  const points = [];
  let sum = 0, last = null;
  for (const level of levels) {
    if ((!inRange(level) && points.length > 0) || points.length >= DEPTH_POINTS * 2) break;
    sum += toNumber(level.size);
    points.push(level.value, sum);
    last = level;
  }
  return { points, max: sum, last };
}

// tape is the newest trades, ready to draw; key changes when the list is a
// new one (another product, a reconnect).
function tape(m, dp, sdp) {
  if (!m) return { key: 0, version: 0, rows: [] };
  return {
    key: marketKey(m),
    version: m.trades.version,
    rows: m.trades.newest(TAPE_ROWS).map((t) => ({
      id: t.id, takerSide: t.takerSide, live: t.live, time: t.time, ms: t.ms,
      price: pad(t.price, dp), size: pad(t.size, sdp),
    })),
  };
}

const keys = new WeakMap();
let nextKey = 1;

function marketKey(m) {
  if (!keys.has(m.trades)) keys.set(m.trades, nextKey++);
  return keys.get(m.trades);
}

// prices is the price chart: [time, price] points of the recent trades and
// the highest, lowest and last prices as the server sent them.
function prices(m, dp) {
  const timed = m ? m.trades.list.filter((t) => !Number.isNaN(t.ms)) : [];
  if (timed.length < 2) return { count: timed.length, points: [] };
  let hiT = timed[0], loT = timed[0];
  const points = [];
  for (const t of timed) {
    if (t.value > hiT.value) hiT = t;
    if (t.value < loT.value) loT = t;
    points.push(t.ms, t.value);
  }
  const last = timed[timed.length - 1];
  return {
    count: timed.length, points, hiValue: hiT.value, loValue: loT.value,
    high: pad(hiT.price, dp), low: pad(loT.price, dp), last: pad(last.price, dp), lastSide: last.takerSide,
  };
}

function conn(feed, state) {
  const s = feed.state;
  return {
    name: s.name, attempt: s.attempt, retryAt: s.retryAt, transport: s.transport || "",
    detail: s.name === LIVE ? "" : s.detail || "",
    offline: s.name !== LIVE && s.unreachable,
    fromCache: state.fromCache,
  };
}

function status(state, p) {
  const all = state.products.map((q) => ({ id: q.id, ...(state.statuses.get(q.id) || {}) }));
  const offline = all.filter((s) => s.status && s.status !== "online");
  let feedState = "unknown", feedText = "upstream —";
  if (all.length > 0 && offline.length === 0) {
    feedState = "online";
    feedText = `upstream online (${all.length}/${all.length})`;
  } else if (all.length > 0) {
    const first = offline[0];
    feedState = "degraded";
    feedText = `upstream: ${offline.length} of ${all.length} offline — ${first.id}: ${first.message || first.status}`;
  }
  const mine = p ? state.statuses.get(p.id) : null;
  const product = !mine || !mine.status || mine.status === "online"
    ? ""
    : `${p.id} is ${mine.status}${mine.message ? `: ${mine.message}` : ""}`;
  return { feedState, feedText, product };
}

// meterText is the rate and latency, and the charts' text alternatives.
function meterText(meter, p, m, dp) {
  const l = meter.latency;
  const out = {
    rate: `${Math.round(meter.rate)} msg/s`,
    latency: l ? `latency ${l.p50.toFixed(1)} ms (max ${l.max.toFixed(1)})` : "latency —",
    depthLabel: "",
    priceLabel: "",
  };
  if (p && m) {
    const { bids, asks } = m.book.top(1);
    out.depthLabel = bids[0] && asks[0]
      ? `Depth chart of ${p.id}: best bid ${pad(bids[0].price, dp)}, best ask ${pad(asks[0].price, dp)}`
      : `Depth chart of ${p.id}: no book yet`;
    const last = m.trades.last();
    out.priceLabel = last
      ? `Price chart of ${p.id}: ${m.trades.list.length} recent trades, last ${pad(last.price, dp)}`
      : `Price chart of ${p.id}: no trades yet`;
  }
  return out;
}

function subscriptionsText(subs) {
  const parts = subs.map((c) => {
    const ids = c.product_ids || [];
    if (ids.length === 0) return c.name;
    return `${c.name} ${ids.length > 3 ? `(${ids.length} products)` : ids.join(", ")}`;
  });
  return parts.length ? parts.join(" · ") : "—";
}

// change is the 24 h change of price against open: the exact difference,
// padded to the price increment, and a percentage (a ratio, so a float is fine).
export function change(price, open, priceDp) {
  if (!isDecimal(price) || !isDecimal(open) || toNumber(open) === 0) {
    return { diff: "", percent: "", dir: "flat" };
  }
  const diff = sub(price, open);
  const pct = (toNumber(diff) / toNumber(open)) * 100;
  const dir = pct > 0 ? "up" : pct < 0 ? "down" : "flat";
  const sign = diff.startsWith("-") ? "" : "+";
  return { diff: sign + pad(diff, priceDp), percent: `${pct > 0 ? "+" : ""}${pct.toFixed(2)}%`, dir };
}
