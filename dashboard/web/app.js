// The tickerfan dashboard: an ordinary client of the feed. It loads the
// catalog from GET /products, subscribes to ticker (every product) and status
// on one WebSocket, and to level2, matches and heartbeat of the chosen
// product. Messages only change state; drawing happens at most once per
// animation frame, whatever the message rate.

import { Book } from "./book.js";
import { Chart, colors, drawDepth, drawPrices } from "./charts.js";
import { pad, places } from "./decimal.js";
import { h, setText } from "./dom.js";
import { CONNECTING, Feed, LIVE, RECONNECTING } from "./feed.js";
import { Ladder } from "./ladder.js";
import { Meter } from "./meter.js";
import { ProductList, change } from "./products.js";
import { Tape } from "./tape.js";
import { Trades } from "./trades.js";

const PRODUCT_CHANNELS = ["level2", "matches", "heartbeat"];
// LIVE_TYPES are the messages whose time is when they were sent, so they
// measure latency; a subscription's first ticker and last_match are older.
const LIVE_TYPES = new Set(["l2update", "match", "heartbeat"]);
const LADDER_ROWS = 12;
const TAPE_ROWS = 40;
const SWITCH_DELAY = 120; // ms: holding an arrow key sends one switch, not dozens
const MAX_ERRORS = 5;
const FETCH_TIMEOUT = 5000;

const ref = (name) => document.querySelector(`[data-ref="${name}"]`);

const state = {
  products: [], // GET /products entries, with priceDp and sizeDp
  byId: new Map(),
  tickers: new Map(), // product id -> latest ticker message
  statuses: new Map(), // product id -> {status, message}
  selected: null, // the product on screen
  subscribed: null, // the product whose channels were requested on this socket
  markets: new Map(), // product id -> {book, trades}, for the selected and subscribed products
  subscriptions: [], // the server's last `subscriptions` reply
  errors: [], // the server's `error` messages, newest first
  resyncs: 0,
  rendered: { product: null, seq: null, ready: false },
  frames: 0,
};

const meter = new Meter();
const productList = new ProductList(ref("products"), select);
const ladder = new Ladder(ref("ladder"), LADDER_ROWS);
const tape = new Tape(ref("tape"), TAPE_ROWS);
let palette = colors();
const priceChart = new Chart(ref("price-chart"), () => mark("charts"));
const depthChart = new Chart(ref("depth-chart"), () => mark("charts"));

const feed = new Feed({
  url: `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/ws`,
  prepare: loadProducts,
  onOpen: subscribeAll,
  onMessage: handle,
  onState: () => mark("conn"),
});

// --- rendering, at most once per animation frame ---

const dirty = new Set();
let frame = 0;

function mark(...parts) {
  for (const p of parts) dirty.add(p);
  if (!frame) frame = requestAnimationFrame(render);
}

function render() {
  frame = 0;
  state.frames++;
  const product = state.byId.get(state.selected);
  const m = state.markets.get(state.selected);
  const dp = product ? product.priceDp : 2;
  const sdp = product ? product.sizeDp : 8;
  if (dirty.has("products")) productList.render(state.products, state.tickers, state.statuses);
  if (dirty.has("head")) renderHead(product, dp);
  if (dirty.has("book")) renderBook(m, dp, sdp);
  if (dirty.has("tape") && m) tape.render(m.trades, dp, sdp);
  if (dirty.has("book") || dirty.has("charts")) {
    depthChart.draw((ctx, w, hgt) => drawDepth(ctx, w, hgt, m && m.book, dp, palette));
  }
  if (dirty.has("tape") || dirty.has("charts")) {
    priceChart.draw((ctx, w, hgt) => drawPrices(ctx, w, hgt, m && m.trades, dp, palette));
  }
  if (dirty.has("conn")) renderConn();
  if (dirty.has("status")) renderStatus(product);
  if (dirty.has("meter")) {
    renderMeter();
    describeCharts(product, m, dp);
  }
  if (dirty.has("subs")) renderSubscriptions();
  if (dirty.has("errors")) renderErrors();
  dirty.clear();
}

