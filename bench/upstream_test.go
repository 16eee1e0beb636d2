package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/tickerfan/tickerfan/internal/testwait"
)

// upMsg is what the test decodes of an upstream message.
type upMsg struct {
	Type      string          `json:"type"`
	ProductID string          `json:"product_id"`
	Sequence  int64           `json:"sequence"`
	TradeID   int64           `json:"trade_id"`
	Time      string          `json:"time"`
	Bids      [][2]string     `json:"bids"`
	Changes   [][3]string     `json:"changes"`
	Channels  json.RawMessage `json:"channels"`
	Reason    string          `json:"reason"`
}

// TestUpstreamSpeaksCoinbase subscribes to the upstream as a feed would and
// checks the protocol: subscriptions reply, snapshot before updates, one
// increasing sequence per product, time stamped at sending, and send
// counters that match what arrived.
func TestUpstreamSpeaksCoinbase(t *testing.T) {
	up, nc := subscribeUpstream(t, UpstreamConfig{Products: 3, UpdatesPerSecond: 200, TradesPerSecond: 20, Depth: 5},
		`{"type":"subscribe","product_ids":["T001-USD","T002-USD"],"channels":["level2","matches",{"name":"ticker","product_ids":["T001-USD"]},"heartbeat","full"]}`)
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	counts := map[string]map[string]int64{}
	last := map[string]int64{}
	snap := map[string]bool{}
	var errorsSeen, subscriptions int
	deadline := time.Now().Add(1500 * time.Millisecond)
	for time.Now().Before(deadline) {
		data, err := wsutil.ReadServerText(nc)
		if err != nil {
			t.Fatal(err)
		}
		var m upMsg
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("bad JSON %q: %v", data, err)
		}
		switch m.Type {
		case "subscriptions":
			subscriptions++
			continue
		case "error":
			errorsSeen++
			continue
		case "snapshot":
			snap[m.ProductID] = len(m.Bids) == 5
		case "l2update", "match", "ticker", "heartbeat":
			if !snap[m.ProductID] {
				t.Fatalf("%s of %s before its snapshot", m.Type, m.ProductID)
			}
			ts, err := time.Parse(time.RFC3339Nano, m.Time)
			if err != nil || time.Since(ts) > time.Second || time.Since(ts) < 0 {
				t.Fatalf("%s time %q: not a send time (%v)", m.Type, m.Time, err)
			}
		}
		if m.ProductID == "T003-USD" || (m.Type == "ticker" && m.ProductID != "T001-USD") {
			t.Fatalf("%s of %s, not subscribed", m.Type, m.ProductID)
		}
		key := m.ProductID // the product's sequence; level2 has its own
		if m.Type == "snapshot" || m.Type == "l2update" {
			key += "/level2"
		}
		prev := last[key]
		switch {
		case m.Type == "heartbeat" && m.Sequence < prev, m.Type == "ticker" && m.Sequence != prev,
			m.Type == "match" && m.Sequence <= prev, m.Type == "l2update" && m.Sequence != prev+1:
			t.Fatalf("%s of %s: sequence %d after %d", m.Type, m.ProductID, m.Sequence, prev)
		}
		last[key] = m.Sequence
		if counts[m.ProductID] == nil {
			counts[m.ProductID] = map[string]int64{}
		}
		counts[m.ProductID][m.Type]++
	}
	if subscriptions != 1 || errorsSeen != 1 {
		t.Fatalf("%d subscriptions replies and %d errors; want 1 each (full is not served)", subscriptions, errorsSeen)
	}
	nc.Close()
	testwait.For(t, 5*time.Second, "the upstream to drop the closed connection", func() (string, bool) {
		n := up.Connections()
		return fmt.Sprintf("%d connections", n), n == 0
	})
	for _, s := range up.Sent()[:2] {
		got := counts[s.Product]
		if got["l2update"] < 100 || got["match"] < 5 || got["heartbeat"] < 1 {
			t.Fatalf("%s: received %v in 1.5 s at 200 updates/s and 20 trades/s", s.Product, got)
		}
		// The counters may be ahead by what was in flight when we stopped.
		if s.L2Updates < got["l2update"] || s.L2Updates > got["l2update"]+50 || s.Matches < got["match"] {
			t.Fatalf("%s: sent %+v, received %v", s.Product, s, got)
		}
	}
	if s := up.Sent()[2]; s.L2Updates != 0 {
		t.Fatalf("T003-USD was not subscribed but %d updates were counted", s.L2Updates)
	}
}

