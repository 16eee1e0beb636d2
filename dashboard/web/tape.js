// The trades tape: the newest trades first, each with time, price (marked up
// or down by the taker's side) and size. Rows are kept per trade id, so a
// frame only creates the rows of new trades.
//
// Test hooks: each row is data-testid="trade" with data-trade-id.

import { pad } from "./decimal.js";
import { h } from "./dom.js";

const timeFormat = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hour12: false,
});

export class Tape {
  constructor(list, rows) {
    this.list = list;
    this.n = rows;
    this.nodes = new Map(); // trade id -> li
    this.version = -1;
    this.trades = null;
  }

  // render draws trades (a Trades) when it changed since the last call.
  render(trades, priceDp, sizeDp) {
    if (trades === this.trades && trades.version === this.version) return;
    if (trades !== this.trades) this.nodes.clear();
    this.trades = trades;
    this.version = trades.version;
    const shown = trades.newest(this.n);
    const keep = new Map();
    const items = shown.map((t) => {
      let li = this.nodes.get(t.id);
      if (!li) li = this.#row(t, priceDp, sizeDp);
      keep.set(t.id, li);
      return li;
    });
    this.nodes = keep;
    // Insert only what is not in place: moving a row would restart its
    // highlight animation. New trades go on top and the rest shift down.
    items.forEach((li, i) => {
      const at = this.list.children[i];
      if (at !== li) this.list.insertBefore(li, at || null);
    });
    while (this.list.children.length > items.length) this.list.lastElementChild.remove();
  }

  #row(t, priceDp, sizeDp) {
    const li = h("li", `trade ${t.takerSide}${t.live ? " new" : ""}`);
    li.dataset.testid = "trade";
    li.dataset.tradeId = String(t.id);
    const time = h("time", "time", Number.isNaN(t.ms) ? "" : timeFormat.format(t.ms));
    if (t.time) time.dateTime = t.time;
    const side = h("span", "side");
    const arrow = h("span", "", t.takerSide === "buy" ? "▲" : "▼");
    arrow.setAttribute("aria-hidden", "true");
    side.append(arrow, h("span", "sr-only", t.takerSide));
    const price = h("span", "price num", pad(t.price, priceDp));
    price.dataset.testid = "trade-price";
    li.append(time, side, price, h("span", "size num", pad(t.size, sizeDp)));
    return li;
  }
}