function renderBook(m, dp, sdp) {
  const book = m ? m.book : null;
  ladder.render(book, dp, sdp);
  state.rendered = { product: book ? book.productId : null, seq: book && book.ready ? book.seq : null, ready: Boolean(book && book.ready) };
  setText(ref("seq"), book && book.ready && book.seq !== null ? String(book.seq) : "—");
  setText(ref("resyncs"), String(state.resyncs));
  setText(ref("book-state"), !book || book.ready ? "" : book.snapshots ? "(stale: waiting for a snapshot)" : "(waiting for a snapshot)");
}

function renderHead(p, dp) {
  const t = p ? state.tickers.get(p.id) : null;
  setText(ref("title"), p ? p.display_name || p.id : "—");
  setText(ref("price-head"), p ? `Price (${p.quote_currency})` : "Price");
  setText(ref("size-head"), p ? `Size (${p.base_currency})` : "Size");
  setText(ref("last"), t ? pad(t.price, dp) : "—");
  document.title = p ? `${t ? `${pad(t.price, dp)} ` : ""}${p.id} · tickerfan` : "tickerfan";
  const ch = t ? change(t.price, t.open_24h, dp) : { diff: "", percent: "", dir: "flat" };
  setText(ref("change"), ch.diff ? `${ch.diff} (${ch.percent})` : "");
  ref("change").dataset.dir = ch.dir;
  setText(ref("high"), t ? pad(t.high_24h, dp) : "—");
  setText(ref("low"), t ? pad(t.low_24h, dp) : "—");
  setText(ref("open"), t ? pad(t.open_24h, dp) : "—");
  setText(ref("volume"), t && p ? `${pad(t.volume_24h, p.sizeDp)} ${p.base_currency}` : "—");
}

function renderConn() {
  const s = feed.state;
  ref("conn").dataset.state = s.name;
  // The state word is in a live region; the countdown, which changes every
  // second, is hidden from screen readers.
  setText(ref("conn-text"), s.name);
  let retry = s.name === CONNECTING ? "…" : "";
  if (s.name === RECONNECTING) {
    const secs = Math.ceil((s.retryAt - Date.now()) / 1000);
    retry = s.retryAt && secs > 0 ? ` in ${secs} s (attempt ${s.attempt})` : `… (attempt ${s.attempt})`;
  }
  setText(ref("conn-retry"), retry);
  setText(ref("conn-detail"), s.name === LIVE ? "" : s.detail || "");
}

function renderStatus(p) {
  const all = state.products.map((q) => ({ id: q.id, ...(state.statuses.get(q.id) || {}) }));
  const offline = all.filter((s) => s.status && s.status !== "online");
  const el = ref("feed");
  if (all.length === 0) {
    el.dataset.state = "unknown";
    setText(el, "upstream —");
  } else if (offline.length === 0) {
    el.dataset.state = "online";
    setText(el, `upstream online (${all.length}/${all.length})`);
  } else {
    el.dataset.state = "degraded";
    const first = offline[0];
    setText(el, `upstream: ${offline.length} of ${all.length} offline — ${first.id}: ${first.message || first.status}`);
  }
  const mine = p ? state.statuses.get(p.id) : null;
  const ps = ref("product-status");
  ps.hidden = !mine || !mine.status || mine.status === "online";
  if (!ps.hidden) setText(ps, `${p.id} is ${mine.status}${mine.message ? `: ${mine.message}` : ""}`);
}

function renderMeter() {
  setText(ref("rate"), `${Math.round(meter.rate)} msg/s`);
  const l = meter.latency;
  setText(ref("latency"), l ? `latency ${l.p50.toFixed(1)} ms (max ${l.max.toFixed(1)})` : "latency —");
}

