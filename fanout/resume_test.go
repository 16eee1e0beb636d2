package fanout

import (
	"fmt"
	"testing"
	"time"

	"github.com/tickerfan/tickerfan/internal/testwait"
)

// A client that reconnects naming the last level2 sequence it saw gets the
// updates it missed, not a snapshot, and its book is exact.
func TestResume(t *testing.T) {
	ts := startServer(t, Config{}, simOpts{updates: 200, trades: 5, products: []string{"BTC-USD"}})
	c := dial(t, ts.addr)
	c.send(`{"type":"subscribe","product_ids":["BTC-USD"],"channels":["level2"]}`)
	cb := &clientBook{}
	cb.snapshot(t, c.until("snapshot", 2*time.Second))
	for i := 0; i < 20; i++ {
		cb.update(t, c.until("l2update", 2*time.Second))
	}
	c.nc.Close()
	missed := cb.seq + 40
	testwait.For(t, 5*time.Second, "40 updates the client misses (REST sequence)", func() (string, bool) {
		seq := restSequence(t, ts.addr, "BTC-USD")
		return fmt.Sprintf("sequence %v, want %v", seq, missed), seq >= missed
	})

	c = dial(t, ts.addr)
	c.send(fmt.Sprintf(`{"type":"subscribe","product_ids":["BTC-USD"],"channels":["level2"],"resume":{"BTC-USD":%d}}`, uint64(cb.seq)))
	c.until("subscriptions", time.Second)
	first := c.next(2 * time.Second)
	if first["type"] != "l2update" || first["sequence"].(float64) != cb.seq+1 {
		t.Fatalf("after resume got %v %v, want l2update %v", first["type"], first["sequence"], cb.seq+1)
	}
	cb.update(t, first)
	ts.stop()
	var rest struct {
		Bids, Asks [][]any
		Sequence   float64
	}
	getJSON(t, "http://"+ts.addr+"/products/BTC-USD/book?level=2", &rest)
	for cb.seq < rest.Sequence {
		cb.update(t, c.until("l2update", 2*time.Second))
	}
	bids, asks := cb.b.Top(0, nil, nil)
	if fmtLevels(bids) != fmtRest(rest.Bids) || fmtLevels(asks) != fmtRest(rest.Asks) {
		t.Fatal("resumed book differs from the server's")
	}
	if ts.srv.metrics.resumes.Load() != 1 {
		t.Fatalf("resumes counter %d, want 1", ts.srv.metrics.resumes.Load())
	}

	// A sequence the server does not hold (too old, or another server's) gets a snapshot.
	for _, seen := range []uint64{1, uint64(rest.Sequence) + 1000} {
		c := dial(t, ts.addr)
		c.send(fmt.Sprintf(`{"type":"subscribe","product_ids":["BTC-USD"],"channels":["level2"],"resume":{"BTC-USD":%d}}`, seen))
		c.until("subscriptions", time.Second)
		if m := c.next(2 * time.Second); m["type"] != "snapshot" {
			t.Fatalf("resume from %d: got %v, want a snapshot", seen, m["type"])
		}
	}
}
