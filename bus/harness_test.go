package bus

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/feed/sim"
	"github.com/tickerfan/tickerfan/internal/testwait"
	"github.com/tickerfan/tickerfan/model"
)

// testProducts are the products of the test cluster.
var testProducts = []string{"BTC-USD", "ETH-USD", "SOL-USD"}

// testConfig makes failover and recovery fast enough for short tests.
func testConfig(url, id string) Config {
	return Config{Role: RoleBoth, URL: url, IngestID: id, HeartbeatInterval: 50 * time.Millisecond,
		IngestTimeout: 400 * time.Millisecond, SnapshotTimeout: 200 * time.Millisecond, StaleTimeout: 200 * time.Millisecond}
}

// waitFor polls cond until it holds or d passes, then fails with what cond
// last reported.
func waitFor(t *testing.T, d time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	testwait.For(t, d, what, func() (string, bool) {
		ok, last := cond()
		return last, ok
	})
}

// testIngest is an ingest driven step by step by the test: a simulator, a
// Market and a Publisher on their own NATS connection.
type testIngest struct {
	t      *testing.T
	nc     *nats.Conn
	market *book.Market
	pub    *Publisher
	feed   *sim.Feed
	now    time.Time
}

func products(ids []string) []model.Product {
	var ps []model.Product
	for _, id := range ids {
		ps = append(ps, model.Product{ID: id}.WithDefaults())
	}
	return ps
}

func startIngest(t *testing.T, cfg Config) *testIngest {
	t.Helper()
	nc, err := Connect(cfg, "ingest "+cfg.IngestID, nil)
	if err != nil {
		t.Fatal(err)
	}
	feeds := map[string]string{}
	for _, id := range testProducts {
		feeds[id] = "sim"
	}
	pub, err := NewPublisher(nc, cfg, feeds, nil)
	if err != nil {
		t.Fatal(err)
	}
	market, err := book.NewMarket(book.Config{}, products(testProducts), pub.Publish, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := sim.New("sim", sim.Config{Seed: 7, Depth: 20, UpdatesPerSecond: 200, TradesPerSecond: 10}, products(testProducts))
	if err != nil {
		t.Fatal(err)
	}
	in := &testIngest{t: t, nc: nc, market: market, pub: pub, feed: f, now: time.Now()}
	f.Announce(in.now, market.Apply)
	if err := pub.Start(market); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.stop)
	return in
}

// step advances the simulation n ticks.
func (in *testIngest) step(n int) {
	for range n {
		in.now = in.now.Add(20 * time.Millisecond)
		in.feed.Step(in.now, in.market.Apply)
	}
}

// stop stops the ingest as a killed process would: no goodbye.
func (in *testIngest) stop() {
	if in.nc.IsClosed() {
		return
	}
	in.pub.Stop()
	in.nc.Close()
}

// replica is what fanout does with a Follower's stream, reduced to what the
// tests check: the local Seq never skips, the books, the statuses.
type replica struct {
	t    *testing.T
	gate sync.Mutex // held by a test to make the edge a slow consumer
	mu   sync.Mutex
	seq  map[string]uint64
	book map[string]*book.Book
	on   map[string]bool
	msgs map[string][]string // status messages seen, in order
	last map[string]int64    // the last trade id seen
	errs []string
}

func newReplica(t *testing.T) *replica {
	return &replica{t: t, seq: map[string]uint64{}, book: map[string]*book.Book{}, on: map[string]bool{}, msgs: map[string][]string{}, last: map[string]int64{}}
}

func (r *replica) publish(ev book.Event) {
	r.gate.Lock()
	r.gate.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if ev.Seq != r.seq[ev.Product]+1 {
		r.errs = append(r.errs, fmt.Sprintf("%s: seq %d after %d", ev.Product, ev.Seq, r.seq[ev.Product]))
	}
	r.seq[ev.Product] = ev.Seq
	switch ev.Kind {
	case book.EventSnapshot:
		b := book.New(ev.Product)
		if err := b.ApplySnapshot(ev.Bids, ev.Asks); err != nil {
			r.errs = append(r.errs, ev.Product+": snapshot: "+err.Error())
		}
		r.book[ev.Product] = b
	case book.EventUpdate:
		b := r.book[ev.Product]
		if b == nil {
			r.errs = append(r.errs, ev.Product+": update before any snapshot")
			return
		}
		for _, c := range ev.Changes {
			if err := b.Apply(c); err != nil {
				r.errs = append(r.errs, ev.Product+": change: "+err.Error())
			}
		}
	case book.EventTrade:
		id, last := ev.Trade.TradeID, r.last[ev.Product]
		if last != 0 && id > last+1 {
			r.errs = append(r.errs, fmt.Sprintf("%s: trade %d after %d", ev.Product, id, last))
		}
		r.last[ev.Product] = id // a restarted simulator starts again at 1
	case book.EventStatus:
		r.on[ev.Product] = ev.Online
		r.msgs[ev.Product] = append(r.msgs[ev.Product], ev.Message)
	}
}

// sawStatus reports whether product was offline with a message containing s.
func (r *replica) sawStatus(product, s string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.msgs[product] {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

func render(ls []model.Level) string {
	var b strings.Builder
	for _, l := range ls {
		fmt.Fprintf(&b, "%s:%s ", l.Price, l.Size)
	}
	return b.String()
}

// matches reports whether every product is online in r with exactly the
// ingest's book, and describes the first difference.
func (r *replica) matches(in *testIngest) (bool, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errs) > 0 {
		r.t.Fatalf("edge stream broken: %v", r.errs)
	}
	for _, id := range testProducts {
		snap, _ := in.market.Snapshot(id)
		b := r.book[id]
		if b == nil {
			return false, id + ": no book"
		}
		if !r.on[id] {
			return false, fmt.Sprintf("%s: offline %q", id, r.msgs[id])
		}
		bids, asks := b.Top(0, nil, nil)
		if render(bids) != render(snap.Bids) || render(asks) != render(snap.Asks) {
			return false, fmt.Sprintf("%s: book differs at ingest seq %d", id, snap.Seq)
		}
		if r.last[id] < snap.Ticker.TradeID { // above it after a restarted simulator
			return false, fmt.Sprintf("%s: last trade %d, the ingest's %d", id, r.last[id], snap.Ticker.TradeID)
		}
	}
	return true, ""
}

// startEdge starts a Follower of testProducts into a new replica.
func startEdge(t *testing.T, cfg Config) (*Follower, *replica) {
	t.Helper()
	nc, err := Connect(cfg, "edge", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	r := newReplica(t)
	f, err := NewFollower(nc, cfg, testProducts, r.publish, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Stop)
	return f, r
}

// converge waits until the edge's books equal the ingest's.
func converge(t *testing.T, r *replica, in *testIngest, d time.Duration) {
	t.Helper()
	waitFor(t, d, "edge books equal the ingest's", func() (bool, string) { return r.matches(in) })
}
