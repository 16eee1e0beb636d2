// The product list: a listbox of every product with its live last price,
// 24 h change and volume (rows of text the worker formatted, view.js). Arrow keys, Home, End and a product's first letter
// move the selection (selection follows focus); a click selects too.

import { h, setText } from "./dom.js";

export class ProductList {
  // el is the listbox element; onChoose(id) is called when the user picks.
  constructor(el, onChoose) {
    this.el = el;
    this.onChoose = onChoose;
    this.ids = [];
    this.rows = new Map();
    this.selected = null;
    el.addEventListener("keydown", (e) => this.#key(e));
    el.addEventListener("click", (e) => {
      const option = e.target.closest("[role=option]");
      if (option) this.onChoose(option.dataset.productId);
    });
  }

  // setProducts (re)builds the rows when the catalog changed.
  setProducts(products) {
    const ids = products.map((p) => p.id);
    if (ids.join() === this.ids.join()) return;
    this.ids = ids;
    this.rows.clear();
    const items = products.map((p) => {
      const li = h("li", "product");
      li.id = `product-${p.id}`;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.dataset.testid = "product";
      li.dataset.productId = p.id;
      const row = {
        li,
        name: h("span", "pid", p.display_name || p.id),
        status: h("span", "status-dot"),
        last: h("span", "last num"),
        change: h("span", "change num"),
        volume: h("span", "volume num"),
      };
      row.last.dataset.testid = "product-price";
      row.status.setAttribute("aria-hidden", "true");
      li.append(row.status, row.name, row.last, row.change, row.volume);
      this.rows.set(p.id, row);
      return li;
    });
    this.el.replaceChildren(...items);
    if (this.selected) this.setSelected(this.selected);
  }

  // setSelected marks id as the chosen product.
  setSelected(id) {
    this.selected = id;
    for (const [pid, row] of this.rows) row.li.setAttribute("aria-selected", String(pid === id));
    const row = this.rows.get(id);
    if (row) {
      this.el.setAttribute("aria-activedescendant", row.li.id);
      row.li.scrollIntoView({ block: "nearest", inline: "nearest" });
    }
  }

  // render updates the rows: views maps a product id to {offline, title}
  // and, once it has a ticker, {last, change, dir, volume, volumeTitle}.
  render(views) {
    for (const [id, v] of Object.entries(views)) {
      const row = this.rows.get(id);
      if (!row) continue;
      row.li.classList.toggle("offline", v.offline);
      if (row.li.title !== v.title) row.li.title = v.title;
      if (v.last === undefined) continue;
      setText(row.last, v.last);
      setText(row.change, v.change);
      row.change.dataset.dir = v.dir;
      setText(row.volume, v.volume);
      if (row.volume.title !== v.volumeTitle) row.volume.title = v.volumeTitle;
    }
  }

  #key(e) {
    if (e.altKey || e.ctrlKey || e.metaKey || this.ids.length === 0) return;
    const i = this.ids.indexOf(this.selected);
    let next = -1;
    switch (e.key) {
      case "ArrowDown":
      case "ArrowRight":
        next = Math.min(i + 1, this.ids.length - 1);
        break;
      case "ArrowUp":
      case "ArrowLeft":
        next = Math.max(i - 1, 0);
        break;
      case "Home":
        next = 0;
        break;
      case "End":
        next = this.ids.length - 1;
        break;
      default:
        if (e.key.length === 1 && /\w/.test(e.key)) next = this.#byLetter(e.key.toUpperCase(), i);
    }
    if (next >= 0) {
      e.preventDefault();
      if (this.ids[next] !== this.selected) this.onChoose(this.ids[next]);
    }
  }

  // byLetter finds the next product after i whose id starts with letter.
  #byLetter(letter, i) {
    for (let k = 1; k <= this.ids.length; k++) {
      const j = (i + k) % this.ids.length;
      if (this.ids[j].toUpperCase().startsWith(letter)) return j;
    }
    return -1;
  }
}
