package bus

import (
	"testing"
	"time"
)

// TestLateEdge: an edge that starts after the ingest has every book within
// a second, and follows the stream after.
func TestLateEdge(t *testing.T) {
	ns := startNATS(t)
	cfg := testConfig(ns.url(), "a")
	in := startIngest(t, cfg)
	in.step(100)
	start := time.Now()
	f, r := startEdge(t, cfg)
	converge(t, r, in, time.Second)
	t.Logf("late edge converged in %v", time.Since(start))
	in.step(200)
	converge(t, r, in, time.Second)
	if s := f.Stats(); s.Gaps != 0 || s.Recoveries != uint64(len(testProducts)) || s.Events == 0 {
		t.Errorf("stats = %+v; want no gap, one recovery per product, events", s)
	}
	if !r.sawStatus("BTC-USD", "recovering: following ingest a") {
		t.Errorf("no offline status while recovering: %v", r.msgs["BTC-USD"])
	}
}
