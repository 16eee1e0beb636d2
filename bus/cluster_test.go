package bus

import (
	"fmt"
	"testing"
	"time"

	"github.com/tickerfan/tickerfan/bus/bustest"
	"github.com/tickerfan/tickerfan/model"
)

// TestLateEdge: an edge that starts after the ingest has every book within
// a second, and follows the stream after.
func TestLateEdge(t *testing.T) {
	ns := bustest.Start(t)
	cfg := testConfig(ns.URL(), "a")
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

// TestSlowConsumer: events NATS drops on an edge that fell behind (a pending
// limit of 8 while its consumer is blocked) are recovered from a snapshot.
// When only the tail of the streams is lost, the Beats show it (stale); when
// events follow the loss, the Seq gap does.
func TestSlowConsumer(t *testing.T) {
	ns := bustest.Start(t)
	cfg := testConfig(ns.URL(), "a")
	in := startIngest(t, cfg)
	edgeCfg := cfg
	edgeCfg.PendingMessages = 8
	f, r := startEdge(t, edgeCfg)
	converge(t, r, in, time.Second)
	flood := func() { // every event of the flood reaches the edge, which drops most
		slow, received, published := f.n.slow.Load(), f.nc.Stats().InMsgs, in.pub.Stats().Published
		r.gate.Lock()
		in.step(300)
		sent := in.pub.Stats().Published - published
		waitFor(t, 2*time.Second, "the flood received", func() (bool, string) {
			got := f.nc.Stats().InMsgs - received // Stats would wait for the blocked consumer
			return got >= sent && f.n.slow.Load() > slow, fmt.Sprintf("%d of %d", got, sent)
		})
		r.gate.Unlock()
	}

	flood() // the tail is lost: nothing follows it
	converge(t, r, in, 2*time.Second)
	if s := f.Stats(); s.Stale == 0 || s.Gaps != 0 {
		t.Errorf("after losing the tail: stats = %+v; want stale streams and no gap", s)
	}
	flood()
	in.step(20) // events after the loss show the gap
	converge(t, r, in, 2*time.Second)
	in.step(100)
	converge(t, r, in, time.Second)
	if s := f.Stats(); s.Gaps == 0 || s.Recoveries < uint64(3*len(testProducts)) {
		t.Errorf("after a gap: stats = %+v; want gaps, every product recovered twice more", s)
	}
	if !r.sawStatus("BTC-USD", "recovering: stale: ") || !r.sawStatus("BTC-USD", "recovering: gap: ") {
		t.Errorf("statuses %v; want the stale and the gap recoveries announced", r.msgs["BTC-USD"])
	}
}

// TestNATSRestart: the NATS server is shut down while the ingest goes on, and
// started again on the same port; the edge reconnects and recovers.
func TestNATSRestart(t *testing.T) {
	ns := bustest.Start(t)
	cfg := testConfig(ns.URL(), "a")
	in := startIngest(t, cfg)
	f, r := startEdge(t, cfg)
	converge(t, r, in, time.Second)

	ns.Stop()
	waitFor(t, 2*time.Second, "edge sees the disconnection", func() (bool, string) {
		return !f.Stats().Connected && r.sawStatus("ETH-USD", "nats disconnected"), "connected"
	})
	in.step(200)
	ns.Start()
	in.step(50)
	converge(t, r, in, 3*time.Second)
	in.step(100)
	converge(t, r, in, time.Second)
	if s := f.Stats(); !s.Connected {
		t.Errorf("stats = %+v; want connected", s)
	}
}

// TestIngestRestart: an ingest restarted with the same id has a new epoch and
// a new stream; the edge drops the old one and recovers from the new.
func TestIngestRestart(t *testing.T) {
	ns := bustest.Start(t)
	cfg := testConfig(ns.URL(), "a")
	in := startIngest(t, cfg)
	in.step(50)
	f, r := startEdge(t, cfg)
	converge(t, r, in, time.Second)

	in.stop()
	in2 := startIngest(t, cfg)
	in2.step(20)
	converge(t, r, in2, 2*time.Second)
	in2.step(100)
	converge(t, r, in2, time.Second)
	s := f.Stats()
	if s.Epochs != 1 || s.Failovers != 0 {
		t.Errorf("stats = %+v; want one new epoch, no failover", s)
	}
	for _, p := range s.Products {
		if p.Epoch != in2.pub.Epoch() || p.State != "following" {
			t.Errorf("product %+v; want following epoch %d", p, in2.pub.Epoch())
		}
	}
}

// TestFailover: two ingests of the same feed; the edge follows the lowest id,
// and the other within IngestTimeout and a snapshot when it stops.
func TestFailover(t *testing.T) {
	ns := bustest.Start(t)
	a := startIngest(t, testConfig(ns.URL(), "a"))
	b := startIngest(t, testConfig(ns.URL(), "b"))
	both := func(n int) { a.step(n); b.step(n) }
	both(50)
	f, r := startEdge(t, testConfig(ns.URL(), "edge"))
	converge(t, r, a, time.Second)
	for _, p := range f.Stats().Products {
		if p.Ingest != "a" {
			t.Fatalf("product %+v follows %q, want the lowest id a", p, p.Ingest)
		}
	}

	a.stop()
	start := time.Now()
	both(30)
	waitFor(t, 3*time.Second, "failover to b", func() (bool, string) {
		ok, why := r.matches(b)
		s := f.Stats()
		return ok && s.Failovers == uint64(len(testProducts)), why
	})
	t.Logf("failed over in %v", time.Since(start))
	b.step(100)
	converge(t, r, b, time.Second)
	if !r.sawStatus("SOL-USD", "failover from ingest a to b") {
		t.Errorf("statuses %v; want the failover announced", r.msgs["SOL-USD"])
	}
}

// TestSharedIngestID: two ingests misconfigured with the same id; the edge
// follows the newer epoch and ignores the older one's beats and events.
func TestSharedIngestID(t *testing.T) {
	ns := bustest.Start(t)
	cfg := testConfig(ns.URL(), "a")
	old := startIngest(t, cfg)
	f, r := startEdge(t, cfg)
	converge(t, r, old, time.Second)
	newer := startIngest(t, cfg)
	newer.step(30)
	old.step(50)
	converge(t, r, newer, 2*time.Second)
	old.step(50)
	newer.step(50)
	converge(t, r, newer, time.Second)
	if s := f.Stats(); s.Malformed == 0 || s.Epochs != 1 {
		t.Errorf("stats = %+v; want the older beats refused, one new epoch", s)
	}
}

// TestFailoverOnUpstreamLoss: both ingests live, but one product is offline
// at the followed one (its upstream failed): the edge moves that product to
// the ingest where it is online, and leaves the others where they are.
func TestFailoverOnUpstreamLoss(t *testing.T) {
	ns := bustest.Start(t)
	a := startIngest(t, testConfig(ns.URL(), "a"))
	b := startIngest(t, testConfig(ns.URL(), "b"))
	f, r := startEdge(t, testConfig(ns.URL(), "edge"))
	converge(t, r, a, time.Second)

	a.market.Apply(model.Update{Kind: model.KindStatus, Product: "ETH-USD", Time: a.now, Message: "upstream disconnected"})
	waitFor(t, 2*time.Second, "ETH-USD moves to b", func() (bool, string) {
		s := f.Stats()
		return s.Products[1].Ingest == "b" && s.Products[1].State == "following", fmt.Sprintf("%+v", s.Products)
	})
	a.step(40)
	b.step(40)
	converge(t, r, b, time.Second) // same seed, same steps: a's books are b's
	s := f.Stats()
	if s.Products[0].Ingest != "a" || s.Products[2].Ingest != "a" || s.Failovers != 1 {
		t.Errorf("stats = %+v; want only ETH-USD moved", s)
	}
}
