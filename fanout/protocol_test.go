package fanout

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/internal/testwait"
	"github.com/tickerfan/tickerfan/model"
)

var decimalRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// clientBook is what a client keeps from snapshot + l2update, with the checks
// PROTOCOL.md promises: snapshot first, never an unknown removal, never a cross.
type clientBook struct {
	b   *book.Book
	seq float64
}

func decimalField(t *testing.T, m map[string]any, key string) decimal.Decimal {
	t.Helper()
	s, ok := m[key].(string)
	if !ok || !decimalRE.MatchString(s) {
		t.Fatalf("%s: %q is not an exact decimal string in %v", key, m[key], m)
	}
	return decimal.RequireFromString(s)
}

func levelsOf(t *testing.T, v any) []model.Level {
	t.Helper()
	var out []model.Level
	for _, raw := range v.([]any) {
		pair := raw.([]any)
		for _, s := range pair[:2] {
			if !decimalRE.MatchString(s.(string)) {
				t.Fatalf("level %v is not exact decimal strings", pair)
			}
		}
		out = append(out, model.Level{Price: decimal.RequireFromString(pair[0].(string)), Size: decimal.RequireFromString(pair[1].(string))})
	}
	return out
}

func (cb *clientBook) snapshot(t *testing.T, m map[string]any) {
	t.Helper()
	cb.b = book.New(m["product_id"].(string))
	if err := cb.b.ApplySnapshot(levelsOf(t, m["bids"]), levelsOf(t, m["asks"])); err != nil {
		t.Fatalf("snapshot does not make a valid book: %v", err)
	}
	cb.seq = m["sequence"].(float64)
}

func (cb *clientBook) update(t *testing.T, m map[string]any) {
	t.Helper()
	if err := cb.apply(m); err != nil {
		t.Fatal(err)
	}
}

// apply checks and applies one l2update: it must follow the snapshot, carry
// the next sequence, and every change must apply to the client's book.
func (cb *clientBook) apply(m map[string]any) error {
	if cb.b == nil {
		return fmt.Errorf("l2update before snapshot: %v", m)
	}
	seq := m["sequence"].(float64)
	if seq != cb.seq+1 {
		return fmt.Errorf("%s l2update sequence %v after %v", m["product_id"], seq, cb.seq)
	}
	cb.seq = seq
	for _, raw := range m["changes"].([]any) {
		c := raw.([]any)
		side, err := model.ParseSide(c[0].(string))
		if err != nil {
			return fmt.Errorf("bad side in %v", c)
		}
		price, err1 := decimal.NewFromString(c[1].(string))
		size, err2 := decimal.NewFromString(c[2].(string))
		if err1 != nil || err2 != nil || !decimalRE.MatchString(c[1].(string)) || !decimalRE.MatchString(c[2].(string)) {
			return fmt.Errorf("change %v is not exact decimal strings", c)
		}
		if err := cb.b.Apply(model.Change{Side: side, Price: price, Size: size}); err != nil {
			return fmt.Errorf("%s update %v does not apply to the client's book: %v", m["product_id"], c, err)
		}
	}
	return nil
}

