// The order book ladder: asks above (best ask nearest the middle), the
// spread, bids below (best bid nearest the middle). Rows are created once and
// only their text and bar widths change, so a frame costs a few dozen writes.
//
// Test hooks: each row is data-testid="ask-level" or "bid-level" with
// data-level (0 = best); its cells data-testid="price" and "size" hold the
// server's strings padded to the product's increments. Rows without a level
// are hidden.

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

  // render draws a book view (view.js): the top levels a side, formatted,
  // with their totals and bar widths, and the spread.
  render(book) {
    this.#side(this.asks, book ? book.asks : []);
    this.#side(this.bids, book ? book.bids : []);
    setText(this.spread, book ? book.spread : "Spread —");
    this.table.classList.toggle("stale", !book || !book.ready);
  }

  #side(rows, levels) {
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      const level = levels[i];
      row.tr.hidden = !level;
      if (!level) continue;
      setText(row.price, level.price);
      setText(row.size, level.size);
      setText(row.total, level.total);
      if (level.bar !== row.bar) {
        row.bar = level.bar;
        row.tr.style.setProperty("--bar", `${level.bar}%`);
      }
    }
  }
}
