// The order book ladder: asks above (best ask nearest the middle), the
// spread, bids below (best bid nearest the middle). Rows are created once and
// only their text and bar widths change, so a frame costs a few dozen writes.
//
// Test hooks: each row is data-testid="ask-level" or "bid-level" with
// data-level (0 = best); its cells data-testid="price" and "size" hold the
// server's strings padded to the product's increments. Rows without a level
// are hidden.

import { Sum, pad, sub, toNumber } from "./decimal.js";
import { setText } from "./dom.js";

export class Ladder {
  constructor(table, rowsPerSide) {
    this.table = table;
    this.n = rowsPerSide;
    this.asks = this.#rows(table.querySelector("[data-ref=asks]"), "ask", true);
    this.bids = this.#rows(table.querySelector("[data-ref=bids]"), "bid", false);
    this.spread = table.querySelector("[data-ref=spread]");
  }

  #rows(tbody, side, reversed) {
    const rows = [];
    for (let i = 0; i < this.n; i++) {
      const tr = document.createElement("tr");
      tr.dataset.testid = `${side}-level`;
      tr.dataset.level = String(i);
      tr.className = side;
      tr.hidden = true;
      const cells = ["price", "size", "total"].map((name) => {
        const td = document.createElement("td");
        td.className = name;
        td.dataset.testid = name;
        tr.append(td);
        return td;
      });
      rows.push({ tr, price: cells[0], size: cells[1], total: cells[2], bar: -1 });
    }
    tbody.replaceChildren(...(reversed ? [...rows].reverse() : rows).map((r) => r.tr));
    return rows;
  }

  // render draws the top levels of book; priceDp and sizeDp are the decimal
  // places of the product's quote and base increments.
  render(book, priceDp, sizeDp) {
    const top = book ? book.top(this.n) : { bids: [], asks: [] };
    let maxSize = 0;
    for (const l of top.bids) maxSize = Math.max(maxSize, toNumber(l.size));
    for (const l of top.asks) maxSize = Math.max(maxSize, toNumber(l.size));
    this.#side(this.asks, top.asks, maxSize, priceDp, sizeDp);
    this.#side(this.bids, top.bids, maxSize, priceDp, sizeDp);
    this.#spread(top, priceDp);
    this.table.classList.toggle("stale", !book || !book.ready);
  }

  #side(rows, levels, maxSize, priceDp, sizeDp) {
    const total = new Sum();
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      const level = levels[i];
      row.tr.hidden = !level;
      if (!level) continue;
      setText(row.price, pad(level.price, priceDp));
      setText(row.size, pad(level.size, sizeDp));
      setText(row.total, pad(total.add(level.size), sizeDp));
      const bar = maxSize > 0 ? Math.round((toNumber(level.size) / maxSize) * 1000) / 10 : 0;
      if (bar !== row.bar) {
        row.bar = bar;
        row.tr.style.setProperty("--bar", `${bar}%`);
      }
    }
  }

  #spread(top, priceDp) {
    const bid = top.bids[0], ask = top.asks[0];
    let text = "Spread —";
    if (bid && ask) {
      const spread = sub(ask.price, bid.price);
      const mid = (toNumber(ask.price) + toNumber(bid.price)) / 2;
      const bps = mid > 0 ? (toNumber(spread) / mid) * 1e4 : 0;
      text = `Spread ${pad(spread, priceDp)} (${bps.toFixed(1)} bps)`;
    }
    setText(this.spread, text);
  }
}