func TestSubscribeFlow(t *testing.T) {
	ts := startServer(t, Config{}, simOpts{updates: 200, trades: 20})
	waitTrades(t, ts.addr, "BTC-USD", "ETH-USD")
	c := dial(t, ts.addr)
	c.send(`{"type":"subscribe","product_ids":["BTC-USD","ETH-USD"],"channels":["level2","ticker","matches","heartbeat"]}`)

	first := c.next(2 * time.Second)
	if first["type"] != "subscriptions" {
		t.Fatalf("first message is %v, want subscriptions", first)
	}
	want := `[map[name:heartbeat product_ids:[BTC-USD ETH-USD]] map[name:ticker product_ids:[BTC-USD ETH-USD]] ` +
		`map[name:level2 product_ids:[BTC-USD ETH-USD]] map[name:matches product_ids:[BTC-USD ETH-USD]]]`
	if got := fmt.Sprint(first["channels"]); got != want {
		t.Fatalf("subscriptions channels:\n got %s\nwant %s", got, want)
	}

	books := map[string]*clientBook{"BTC-USD": {}, "ETH-USD": {}}
	lastSeq := map[string]float64{}
	counts := map[string]int{}
	var beats []time.Time
	deadline := time.Now().Add(3500 * time.Millisecond)
	for time.Now().Before(deadline) {
		m := c.next(2 * time.Second)
		typ, _ := m["type"].(string)
		counts[typ]++
		id, _ := m["product_id"].(string)
		switch typ {
		case "snapshot":
			books[id].snapshot(t, m)
		case "l2update":
			books[id].update(t, m)
		case "ticker", "match":
			for _, k := range []string{"price", "open_24h", "volume_24h", "best_bid", "best_ask", "last_size", "size"} {
				if _, ok := m[k]; ok {
					decimalField(t, m, k)
				}
			}
			seq := m["sequence"].(float64)
			if key := typ + id; seq <= lastSeq[key] {
				t.Fatalf("%s sequence %v after %v", typ, seq, lastSeq[key])
			} else {
				lastSeq[key] = seq
			}
		case "heartbeat":
			if id == "BTC-USD" {
				beats = append(beats, time.Now())
			}
		}
	}
	for _, typ := range []string{"snapshot", "l2update", "ticker", "match", "heartbeat", "last_match"} {
		if counts[typ] == 0 {
			t.Errorf("no %s message in 3.5s (got %v)", typ, counts)
		}
	}
	if counts["snapshot"] != 2 {
		t.Errorf("got %d snapshots, want one per product", counts["snapshot"])
	}
	if len(beats) < 3 {
		t.Errorf("got %d BTC-USD heartbeats in 3.5s, want one a second", len(beats))
	}
	for i := 1; i < len(beats); i++ {
		if gap := beats[i].Sub(beats[i-1]); gap < 500*time.Millisecond || gap > 1500*time.Millisecond {
			t.Errorf("heartbeats %s apart, want about 1s", gap)
		}
	}

	// Stop the feed; the client's book must then equal the server's exactly.
	ts.stop()
	for id, cb := range books {
		var rest struct {
			Bids, Asks [][]any
			Sequence   float64
		}
		getJSON(t, "http://"+ts.addr+"/products/"+id+"/book?level=2", &rest)
		for cb.seq < rest.Sequence {
			m := c.until("l2update", 2*time.Second)
			books[m["product_id"].(string)].update(t, m)
		}
		if cb.seq != rest.Sequence {
			t.Fatalf("%s: client at sequence %v, server at %v", id, cb.seq, rest.Sequence)
		}
		bids, asks := cb.b.Top(0, nil, nil)
		if got, want := fmtLevels(bids), fmtRest(rest.Bids); got != want {
			t.Errorf("%s bids differ:\nclient %s\nserver %s", id, got, want)
		}
		if got, want := fmtLevels(asks), fmtRest(rest.Asks); got != want {
			t.Errorf("%s asks differ:\nclient %s\nserver %s", id, got, want)
		}
	}
}

// waitTrades polls REST until every product has traded, so last_match exists.
func waitTrades(t *testing.T, addr string, ids ...string) {
	t.Helper()
	for _, id := range ids {
		testwait.For(t, 10*time.Second, id+" to trade (REST /trades)", func() (string, bool) {
			var trades []map[string]any
			getJSON(t, "http://"+addr+"/products/"+id+"/trades", &trades)
			return fmt.Sprintf("%d trades", len(trades)), len(trades) > 0
		})
	}
}

func fmtLevels(ls []model.Level) string {
	s := ""
	for _, l := range ls {
		s += l.Price.String() + "@" + l.Size.String() + " "
	}
	return s
}

func fmtRest(ls [][]any) string {
	s := ""
	for _, l := range ls {
		s += decimal.RequireFromString(l[0].(string)).String() + "@" + decimal.RequireFromString(l[1].(string)).String() + " "
	}
	return s
}