func TestUpstreamConfigValidate(t *testing.T) {
	if err := (UpstreamConfig{}).Validate(); err != nil {
		t.Fatalf("zero config: %v", err)
	}
	err := UpstreamConfig{Products: -1, UpdatesPerSecond: 1e9, Tick: time.Hour}.Validate()
	for _, want := range []string{"products", "updates_per_second", "tick"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
}

// TestUpstreamFreezeBooks follows one product's level2 as a feed would,
// freezes the upstream and checks that the sends stop, the connection stays
// (heartbeats go on), and the book followed is the one Books reports.
func TestUpstreamFreezeBooks(t *testing.T) {
	up, nc := subscribeUpstream(t, UpstreamConfig{Products: 2, UpdatesPerSecond: 500, TradesPerSecond: 50, Depth: 4},
		`{"type":"subscribe","product_ids":["T002-USD"],"channels":["level2","matches","heartbeat"]}`)
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var book l2Book
	var in interner
	var l2updates int64
	// follow reads until stop says so, applying level2 to book.
	follow := func(stop func(m upMsg) bool) {
		for {
			data, err := wsutil.ReadServerText(nc)
			if err != nil {
				t.Fatalf("after %d updates: %v", l2updates, err)
			}
			var m upMsg
			json.Unmarshal(data, &m)
			if m.Type == "snapshot" || m.Type == "l2update" {
				book.apply(m.Type == "snapshot", data, &in)
			}
			if m.Type == "l2update" {
				l2updates++
			}
			if stop(m) {
				return
			}
		}
	}
	follow(func(upMsg) bool { return l2updates == 50 })
	up.FreezeBooks()
	frozenAt := time.Now()
	// A heartbeat stamped after the freeze comes after everything sent before it.
	follow(func(m upMsg) bool {
		ts, _ := time.Parse(time.RFC3339Nano, m.Time)
		return m.Type == "heartbeat" && ts.After(frozenAt)
	})
	sent := up.Sent()[1]
	if sent.L2Updates != l2updates {
		t.Fatalf("sent %+v; received %d l2updates", sent, l2updates)
	}
	books := up.Books()
	want, ok := books["T002-USD"]
	if len(books) != 1 || !ok || want.Feeds != 1 || len(want.Bids) != 4 || len(want.Asks) != 4 {
		t.Fatalf("books %+v; want T002-USD's, 4 levels a side, one feed", books)
	}
	for side, levels := range [][]Level{want.Bids, want.Asks} {
		got := book.sides[side].toMap()
		for _, lv := range levels {
			if got[lv.Price] != lv.Size {
				t.Errorf("side %d price %s: upstream %s, followed %q", side, lv.Price, lv.Size, got[lv.Price])
			}
		}
		if len(got) != len(levels) {
			t.Errorf("side %d: followed %d levels, upstream %d", side, len(got), len(levels))
		}
	}
	if again := up.Sent()[1]; again != sent {
		t.Fatalf("sent %+v after the freeze, %+v before", again, sent)
	}
}

// subscribeUpstream starts an upstream of cfg, connects to it as a feed
// would and sends sub. Both close with the test.
func subscribeUpstream(t *testing.T, cfg UpstreamConfig, sub string) (*Upstream, net.Conn) {
	t.Helper()
	up, err := StartUpstream("127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { up.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nc, _, _, err := ws.Dial(ctx, up.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	if err := wsutil.WriteClientText(nc, []byte(sub)); err != nil {
		t.Fatal(err)
	}
	return up, nc
}
