// The dashboard's worker (a module worker the page starts): it owns the
// connection (feed.js), parses every message and keeps the state: the
// catalog, tickers, statuses, the chosen product's book and trades, rate and
// latency. The page's main thread only draws: the worker hands it compact
// views (view.js) of what changed, one at a time; the next goes out once the
// page has drawn the last (it answers "drawn" from its animation frame), and
// no sooner than MIN_POST_GAP after it. However fast the feed, the page gets
// at most one view per frame it draws.
//
// Messages from the page: {type: "start", wanted}, {type: "select", id},
// {type: "dismiss", index}, {type: "drawn"}.

import { Book } from "./book.js";
import { places } from "./decimal.js";
import { eventSource, Feed, LIVE, webSocket, withFallback } from "./feed.js";
import { Meter } from "./meter.js";
import { Trades } from "./trades.js";
import { buildView } from "./view.js";

const PRODUCT_CHANNELS = ["level2", "matches", "heartbeat"];
// LIVE_TYPES are the messages whose time is when they were sent, so they
// measure latency; a subscription's first ticker and last_match are older.
const LIVE_TYPES = new Set(["l2update", "match", "heartbeat"]);
const SWITCH_DELAY = 120; // ms: holding an arrow key sends one switch, not dozens
const MAX_ERRORS = 5;
const FETCH_TIMEOUT = 5000;
const MIN_POST_GAP = 16; // ms between two views
// DEPTH_GAP spaces the depth chart's views: filling its areas is the page's
// costliest drawing (some 2.5 ms a frame in software-rendered Chromium), and
// ten pictures a second show the book's shape well enough. The ladder keeps
// every frame.
const DEPTH_GAP = 100;
// LAST_CACHE keeps the catalog and the last tickers, so that a page loaded
// while the server is down (from the service worker's shell) still lists
// the markets with their last prices.
const LAST_CACHE = "tickerfan-last";
const SAVE_EVERY = 5000; // ms between two saves of the last tickers

const state = {
  products: [], // GET /products entries, with priceDp and sizeDp
  byId: new Map(),
  tickers: new Map(), // product id -> latest ticker message
  statuses: new Map(), // product id -> {status, message}
  selected: null, // the product on screen
  subscribed: null, // the product whose channels were requested on this connection
  markets: new Map(), // product id -> {book, trades}, for the selected and subscribed products
  subscriptions: [], // the server's last `subscriptions` reply
  errors: [], // the server's `error` messages, newest first
  resyncs: 0,
  wanted: "", // the product the page's URL asks for
  fromCache: false, // the catalog shown is the saved one, not the server's
};

const meter = new Meter();

const feed = new Feed({
  // The WebSocket, or after two attempts that never opened, the event stream.
  transport: withFallback(
    webSocket(`${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/ws`),
    eventSource(`${location.origin}/sse`, () => [subscribeMessage()]),
  ),
  prepare: loadProducts,
  onOpen: subscribeAll,
  onMessage: handle,
  onState: () => mark("conn"),
});

// --- views to the page ---

const dirty = new Set();
let waiting = false; // a view is out and the page has not drawn it yet
let postTimer = 0;
let lastPost = 0;

function mark(...parts) {
  for (const p of parts) {
    if (p === "book") markDepth();
    dirty.add(p);
  }
  schedule();
}

let depthTimer = 0;
let depthAt = 0;

// markDepth marks the depth chart, at most once per DEPTH_GAP.
function markDepth() {
  if (depthTimer) return;
  depthTimer = setTimeout(() => {
    depthTimer = 0;
    depthAt = performance.now();
    mark("depth");
  }, Math.max(0, depthAt + DEPTH_GAP - performance.now()));
}

function schedule() {
  if (waiting || postTimer || dirty.size === 0) return;
  postTimer = setTimeout(post, Math.max(0, lastPost + MIN_POST_GAP - performance.now()));
}

function post() {
  postTimer = 0;
  if (waiting || dirty.size === 0) return;
  const view = buildView(state, dirty, feed, meter);
  dirty.clear();
  waiting = true;
  lastPost = performance.now();
  postMessage(view);
}

// --- state changes ---

