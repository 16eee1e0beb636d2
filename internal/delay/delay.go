// Package delay is a histogram of delays for the hot path: observing one is
// two atomic adds and no lock, and the metrics read it at scrape time. The
// fan-out uses it for how long events and frames wait, the figure an
// overloaded server is judged by.
package delay

import (
	"sync/atomic"
	"time"
)

// Bounds are the upper bounds of the buckets, in milliseconds; one more
// bucket counts everything above the last.
var Bounds = [...]uint32{1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000}

// Histogram counts delays by bucket. The zero value is ready to use.
type Histogram struct {
	counts [len(Bounds) + 1]atomic.Uint64
	sumMs  atomic.Uint64
}

// ObserveMs counts one delay of ms milliseconds.
func (h *Histogram) ObserveMs(ms uint32) {
	i := 0
	for i < len(Bounds) && ms > Bounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sumMs.Add(uint64(ms))
}

// Observe counts one delay.
func (h *Histogram) Observe(d time.Duration) {
	ms := max(d.Milliseconds(), 0)
	h.ObserveMs(uint32(min(ms, 1<<32-1)))
}

// Snapshot is a histogram's state at one moment, cumulative as Prometheus
// reports it.
type Snapshot struct {
	Count   uint64
	Seconds float64            // sum of the delays
	Buckets map[float64]uint64 // upper bound in seconds: delays at or below it
}

// Snapshot reads the counts. Observations that race with it may be half
// counted (in a bucket, not yet in the sum); the next scrape has them.
func (h *Histogram) Snapshot() Snapshot {
	s := Snapshot{Buckets: make(map[float64]uint64, len(Bounds))}
	for i, b := range Bounds {
		s.Count += h.counts[i].Load()
		s.Buckets[float64(b)/1000] = s.Count
	}
	s.Count += h.counts[len(Bounds)].Load()
	s.Seconds = float64(h.sumMs.Load()) / 1000
	return s
}
