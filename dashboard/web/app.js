// The tickerfan dashboard's page: it draws, and nothing else. The worker
// (worker.js) holds the connection and the state and hands the page views
// of what changed (view.js); the page keeps the latest parts and draws them
// at most once per animation frame, then tells the worker it drew, which
// lets the next view out. A service worker (sw.js) keeps the page's shell
// so that it loads, offline, while the server is down.

import { Chart, colors, drawDepth, drawPrices } from "./charts.js";
import { h, setText } from "./dom.js";
import { RECONNECTING } from "./feed.js";
import { LADDER_ROWS } from "./view.js";
import { Ladder } from "./ladder.js";
import { ProductList } from "./products.js";
import { Tape } from "./tape.js";

const ref = (name) => document.querySelector(`[data-ref="${name}"]`);

// view holds the latest of every part the worker sent, and meta.
const view = {
  meta: { state: "connecting", connects: 0, product: null, bookSeq: null, messages: 0, resyncs: 0 },
  conn: null,
  subs: { list: [], text: "—" },
  errors: [],
  book: null,
  depth: null,
  tape: null,
  prices: null,
};
const drawn = { rendered: { product: null, seq: null, ready: false }, frames: 0 };

const productList = new ProductList(ref("products"), choose);
const ladder = new Ladder(ref("ladder"), LADDER_ROWS);
const tape = new Tape(ref("tape"));
let palette = colors();
const priceChart = new Chart(ref("price-chart"), () => mark("charts"));
const depthChart = new Chart(ref("depth-chart"), () => mark("charts"));

const worker = new Worker("/dashboard/worker.js", { type: "module", name: "tickerfan" });
worker.onmessage = (e) => receive(e.data);
worker.onerror = (e) => {
  view.conn = { name: RECONNECTING, attempt: 0, retryAt: 0, detail: `the dashboard's worker failed: ${e.message || "error"}`, offline: false };
  mark("conn");
};

// --- views in, frames out ---

const dirty = new Set();
let frame = 0;
let owed = false; // the worker waits for a "drawn"

function receive(v) {
  const wasProduct = view.meta.product;
  view.meta = v.meta;
  for (const [part, value] of Object.entries(v.parts)) {
    view[part] = value;
    dirty.add(part);
  }
  if (v.meta.product !== wasProduct && v.meta.product) showSelected(v.meta.product);
  owed = true;
  mark();
}

function mark(...parts) {
  for (const p of parts) dirty.add(p);
  if (!frame) frame = requestAnimationFrame(render);
}

function render() {
  frame = 0;
  drawn.frames++;
  if (dirty.has("catalog")) productList.setProducts(view.catalog);
  if (dirty.has("products")) productList.render(view.products);
  if (dirty.has("head")) renderHead(view.head);
  if (dirty.has("book")) renderBook(view.book);
  if (dirty.has("tape") && view.tape) tape.render(view.tape);
  if (dirty.has("depth") || dirty.has("charts")) {
    depthChart.draw((ctx, w, hgt) => drawDepth(ctx, w, hgt, view.depth, palette));
  }
  if (dirty.has("prices") || dirty.has("charts")) {
    priceChart.draw((ctx, w, hgt) => drawPrices(ctx, w, hgt, view.prices, palette));
  }
  if (dirty.has("conn") && view.conn) renderConn(view.conn);
  if (dirty.has("status")) renderStatus(view.status);
  if (dirty.has("meter")) renderMeter(view.meter);
  if (dirty.has("subs")) setText(ref("subs"), view.subs.text);
  if (dirty.has("errors")) renderErrors(view.errors);
  dirty.clear();
  if (owed) {
    owed = false;
    worker.postMessage({ type: "drawn" });
  }
}

function renderBook(b) {
  ladder.render(b);
  drawn.rendered = { product: b ? b.product : null, seq: b ? b.seq : null, ready: Boolean(b && b.ready) };
  setText(ref("seq"), b && b.ready && b.seq !== null ? String(b.seq) : "—");
  setText(ref("resyncs"), String(b ? b.resyncs : 0));
  setText(ref("book-state"), b ? b.state : "");
}

