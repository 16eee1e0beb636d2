package bench

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Ingest compares what the tickerbench upstream sent in the window with what
// the server says it read (tickerfan_upstream_messages_total): a ratio
// below 1 is a backlog in the server's upstream socket, staleness every
// subscriber inherits. Heartbeats are in Read and not in Offered, about 1
// message a second per product.
type Ingest struct {
	Offered    int64   `json:"offered"`
	Read       int64   `json:"read"`
	OfferedPer float64 `json:"offered_per_sec"`
	ReadPer    float64 `json:"read_per_sec"`
	Ratio      float64 `json:"ratio"`
}

// ingest reads the window's Ingest; nil without the upstream or the
// server's counter.
func ingest(fromSent, toSent []Sent, from, to Metrics, secs float64) *Ingest {
	const name = "tickerfan_upstream_messages_total"
	a, okA := from[name]
	b, okB := to[name]
	if fromSent == nil || toSent == nil || !okA || !okB || secs <= 0 {
		return nil
	}
	in := &Ingest{Read: int64(math.Round(b - a))}
	for i := range min(len(fromSent), len(toSent)) {
		f, t := fromSent[i], toSent[i]
		in.Offered += t.L2Updates - f.L2Updates + t.Matches - f.Matches + t.Tickers - f.Tickers
	}
	in.OfferedPer, in.ReadPer = round3(float64(in.Offered)/secs), round3(float64(in.Read)/secs)
	in.Ratio = ratio(in.Read, in.Offered)
	return in
}

// ServerDelays are the server's own measures of how long what it sends
// waits, over the window, from its histograms: in the fan-out's inbox
// (tickerfan_fanout_delay_seconds) and in a connection's queue
// (tickerfan_write_delay_seconds). Staleness as measured here minus these is
// what the kernel's buffers and this tool's own reading add.
type ServerDelays struct {
	Fanout *DelayQuantiles `json:"fanout,omitempty"`
	Write  *DelayQuantiles `json:"write,omitempty"`
}

// DelayQuantiles are bucket bounds: p50 of 0.005 means half the
// observations were at most 5 ms.
type DelayQuantiles struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean_s"`
	P50   float64 `json:"p50_le_s"`
	P99   float64 `json:"p99_le_s"`
}

// serverDelays reads the window's delay histograms; nil when the server
// has none.
func serverDelays(from, to Metrics) *ServerDelays {
	d := &ServerDelays{
		Fanout: delayQuantiles(from, to, "tickerfan_fanout_delay_seconds"),
		Write:  delayQuantiles(from, to, "tickerfan_write_delay_seconds"),
	}
	if d.Fanout == nil && d.Write == nil {
		return nil
	}
	return d
}

func delayQuantiles(from, to Metrics, name string) *DelayQuantiles {
	count := to[name+"_count"] - from[name+"_count"]
	if count <= 0 {
		return nil
	}
	type bucket struct{ le, n float64 }
	var bs []bucket
	prefix := name + `_bucket{le="`
	for k, v := range to {
		if le, ok := strings.CutPrefix(k, prefix); ok {
			bound, err := strconv.ParseFloat(strings.TrimSuffix(le, `"}`), 64)
			if err == nil {
				bs = append(bs, bucket{bound, v - from[k]})
			}
		}
	}
	slices.SortFunc(bs, func(a, b bucket) int { return cmp.Compare(a.le, b.le) })
	q := func(p float64) float64 {
		for _, b := range bs {
			if b.n >= p*count {
				return b.le
			}
		}
		return math.Inf(1)
	}
	return &DelayQuantiles{Count: int64(count), Mean: round3((to[name+"_sum"] - from[name+"_sum"]) / count),
		P50: q(0.5), P99: q(0.99)}
}
