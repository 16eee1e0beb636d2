package bench

import (
	"math"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// msgKind is the type of a server message, as far as the bench tells them
// apart. It indexes per-type counters and latency histograms.
type msgKind uint8

const (
	kindL2Update msgKind = iota
	kindSnapshot
	kindTicker
	kindMatch
	kindLastMatch
	kindHeartbeat
	kindSubscriptions
	kindError
	kindOther
	numKinds
)

var kindNames = [numKinds]string{
	kindL2Update: "l2update", kindSnapshot: "snapshot", kindTicker: "ticker", kindMatch: "match", kindLastMatch: "last_match",
	kindHeartbeat: "heartbeat", kindSubscriptions: "subscriptions", kindError: "error", kindOther: "other",
}

// String returns the wire type name.
func (k msgKind) String() string { return kindNames[k] }

// kindOf classifies a message by its raw "type".
func kindOf(t []byte) msgKind {
	switch string(t) { // compared in place, no allocation
	case "l2update":
		return kindL2Update
	case "snapshot":
		return kindSnapshot
	case "ticker":
		return kindTicker
	case "match":
		return kindMatch
	case "last_match":
		return kindLastMatch
	case "heartbeat":
		return kindHeartbeat
	case "subscriptions":
		return kindSubscriptions
	case "error":
		return kindError
	}
	return kindOther
}

// Subscriber groups: the slow-consumer mode measures the two apart.
const (
	groupNormal = iota
	groupSlow
	numGroups
)

var groupNames = [numGroups]string{"normal", "slow"}

// Latency histograms hold nanoseconds from 1 µs to 100 s at 3 significant
// digits: 0.1% resolution at any magnitude, about 150 KB each.
const (
	histLowest  = 1_000
	histHighest = 100_000_000_000
	histDigits  = 3
)

func newHist() *hdrhistogram.Histogram {
	return hdrhistogram.New(histLowest, histHighest, histDigits)
}

// record adds v (ns) to *h, creating the histogram on first use, clamping to
// its range so that no sample is lost.
func record(h **hdrhistogram.Histogram, v int64) {
	if *h == nil {
		*h = newHist()
	}
	(*h).RecordValue(min(max(v, histLowest), histHighest))
}

// mergeHist adds from into *into, creating it if needed.
func mergeHist(into **hdrhistogram.Histogram, from *hdrhistogram.Histogram) {
	if from == nil {
		return
	}
	if *into == nil {
		*into = newHist()
	}
	(*into).Merge(from)
}

// l2Tally is the level-2 sequence accounting of one window (see
// stream.level2): Expected is how many messages the sequence numbers say the
// subscribers were sent, Delivered how many arrived.
type l2Tally struct {
	Expected    int64 `json:"expected"`
	Delivered   int64 `json:"delivered"`
	Gaps        int64 `json:"gaps"`         // jumps in an l2update sequence
	GapMessages int64 `json:"gap_messages"` // messages missing in those jumps
	OutOfOrder  int64 `json:"out_of_order"` // updates at or below the last sequence
	Conflated   int64 `json:"conflated"`    // updates skipped by a resync snapshot
	Resyncs     int64 `json:"resyncs"`      // snapshots after the first of a stream
}

func (t *l2Tally) add(o l2Tally) {
	t.Expected += o.Expected
	t.Delivered += o.Delivered
	t.Gaps += o.Gaps
	t.GapMessages += o.GapMessages
	t.OutOfOrder += o.OutOfOrder
	t.Conflated += o.Conflated
	t.Resyncs += o.Resyncs
}

// productTally counts one product's messages in a window.
type productTally struct {
	msgs       int64
	gaps       int64
	outOfOrder int64 // on any sequenced stream
}

// tally is what one reader counted for one subscriber group during one
// window. The reader's mu must be held to touch it.
type tally struct {
	msgs       [numKinds]int64
	bytes      int64
	lat        [numKinds]*hdrhistogram.Histogram
	latAll     *hdrhistogram.Histogram
	stale      *hdrhistogram.Histogram // every message with a time, state included (staleness)
	negLatency int64                   // messages stamped later than received (clock skew)
	outOfOrder int64                   // ticker, match, heartbeat sequences going back
	l2         l2Tally
	products   []productTally
}

func newTally(products int) *tally { return &tally{products: make([]productTally, products)} }

// add merges o into t.
func (t *tally) add(o *tally) {
	for k := range t.msgs {
		t.msgs[k] += o.msgs[k]
		mergeHist(&t.lat[k], o.lat[k])
	}
	mergeHist(&t.latAll, o.latAll)
	mergeHist(&t.stale, o.stale)
	t.bytes += o.bytes
	t.negLatency += o.negLatency
	t.outOfOrder += o.outOfOrder
	t.l2.add(o.l2)
	for i := range o.products {
		p, q := &t.products[i], o.products[i]
		p.msgs += q.msgs
		p.gaps += q.gaps
		p.outOfOrder += q.outOfOrder
	}
}

func (t *tally) messages() int64 {
	var n int64
	for _, m := range t.msgs {
		n += m
	}
	return n
}

// Latency summarizes a latency histogram in milliseconds.
type Latency struct {
	Count int64   `json:"count"`
	Min   float64 `json:"min_ms"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p99_9_ms"`
	Max   float64 `json:"max_ms"`
}

func summarize(h *hdrhistogram.Histogram) Latency {
	if h == nil || h.TotalCount() == 0 {
		return Latency{}
	}
	ms := func(ns int64) float64 { return round3(float64(ns) / 1e6) }
	return Latency{
		Count: h.TotalCount(),
		Min:   ms(h.Min()),
		Mean:  round3(h.Mean() / 1e6),
		P50:   ms(h.ValueAtQuantile(50)),
		P90:   ms(h.ValueAtQuantile(90)),
		P99:   ms(h.ValueAtQuantile(99)),
		P999:  ms(h.ValueAtQuantile(99.9)),
		Max:   ms(h.Max()),
	}
}

// Percentile is one point of a latency distribution: the latency at or
// below which Percent of the messages arrived.
type Percentile struct {
	Percent float64 `json:"percent"`
	Ms      float64 `json:"ms"`
}

// distribution samples h at percentiles spaced evenly on the 1/(1-p) scale
// HDR plots use, from 0 to 99.999 and the maximum.
func distribution(h *hdrhistogram.Histogram) []Percentile {
	if h == nil || h.TotalCount() == 0 {
		return nil
	}
	var out []Percentile
	for i := 0; i <= 50; i++ {
		p := 100 * (1 - math.Pow(10, -float64(i)/10)) // 0, 20.6, ... 99.999
		out = append(out, Percentile{Percent: round3(p), Ms: round3(float64(h.ValueAtQuantile(p)) / 1e6)})
	}
	return append(out, Percentile{Percent: 100, Ms: round3(float64(h.Max()) / 1e6)})
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return round4(float64(a) / float64(b))
}

func round4(v float64) float64 { return math.Round(v*10000) / 10000 }