// describeCharts gives the canvases a text alternative, once a second.
function describeCharts(p, m, dp) {
  if (!p || !m) return;
  const { bids, asks } = m.book.top(1);
  const depth = bids[0] && asks[0]
    ? `Depth chart of ${p.id}: best bid ${pad(bids[0].price, dp)}, best ask ${pad(asks[0].price, dp)}`
    : `Depth chart of ${p.id}: no book yet`;
  const last = m.trades.last();
  const price = last
    ? `Price chart of ${p.id}: ${m.trades.list.length} recent trades, last ${pad(last.price, dp)}`
    : `Price chart of ${p.id}: no trades yet`;
  ref("depth-chart").setAttribute("aria-label", depth);
  ref("price-chart").setAttribute("aria-label", price);
}

function renderSubscriptions() {
  const parts = state.subscriptions.map((c) => {
    const ids = c.product_ids || [];
    if (ids.length === 0) return c.name;
    return `${c.name} ${ids.length > 3 ? `(${ids.length} products)` : ids.join(", ")}`;
  });
  setText(ref("subs"), parts.length ? parts.join(" · ") : "—");
}

function renderErrors() {
  const box = ref("errors");
  box.replaceChildren(
    ...state.errors.map((e, i) => {
      const item = h("div", "error");
      item.dataset.testid = "server-error";
      const time = h("time", "", e.at.toLocaleTimeString());
      const text = h("span", "", e.reason ? `${e.message}: ${e.reason}` : e.message);
      const close = h("button", "dismiss", "Dismiss");
      close.type = "button";
      close.addEventListener("click", () => {
        state.errors.splice(i, 1);
        mark("errors");
      });
      item.append(time, text, close);
      return item;
    }),
  );
}

// --- state changes ---

async function loadProducts() {
  const res = await fetch("/products", { cache: "no-store", signal: AbortSignal.timeout(FETCH_TIMEOUT) });
  if (!res.ok) throw new Error(`GET /products answered ${res.status}`);
  const list = await res.json();
  if (!Array.isArray(list) || list.length === 0) throw new Error("GET /products returned no products");
  state.products = list
    .filter((p) => p && typeof p.id === "string")
    .map((p) => ({ ...p, priceDp: places(p.quote_increment), sizeDp: places(p.base_increment) }));
  state.byId = new Map(state.products.map((p) => [p.id, p]));
  for (const p of state.products) state.statuses.set(p.id, { status: p.status, message: p.status_message });
  productList.setProducts(state.products);
  const wanted = decodeURIComponent(location.hash.slice(1));
  select(state.byId.has(wanted) ? wanted : state.byId.has(state.selected) ? state.selected : state.products[0].id);
  mark("products", "head", "status");
}

function newMarket(id) {
  const m = { book: new Book(id), trades: new Trades() };
  prefillTrades(id, m);
  return m;
}

// prefillTrades loads recent trades over REST so the tape and the price chart
// do not start empty; matches then arrive over the socket.
async function prefillTrades(id, m) {
  try {
    const url = `/products/${encodeURIComponent(id)}/trades?limit=100`;
    const res = await fetch(url, { cache: "no-store", signal: AbortSignal.timeout(FETCH_TIMEOUT) });
    if (!res.ok) return;
    const list = await res.json();
    if (!Array.isArray(list) || state.markets.get(id) !== m) return;
    for (const t of list) m.trades.addRest(t);
    mark("tape");
  } catch {
    // The history is a nicety; live matches fill the tape anyway.
  }
}

// select shows product id and, shortly after, moves the subscriptions to it.
function select(id) {
  if (!state.byId.has(id)) return;
  if (id !== state.selected) {
    state.selected = id;
    if (!state.markets.has(id)) state.markets.set(id, newMarket(id));
    if (decodeURIComponent(location.hash.slice(1)) !== id) history.replaceState(null, "", `#${encodeURIComponent(id)}`);
    productList.setSelected(id);
    mark("head", "book", "tape", "charts", "status");
  }
  clearTimeout(switchTimer);
  switchTimer = setTimeout(applySwitch, SWITCH_DELAY);
}

let switchTimer = 0;

