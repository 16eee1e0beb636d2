// Exact decimal strings, as the feed sends them ("43210.12", "0.00500000").
// Nothing here goes through a float: values that are displayed are the
// server's strings, padded or computed with BigInt. Floats (toNumber) are only
// for ordering, bar widths and chart coordinates.

const DECIMAL = /^-?\d+(\.\d+)?$/;

// isDecimal reports whether s is a plain decimal string.
export function isDecimal(s) {
  return typeof s === "string" && DECIMAL.test(s);
}

// isZero reports whether a decimal string is zero ("0", "0.00000000").
export function isZero(s) {
  return !/[1-9]/.test(s);
}

// canon is the canonical spelling of a decimal, used as a map key so that
// "43000.10" and "43000.1" name the same price level.
export function canon(s) {
  let neg = s.startsWith("-");
  if (neg) s = s.slice(1);
  let [int, frac = ""] = s.split(".");
  int = int.replace(/^0+(?=\d)/, "");
  frac = frac.replace(/0+$/, "");
  if (isZero(int + frac)) neg = false;
  return (neg ? "-" : "") + (frac ? int + "." + frac : int);
}

// places is the number of decimal places an increment has: "0.01" -> 2,
// "0.00001" -> 5, "1" -> 0.
export function places(increment) {
  if (!isDecimal(increment)) return 0;
  const c = canon(increment);
  const dot = c.indexOf(".");
  return dot < 0 ? 0 : c.length - dot - 1;
}

// pad formats s with at least n decimal places by appending zeros. It never
// rounds or cuts: a value with more places than n keeps all of them.
export function pad(s, n) {
  if (!isDecimal(s)) return s == null ? "" : String(s);
  const dot = s.indexOf(".");
  const have = dot < 0 ? 0 : s.length - dot - 1;
  if (have >= n) return s;
  return (dot < 0 ? s + "." : s) + "0".repeat(n - have);
}

// cut shortens s to at most n decimal places by dropping digits (for compact
// volumes; the full value belongs in a title attribute).
export function cut(s, n) {
  if (!isDecimal(s)) return s == null ? "" : String(s);
  const dot = s.indexOf(".");
  if (dot < 0) return s;
  return n === 0 ? s.slice(0, dot) : s.slice(0, Math.min(s.length, dot + 1 + n));
}

// parse turns a decimal string into an integer and a scale: "1.25" -> 125n, 2.
function parse(s) {
  const neg = s.startsWith("-");
  const [int, frac = ""] = (neg ? s.slice(1) : s).split(".");
  const n = BigInt(int + frac);
  return { n: neg ? -n : n, scale: frac.length };
}

function scaled(v, scale) {
  return v.n * 10n ** BigInt(scale - v.scale);
}

function format(n, scale) {
  const neg = n < 0n;
  let digits = (neg ? -n : n).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, "0");
    digits = digits.slice(0, -scale) + "." + digits.slice(-scale);
  }
  return (neg ? "-" : "") + digits;
}

// add returns a + b exactly, with the larger of their scales.
export function add(a, b) {
  const x = parse(a), y = parse(b);
  const scale = Math.max(x.scale, y.scale);
  return format(scaled(x, scale) + scaled(y, scale), scale);
}

// sub returns a - b exactly, with the larger of their scales.
export function sub(a, b) {
  const x = parse(a), y = parse(b);
  const scale = Math.max(x.scale, y.scale);
  return format(scaled(x, scale) - scaled(y, scale), scale);
}

// cmp compares two decimal strings exactly: -1, 0 or 1.
export function cmp(a, b) {
  const x = parse(a), y = parse(b);
  const scale = Math.max(x.scale, y.scale);
  const d = scaled(x, scale) - scaled(y, scale);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

// toNumber is the float value of s, for ordering, bar widths and charts only.
export function toNumber(s) {
  return Number.parseFloat(s);
}

// Sum accumulates decimal strings exactly (the ladder's cumulative totals).
export class Sum {
  constructor() {
    this.n = 0n;
    this.scale = 0;
  }

  // add adds the decimal string s and returns the sum so far as a string.
  add(s) {
    const v = parse(s);
    if (v.scale > this.scale) {
      this.n *= 10n ** BigInt(v.scale - this.scale);
      this.scale = v.scale;
    }
    this.n += scaled(v, this.scale);
    return format(this.n, this.scale);
  }
}
