// The level-2 book of one product, kept from snapshot + l2update exactly as
// PROTOCOL.md describes: sizes are absolute, "0" removes a level. Prices and
// sizes stay the server's strings; a level is keyed by its canonical price.

import { canon, cmp, isDecimal, isZero, toNumber } from "./decimal.js";

// Side is one side of a book. Levels are sorted lazily, best first, and only
// when a level was added or removed since the last sort: a size change keeps
// the order.
class Side {
  constructor(descending) {
    this.descending = descending;
    this.levels = new Map(); // canonical price -> {price, size, value}
    this.sorted = [];
    this.orderDirty = false;
  }

  clear() {
    this.levels.clear();
    this.sorted = [];
    this.orderDirty = false;
  }

  set(price, size) {
    const key = canon(price);
    if (isZero(size)) {
      if (this.levels.delete(key)) this.orderDirty = true;
      return;
    }
    const level = this.levels.get(key);
    if (level) {
      level.size = size;
      return;
    }
    this.levels.set(key, { price, size, value: toNumber(price) });
    this.orderDirty = true;
  }

  // ordered returns the levels best first. Floats order them; two prices
  // whose floats tie (beyond 15 significant digits) are compared exactly.
  ordered() {
    if (this.orderDirty) {
      const sign = this.descending ? -1 : 1;
      this.sorted = [...this.levels.values()].sort(
        (a, b) => sign * (a.value - b.value || cmp(a.price, b.price)),
      );
      this.orderDirty = false;
    }
    return this.sorted;
  }
}

// Book is a level-2 order book. seq is the extension sequence of the last
// snapshot or l2update applied (null when the server sends none, or when the
// book is stale); ready is false until the first snapshot and again after
// markStale, until the next snapshot.
export class Book {
  constructor(productId) {
    this.productId = productId;
    this.bids = new Side(true);
    this.asks = new Side(false);
    this.seq = null;
    this.ready = false;
    this.snapshots = 0;
  }

  // snapshot replaces the whole book (first subscribe, resync, reconnect).
  snapshot(msg) {
    this.bids.clear();
    this.asks.clear();
    for (const [price, size] of msg.bids || []) if (isDecimal(price)) this.bids.set(price, size);
    for (const [price, size] of msg.asks || []) if (isDecimal(price)) this.asks.set(price, size);
    this.seq = Number.isSafeInteger(msg.sequence) ? msg.sequence : null;
    this.ready = true;
    this.snapshots++;
  }

  // update applies an l2update and returns "ok", "stale" when there is no
  // snapshot to apply it to, or "gap" when its sequence does not follow the
  // book's (the book is then left as it was and needs a fresh snapshot).
  update(msg) {
    if (!this.ready) return "stale";
    const seq = Number.isSafeInteger(msg.sequence) ? msg.sequence : null;
    if (seq !== null && this.seq !== null && seq !== this.seq + 1) return "gap";
    for (const [side, price, size] of msg.changes || []) {
      if (!isDecimal(price) || !isDecimal(size)) continue;
      if (side === "buy") this.bids.set(price, size);
      else if (side === "sell") this.asks.set(price, size);
    }
    if (seq !== null) this.seq = seq;
    return "ok";
  }

  // markStale keeps the levels for display but says they are no longer
  // live: the next snapshot replaces them.
  markStale() {
    this.ready = false;
    this.seq = null;
  }

  // top returns up to n levels of each side, best first.
  top(n) {
    return { bids: this.bids.ordered().slice(0, n), asks: this.asks.ordered().slice(0, n) };
  }

  // all returns every level of each side, best first.
  all() {
    return { bids: this.bids.ordered(), asks: this.asks.ordered() };
  }
}