async function loadProducts() {
  let list;
  try {
    const res = await fetch("/products", { cache: "no-store", signal: AbortSignal.timeout(FETCH_TIMEOUT) });
    if (!res.ok) throw new Error(`GET /products answered ${res.status}`);
    list = await res.json();
    if (!Array.isArray(list) || list.length === 0) throw new Error("GET /products returned no products");
  } catch (err) {
    if (state.products.length === 0) await restoreLast();
    throw err;
  }
  setProducts(list);
  state.fromCache = false;
  save("products", list);
}

function setProducts(list) {
  state.products = list
    .filter((p) => p && typeof p.id === "string")
    .map((p) => ({ ...p, priceDp: places(p.quote_increment), sizeDp: places(p.base_increment) }));
  state.byId = new Map(state.products.map((p) => [p.id, p]));
  for (const p of state.products) state.statuses.set(p.id, { status: p.status, message: p.status_message });
  const wanted = state.wanted;
  select(state.byId.has(wanted) ? wanted : state.byId.has(state.selected) ? state.selected : state.products[0].id);
  mark("catalog", "products", "head", "status");
}

// restoreLast shows the saved catalog and tickers while the server cannot
// be reached.
async function restoreLast() {
  try {
    const cache = await caches.open(LAST_CACHE);
    const products = await (await cache.match("/last/products"))?.json();
    const tickers = await (await cache.match("/last/tickers"))?.json();
    if (!Array.isArray(products) || products.length === 0 || state.products.length > 0) return;
    for (const t of Array.isArray(tickers) ? tickers : []) state.tickers.set(t.product_id, t);
    setProducts(products);
    state.fromCache = true;
  } catch {
    // Nothing saved, or no Cache API (an insecure origin): the page stays empty.
  }
}

let savedAt = 0;

// save keeps what restoreLast restores; a failure only loses the nicety.
function save(name, value) {
  if (typeof caches === "undefined") return;
  caches.open(LAST_CACHE)
    .then((c) => c.put(`/last/${name}`, new Response(JSON.stringify(value), { headers: { "Content-Type": "application/json" } })))
    .catch(() => {});
}

function newMarket(id) {
  const m = { book: new Book(id), trades: new Trades() };
  prefillTrades(id, m);
  return m;
}

// prefillTrades loads recent trades over REST so the tape and the price chart
// do not start empty; matches then arrive over the connection.
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
    mark("head", "book", "tape", "status", "meter");
  }
  clearTimeout(switchTimer);
  switchTimer = setTimeout(applySwitch, SWITCH_DELAY);
}

let switchTimer = 0;

// applySwitch unsubscribes the previous product's channels and subscribes the
// selected one's. When the connection is down, subscribeAll does it on open.
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
  feed.send(subscribeMessage());
  mark("book", "tape", "subs");
}

// subscribeMessage is what a fresh connection subscribes: the selected
// product's channels, every product's ticker, and status.
function subscribeMessage() {
  return {
    type: "subscribe",
    product_ids: [state.selected],
    channels: [...PRODUCT_CHANNELS, { name: "ticker", product_ids: state.products.map((p) => p.id) }, "status"],
  };
}

// handle applies one message from the server. It runs for every message, so
// it only changes state and marks what the next view must carry.
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
      state.errors.unshift({ message: String(msg.message || "error"), reason: msg.reason ? String(msg.reason) : "", at: Date.now() });
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

self.onmessage = (e) => {
  const msg = e.data || {};
  switch (msg.type) {
    case "start":
      state.wanted = String(msg.wanted || "");
      feed.start();
      mark("conn", "book", "tape", "meter", "subs", "errors", "status");
      break;
    case "select":
      state.wanted = String(msg.id);
      select(state.wanted);
      break;
    case "dismiss":
      state.errors.splice(msg.index, 1);
      mark("errors");
      break;
    case "drawn":
      waiting = false;
      schedule();
      break;
  }
};

setInterval(() => {
  meter.roll();
  mark("meter", "conn");
  if (feed.state.name === LIVE && state.tickers.size > 0 && performance.now() - savedAt >= SAVE_EVERY) {
    savedAt = performance.now();
    save("tickers", [...state.tickers.values()]);
  }
}, 1000);
