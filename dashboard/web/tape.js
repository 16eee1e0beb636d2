// The trades tape: the newest trades first, each with time, price (marked up
// or down by the taker's side) and size. Rows are kept per trade id, so a
// frame only creates the rows of new trades.
//
// Test hooks: each row is data-testid="trade" with data-trade-id.

import { h } from "./dom.js";

const timeFormat = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hour12: false,
});

export class Tape {
  constructor(list) {
    this.list = list;
    this.nodes = new Map(); // trade id -> li
    this.version = -1;
    this.key = -1;
  }

  // render draws a tape view (view.js: the newest trades, formatted) when it
  // changed since the last call; key names the list, version its state.
  render(tape) {
    if (tape.key === this.key && tape.version === this.version) return;
    if (tape.key !== this.key) this.nodes.clear();
    this.key = tape.key;
    this.version = tape.version;
    const keep = new Map();
    const items = tape.rows.map((t) => {
      let li = this.nodes.get(t.id);
      if (!li) li = this.#row(t);
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

  #row(t) {
    const li = h("li", `trade ${t.takerSide}${t.live ? " new" : ""}`);
    li.dataset.testid = "trade";
    li.dataset.tradeId = String(t.id);
    const time = h("time", "time", Number.isNaN(t.ms) ? "" : timeFormat.format(t.ms));
    if (t.time) time.dateTime = t.time;
    const side = h("span", "side");
    const arrow = h("span", "", t.takerSide === "buy" ? "▲" : "▼");
    arrow.setAttribute("aria-hidden", "true");
    side.append(arrow, h("span", "sr-only", t.takerSide));
    const price = h("span", "price num", t.price);
    price.dataset.testid = "trade-price";
    li.append(time, side, price, h("span", "size num", t.size));
    return li;
  }
}
