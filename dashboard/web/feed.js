// The connection to tickerfan: connect, watch, reconnect with a capped,
// jittered exponential backoff, and pace what the page sends so it stays well
// inside the server's per-connection rate limit (messages_per_second 20,
// message_burst 100 by default). It runs in the dashboard's worker.
//
// Feed knows nothing of the socket beyond a transport: a function that makes
// one connection attempt, open(handlers) -> {send(text), close()}, and calls
// handlers.open() once connected, handlers.message(text) for each message and
// handlers.close(code, reason) once when the connection ends (not after its
// own close()). webSocket is the first choice; eventSource (server-sent
// events, one way) the fallback, and withFallback switches between them.

// Connection states, as the page shows them.
export const CONNECTING = "connecting"; // the first attempt
export const LIVE = "live"; // the socket is open
export const RECONNECTING = "reconnecting"; // lost; waiting for or making the next attempt

const defaults = {
  backoffBase: 500, // ms, the first retry delay
  backoffCap: 10000, // ms, the longest retry delay
  stableAfter: 10000, // ms live before a loss counts as a fresh start
  idleTimeout: 10000, // ms without a message (heartbeats come each second) before the socket is dropped
  sendPerSecond: 8,
  sendBurst: 16,
};

// webSocket is the transport of a WebSocket at url.
export function webSocket(url) {
  return (handlers) => {
    const ws = new WebSocket(url);
    ws.onopen = () => handlers.open();
    ws.onmessage = (e) => {
      if (typeof e.data === "string") handlers.message(e.data);
    };
    ws.onclose = (e) => handlers.close(e.code, e.reason);
    return {
      label: "WebSocket",
      send: (text) => ws.send(text),
      close() {
        ws.onopen = ws.onmessage = ws.onclose = null;
        if (ws.readyState <= WebSocket.OPEN) ws.close();
      },
    };
  };
}

// eventSource is the transport of tickerfan's event stream at url (/sse).
// The stream is one way: its query is its subscription. The connection
// keeps the subscription the page asked for (initial(), the messages the
// page sends on open, which the first query already holds) by applying each
// subscribe and unsubscribe the page sends to its own copy, as the server
// would, and reopening the stream with the new query: a product switch or a
// resync (unsubscribe, subscribe) gets a fresh subscriptions reply and
// snapshot, as on a WebSocket.
export function eventSource(url, initial) {
  return (handlers) => {
    const subs = new Subscriptions();
    for (const msg of initial()) subs.apply(msg);
    let es = null, opened = false, reopen = false, pending = false;
    const connect = () => {
      es = new EventSource(`${url}?${subs.query()}`);
      es.onopen = () => {
        if (!opened) handlers.open();
        opened = true;
      };
      es.onmessage = (e) => handlers.message(e.data);
      es.onerror = () => {
        // A refused request (readyState CLOSED) or a lost stream the browser
        // would retry: either way the Feed decides when to try again.
        es.close();
        es = null;
        handlers.close(0, opened ? "event stream lost" : "event stream refused");
      };
    };
    connect();
    return {
      label: "SSE",
      send(text) {
        const before = subs.query();
        const msg = JSON.parse(text);
        subs.apply(msg);
        if (msg.type === "unsubscribe" || subs.query() !== before) reopen = true;
        if (pending) return;
        pending = true;
        queueMicrotask(() => { // one reopen for the messages sent together
          pending = false;
          if (!reopen || !es) return;
          reopen = false;
          es.onopen = es.onmessage = es.onerror = null;
          es.close();
          connect();
        });
      },
      close() {
        if (!es) return;
        es.onopen = es.onmessage = es.onerror = null;
        es.close();
        es = null;
      },
    };
  };
}

// Subscriptions is a copy of what a connection is subscribed to, kept from
// subscribe and unsubscribe messages as the server keeps it, written as the
// query of /sse: each channel with its own products (ticker=A,B), status in
// channels=.
export class Subscriptions {
  constructor() {
    this.channels = new Map(); // name -> Set of product ids
  }

  apply(msg) {
    for (const ch of msg.channels || []) {
      const name = typeof ch === "string" ? ch : ch.name;
      const ids = (typeof ch === "object" && ch.product_ids) || msg.product_ids || [];
      if (msg.type === "subscribe") {
        const set = this.channels.get(name) || new Set();
        for (const id of ids) set.add(id);
        this.channels.set(name, set);
      } else if (ids.length === 0) {
        this.channels.delete(name);
      } else if (this.channels.has(name)) {
        for (const id of ids) this.channels.get(name).delete(id);
        if (this.channels.get(name).size === 0 && name !== "status") this.channels.delete(name);
      }
    }
  }

  query() {
    const q = new URLSearchParams();
    for (const [name, ids] of this.channels) {
      if (name === "status") q.append("channels", "status");
      else q.append(name, [...ids].join(","));
    }
    return q.toString();
  }
}

// withFallback uses primary (the WebSocket) until it fails after times
// attempts in a row without ever opening (a proxy that refuses upgrades, a
// server that refuses them), then fallback (the event stream). A fallback
// that also fails that often without opening hands back to primary: the
// server was down, not the upgrade refused. A transport that opened once is
// kept.
export function withFallback(primary, fallback, times = 2) {
  let useFallback = false, failures = 0;
  return (handlers) => {
    let opened = false;
    return (useFallback ? fallback : primary)({
      open() {
        opened = true;
        failures = 0;
        handlers.open();
      },
      message: handlers.message,
      close(code, reason) {
        if (!opened && ++failures >= times) {
          useFallback = !useFallback;
          failures = 0;
        }
        handlers.close(code, reason);
      },
    });
  };
}

