// Message rate and latency. Latency is the message's `time` (set by the
// server when the event happened) against this machine's clock, so it includes
// any clock skew between the two; on one machine it is the true delay.

const TIME = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/;

// parseTime reads an RFC 3339 time with up to microseconds into epoch
// milliseconds with a fraction; NaN when it is not one.
export function parseTime(s) {
  const m = typeof s === "string" ? TIME.exec(s) : null;
  if (!m) return NaN;
  const whole = Date.parse(m[1] + m[3]);
  return whole + (m[2] ? Number("0." + m[2]) * 1000 : 0);
}

// now is the wall clock in epoch milliseconds with a sub-millisecond fraction.
export function now() {
  return performance.timeOrigin + performance.now();
}

const maxSamples = 4096;

// Meter counts messages and latency samples and sums them up once a second.
export class Meter {
  constructor() {
    this.total = 0;
    this.count = 0;
    this.samples = [];
    this.since = performance.now();
    this.rate = 0; // messages per second over the last period
    this.latency = null; // {p50, max} in ms over the last period, or null
  }

  // message records one message and, when it has a time, its latency.
  message(time) {
    this.total++;
    this.count++;
    if (time !== undefined && this.samples.length < maxSamples) {
      const t = parseTime(time);
      if (!Number.isNaN(t)) this.samples.push(now() - t);
    }
  }

  // roll closes the period: it computes rate and latency and starts anew.
  roll() {
    const t = performance.now();
    const secs = (t - this.since) / 1000;
    this.rate = secs > 0 ? this.count / secs : 0;
    if (this.samples.length > 0) {
      const s = this.samples.sort((a, b) => a - b);
      this.latency = { p50: s[s.length >> 1], max: s[s.length - 1] };
    } else {
      this.latency = null;
    }
    this.count = 0;
    this.samples = [];
    this.since = t;
  }
}
