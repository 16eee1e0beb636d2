// Recent trades of one product, from `match` messages and the REST
// /products/{id}/trades history, ordered by trade_id and without duplicates.

import { isDecimal, toNumber } from "./decimal.js";
import { parseTime } from "./meter.js";

// Trades keeps the newest max trades, oldest first.
export class Trades {
  constructor(max = 600) {
    this.max = max;
    this.list = []; // {id, price, size, takerSide, time, ms, value, live}
    this.ids = new Set();
    this.version = 0; // bumped on every change, so renderers know when to redraw
  }

  // addMatch adds a match or last_match message. The message's side is the
  // maker's (PROTOCOL.md), so the taker, who moved the price, is the other.
  addMatch(msg, live) {
    return this.#add({
      id: msg.trade_id,
      price: msg.price,
      size: msg.size,
      takerSide: msg.side === "sell" ? "buy" : "sell",
      time: msg.time,
      live,
    });
  }

  // addRest adds a trade of GET /products/{id}/trades; its side is the
  // maker's too, as on Coinbase Exchange REST.
  addRest(t) {
    return this.#add({
      id: t.trade_id,
      price: t.price,
      size: t.size,
      takerSide: t.side === "sell" ? "buy" : "sell",
      time: t.time,
      live: false,
    });
  }

  #add(t) {
    if (!Number.isSafeInteger(t.id) || this.ids.has(t.id) || !isDecimal(t.price) || !isDecimal(t.size)) return false;
    t.ms = parseTime(t.time);
    t.value = toNumber(t.price);
    const list = this.list;
    if (list.length === 0 || t.id > list[list.length - 1].id) {
      list.push(t);
    } else {
      let lo = 0, hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (list[mid].id < t.id) lo = mid + 1;
        else hi = mid;
      }
      list.splice(lo, 0, t);
    }
    this.ids.add(t.id);
    while (list.length > this.max) this.ids.delete(list.shift().id);
    this.version++;
    return true;
  }

  // newest returns up to n trades, newest first.
  newest(n) {
    return this.list.slice(-n).reverse();
  }

  last() {
    return this.list.length ? this.list[this.list.length - 1] : null;
  }
}