// applySwitch unsubscribes the previous product's channels and subscribes the
// selected one's. When the socket is down, subscribeAll does it on open.
function applySwitch() {
  switchTimer = 0;
  const next = state.selected, prev = state.subscribed;
  for (const id of [...state.markets.keys()]) if (id !== next && id !== prev) state.markets.delete(id);
  if (!feed.isOpen() || next === prev) return;
  if (prev) feed.send({ type: "unsubscribe", product_ids: [prev], channels: PRODUCT_CHANNELS });
  feed.send({ type: "subscribe", product_ids: [next], channels: PRODUCT_CHANNELS });
  state.subscribed = next;
  if (prev) state.markets.delete(prev);
}

// subscribeAll runs on every (re)connect: the server knows nothing of this
// page yet, so everything is subscribed afresh and the book waits for its
// snapshot. Trades restart too: a restarted server numbers them anew.
function subscribeAll() {
  clearTimeout(switchTimer);
  const id = state.selected;
  state.markets = new Map([[id, { book: state.markets.get(id)?.book || new Book(id), trades: new Trades() }]]);
  const m = state.markets.get(id);
  m.book.markStale();
  prefillTrades(id, m);
  state.subscribed = id;
  state.subscriptions = [];
  feed.send({
    type: "subscribe",
    product_ids: [id],
    channels: [...PRODUCT_CHANNELS, { name: "ticker", product_ids: state.products.map((p) => p.id) }, "status"],
  });
  mark("book", "tape", "charts", "subs");
}

function handle(raw) {
  let msg;
  try {
    msg = JSON.parse(raw);
  } catch {
    meter.message(undefined);
    return;
  }
  meter.message(LIVE_TYPES.has(msg.type) ? msg.time : undefined);
  const m = state.markets.get(msg.product_id);
  switch (msg.type) {
    case "subscriptions":
      state.subscriptions = Array.isArray(msg.channels) ? msg.channels : [];
      mark("subs");
      break;
    case "error":
      state.errors.unshift({ message: String(msg.message || "error"), reason: msg.reason ? String(msg.reason) : "", at: new Date() });
      state.errors.length = Math.min(state.errors.length, MAX_ERRORS);
      mark("errors");
      break;
    case "status":
      for (const p of msg.products || []) state.statuses.set(p.id, { status: p.status, message: p.status_message });
      mark("status", "products");
      break;
    case "ticker":
      state.tickers.set(msg.product_id, msg);
      mark("products");
      if (msg.product_id === state.selected) mark("head");
      break;
    case "snapshot":
      if (!m) break;
      if (m.book.ready) state.resyncs++; // the server resynced a lagging client
      m.book.snapshot(msg);
      mark("book");
      break;
    case "l2update":
      if (m && m.book.update(msg) === "gap") resync(msg.product_id, m);
      mark("book");
      break;
    case "match":
    case "last_match":
      if (m && m.trades.addMatch(msg, msg.type === "match")) mark("tape");
      break;
  }
}

// resync asks for a fresh snapshot after a sequence gap: the book cannot be
// trusted past a missing update.
function resync(id, m) {
  state.resyncs++;
  m.book.markStale();
  feed.send({ type: "unsubscribe", product_ids: [id], channels: ["level2"] });
  feed.send({ type: "subscribe", product_ids: [id], channels: ["level2"] });
}

// --- start ---

setInterval(() => {
  meter.roll();
  mark("meter", "conn");
}, 1000);
matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
  palette = colors();
  mark("charts");
});
addEventListener("hashchange", () => select(decodeURIComponent(location.hash.slice(1))));

// window.__tickerfan is a read-only view of the page's state for tests and
// for curious users in the console.
Object.defineProperty(window, "__tickerfan", {
  value: Object.freeze({
    get state() { return feed.state.name; },
    get connects() { return feed.connects; },
    get product() { return state.selected; },
    get subscriptions() { return structuredClone(state.subscriptions); },
    get bookSeq() { return state.markets.get(state.selected)?.book.seq ?? null; },
    get rendered() { return { ...state.rendered }; },
    get frames() { return state.frames; },
    get messages() { return meter.total; },
    get errors() { return state.errors.map((e) => ({ message: e.message, reason: e.reason })); },
    get resyncs() { return state.resyncs; },
  }),
});

feed.start();
mark("conn", "book", "charts", "meter", "subs");