// Feed owns one connection at a time, made by transport. prepare runs before
// each attempt (the dashboard loads /products there; a failure counts as a
// failed attempt); onOpen runs when a connection opens, onMessage for each
// message, onState when the state changes. The state's unreachable is true
// while the last attempt failed without ever connecting: the server (or the
// network) is down, not merely restarting.
export class Feed {
  constructor({ transport, prepare, onOpen, onMessage, onState, ...options }) {
    this.transport = transport;
    this.prepare = prepare || (async () => {});
    this.onOpen = onOpen || (() => {});
    this.onMessage = onMessage;
    this.onState = onState || (() => {});
    this.opt = { ...defaults, ...options };
    this.conn = null; // the transport's connection, while open or opening
    this.open = false;
    this.attempt = 0; // failed attempts since the connection was last stable
    this.connects = 0; // sockets opened, ever
    this.state = { name: CONNECTING, attempt: 0, retryAt: 0, closeCode: 0, closeReason: "", detail: "", unreachable: false, transport: "" };
    this.openedAt = 0;
    this.lastMessageAt = 0;
    this.retryTimer = 0;
    this.queue = [];
    this.tokens = this.opt.sendBurst;
    this.tokensAt = performance.now();
    this.flushTimer = 0;
    this.generation = 0;
  }

  // start makes the first attempt and starts the idle watchdog.
  start() {
    setInterval(() => this.#watch(), 1000);
    addEventListener("online", () => this.retryNow());
    this.#connect();
  }

  // retryNow skips the rest of the backoff delay.
  retryNow() {
    if (this.state.name === RECONNECTING && this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = 0;
      this.#connect();
    }
  }

  // send queues a client message; it goes out at once unless the page has
  // sent a burst already. Messages queued while disconnected are dropped: the
  // page subscribes afresh in onOpen.
  send(msg) {
    if (!this.conn || !this.open) return false;
    this.queue.push(JSON.stringify(msg));
    this.#flush();
    return true;
  }

  isOpen() {
    return this.state.name === LIVE;
  }

  #setState(name, extra = {}) {
    this.state = { ...this.state, name, attempt: this.attempt, ...extra };
    this.onState(this.state);
  }

  async #connect() {
    const gen = ++this.generation;
    this.retryTimer = 0;
    if (this.state.name === RECONNECTING) this.#setState(RECONNECTING, { retryAt: 0 });
    try {
      await this.prepare();
    } catch (err) {
      if (gen === this.generation) this.#lost(0, "", `cannot load products: ${err.message}`);
      return;
    }
    if (gen !== this.generation) return;
    const current = () => gen === this.generation;
    try {
      this.conn = this.transport({
        open: () => {
          if (!current()) return;
          this.open = true;
          this.openedAt = this.lastMessageAt = performance.now();
          this.connects++;
          const transport = (this.conn && this.conn.label) || "";
          this.#setState(LIVE, { retryAt: 0, detail: "", closeCode: 0, closeReason: "", unreachable: false, transport });
          this.onOpen();
        },
        message: (text) => {
          if (!current()) return;
          this.lastMessageAt = performance.now();
          this.onMessage(text);
        },
        close: (code, reason) => {
          if (current()) this.#lost(code, reason, "");
        },
      });
    } catch (err) {
      this.#lost(0, "", err.message);
    }
  }

  // lost forgets the socket and schedules the next attempt.
  #lost(code, reason, detail) {
    const conn = this.conn, wasOpen = this.open;
    this.conn = null;
    this.open = false;
    this.generation++;
    if (conn) conn.close();
    this.queue = [];
    const wasStable = this.openedAt && performance.now() - this.openedAt >= this.opt.stableAfter;
    this.openedAt = 0;
    this.attempt = wasStable ? 1 : this.attempt + 1;
    const delay = this.#backoff(this.attempt);
    this.#setState(RECONNECTING, {
      retryAt: Date.now() + delay,
      closeCode: code,
      closeReason: reason,
      detail: detail || closeText(code, reason),
      unreachable: !wasOpen,
    });
    this.retryTimer = setTimeout(() => this.#connect(), delay);
  }

  // backoff is the delay before attempt n: exponential from backoffBase,
  // capped at backoffCap, with "equal jitter" (half fixed, half random) so a
  // server restart is not met by every dashboard at the same instant.
  #backoff(n) {
    const ceiling = Math.min(this.opt.backoffCap, this.opt.backoffBase * 2 ** (n - 1));
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  #watch() {
    if (this.conn && this.state.name === LIVE && performance.now() - this.lastMessageAt > this.opt.idleTimeout) {
      this.#lost(0, "", `no message for ${this.opt.idleTimeout / 1000} s`);
    }
  }

  // flush sends queued messages while the token bucket allows.
  #flush() {
    const now = performance.now();
    this.tokens = Math.min(this.opt.sendBurst, this.tokens + ((now - this.tokensAt) / 1000) * this.opt.sendPerSecond);
    this.tokensAt = now;
    while (this.queue.length > 0 && this.tokens >= 1 && this.conn && this.open) {
      this.conn.send(this.queue.shift());
      this.tokens--;
    }
    if (this.queue.length > 0 && !this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = 0;
        this.#flush();
      }, 1000 / this.opt.sendPerSecond);
    }
  }
}

// closeText says why a socket closed, in words (RFC 6455 section 7.4.1).
export function closeText(code, reason) {
  const names = {
    1000: "closed",
    1001: "server going away",
    1002: "protocol error",
    1003: "unsupported data",
    1006: "connection lost",
    1008: "policy violation",
    1009: "message too big",
    1011: "server error",
    1013: "try again later",
  };
  if (!code) return reason || "";
  const name = names[code] || "closed";
  return reason ? `${name} (${code}): ${reason}` : `${name} (${code})`;
}