function renderHead(v) {
  setText(ref("title"), v.title);
  setText(ref("price-head"), v.priceHead);
  setText(ref("size-head"), v.sizeHead);
  setText(ref("last"), v.last);
  if (document.title !== v.docTitle) document.title = v.docTitle;
  setText(ref("change"), v.change);
  ref("change").dataset.dir = v.dir;
  setText(ref("high"), v.high);
  setText(ref("low"), v.low);
  setText(ref("open"), v.open);
  setText(ref("volume"), v.volume);
}

// renderConn shows the connection. While the server cannot be reached at all
// (down, or this machine offline) it says so: "offline, reconnecting".
function renderConn(s) {
  const el = ref("conn");
  el.dataset.state = s.name;
  el.dataset.offline = String(s.offline);
  document.body.classList.toggle("offline", s.offline);
  // The state word is in a live region; the countdown, which changes every
  // second, is hidden from screen readers.
  setText(ref("conn-text"), s.offline ? "offline, reconnecting" : s.name === "live" && s.transport ? `live · ${s.transport}` : s.name);
  let retry = s.name === "connecting" ? "…" : "";
  if (s.name === RECONNECTING) {
    const secs = Math.ceil((s.retryAt - Date.now()) / 1000);
    retry = s.retryAt && secs > 0 ? ` in ${secs} s (attempt ${s.attempt})` : `… (attempt ${s.attempt})`;
  }
  setText(ref("conn-retry"), retry);
  setText(ref("conn-detail"), s.detail + (s.fromCache ? " — showing the last data this browser saw" : ""));
}

function renderStatus(v) {
  const el = ref("feed");
  el.dataset.state = v.feedState;
  setText(el, v.feedText);
  const ps = ref("product-status");
  ps.hidden = !v.product;
  if (v.product) setText(ps, v.product);
}

function renderMeter(v) {
  setText(ref("rate"), v.rate);
  setText(ref("latency"), v.latency);
  if (v.depthLabel) ref("depth-chart").setAttribute("aria-label", v.depthLabel);
  if (v.priceLabel) ref("price-chart").setAttribute("aria-label", v.priceLabel);
}

function renderErrors(errors) {
  ref("errors").replaceChildren(
    ...errors.map((e, i) => {
      const item = h("div", "error");
      item.dataset.testid = "server-error";
      const time = h("time", "", new Date(e.at).toLocaleTimeString());
      const text = h("span", "", e.reason ? `${e.message}: ${e.reason}` : e.message);
      const close = h("button", "dismiss", "Dismiss");
      close.type = "button";
      close.addEventListener("click", () => worker.postMessage({ type: "dismiss", index: i }));
      item.append(time, text, close);
      return item;
    }),
  );
}

// --- choosing a product ---

// choose is the user's pick (list, keys, URL): marked at once, so that a
// second key press moves on from it, and sent to the worker.
function choose(id) {
  productList.setSelected(id);
  worker.postMessage({ type: "select", id });
}

// showSelected follows the worker's choice: the list and the URL (/#ETH-USD).
function showSelected(id) {
  if (productList.selected !== id) productList.setSelected(id);
  if (decodeURIComponent(location.hash.slice(1)) !== id) history.replaceState(null, "", `#${encodeURIComponent(id)}`);
}

// --- start ---

matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
  palette = colors();
  mark("charts");
});
addEventListener("hashchange", () => choose(decodeURIComponent(location.hash.slice(1))));

// The shell is kept for offline loads; an insecure origin has no service
// workers, and the page works without one.
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/dashboard/sw.js", { scope: "/" }).catch(() => {});
}

// window.__tickerfan is a read-only view of the page's state for tests and
// for curious users in the console.
Object.defineProperty(window, "__tickerfan", {
  value: Object.freeze({
    get state() { return view.meta.state; },
    get connects() { return view.meta.connects; },
    get transport() { return view.meta.transport; },
    get product() { return view.meta.product; },
    get subscriptions() { return structuredClone(view.subs.list); },
    get bookSeq() { return view.meta.bookSeq; },
    get rendered() { return { ...drawn.rendered }; },
    get frames() { return drawn.frames; },
    get messages() { return view.meta.messages; },
    get errors() { return view.errors.map((e) => ({ message: e.message, reason: e.reason })); },
    get resyncs() { return view.meta.resyncs; },
    get offline() { return Boolean(view.conn && view.conn.offline); },
  }),
});

worker.postMessage({ type: "start", wanted: decodeURIComponent(location.hash.slice(1)) });
mark("book", "charts");
