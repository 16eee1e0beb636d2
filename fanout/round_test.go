package fanout

import (
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/internal/testwait"
	"github.com/tickerfan/tickerfan/model"
)

// TestRoundSendsNewestTicker holds a product's fan-out while ten trades
// queue: when it resumes, matches subscribers get every match, in order,
// and ticker subscribers the newest ticker only, not ten. A round of a few
// trades (here: one) still sends its ticker.
func TestRoundSendsNewestTicker(t *testing.T) {
	products := []model.Product{model.DefaultProducts()[0]}
	id := products[0].ID
	srv, market, addr := startMarketServer(t, Config{}, products)
	trade := func(n int64) {
		market.Apply(model.Update{Kind: model.KindTrade, Product: id, Time: time.Now(), Sequence: n,
			Trade: model.Trade{TradeID: n, Side: model.Sell, Price: decimal.New(4_000_000+n, -2), Size: decimal.New(n, -3)}})
	}
	c := dial(t, addr)
	c.send(`{"type":"subscribe","product_ids":["` + id + `"],"channels":["ticker","matches"]}`)
	c.until("subscriptions", 5*time.Second)

	top, sh := srv.hub.topics[0], srv.hub.shards[0]
	inboxLen := func() int {
		sh.mu.Lock()
		defer sh.mu.Unlock()
		return len(srv.hub.inboxes[0].evs)
	}
	top.mu.Lock() // the fan-out stalls on trade 1's round
	trade(1)
	testwait.For(t, 5*time.Second, "the fan-out to take trade 1", func() (string, bool) {
		n := inboxLen()
		return fmt.Sprintf("inbox holds %d", n), n == 0
	})
	const last = 11
	for n := int64(2); n <= last; n++ {
		trade(n) // queue behind the stalled round: the next round holds ten trades
	}
	top.mu.Unlock()

	var matches, tickers []int64
	testwait.For(t, 10*time.Second, "the ticker of the last trade", func() (string, bool) {
		m := c.next(5 * time.Second)
		switch m["type"] {
		case "match":
			matches = append(matches, int64(m["trade_id"].(float64)))
		case "ticker":
			tickers = append(tickers, int64(m["trade_id"].(float64)))
		}
		return fmt.Sprintf("matches %v, tickers %v", matches, tickers), len(tickers) > 0 && tickers[len(tickers)-1] == last
	})
	if fmt.Sprint(tickers) != "[1 11]" {
		t.Errorf("tickers %v; want trade 1's (a round of one) and then only the newest, 11", tickers)
	}
	// Matches go out before their round's ticker, on the same connection.
	for i, id := range matches {
		if len(matches) != last || id != int64(i+1) {
			t.Fatalf("matches %v; want 1 to %d in order", matches, last)
		}
	}
	if n := metricValue(t, addr, "tickerfan_tickers_superseded_total"); n != last-2 {
		t.Errorf("tickers_superseded_total %v, want %d", n, last-2)
	}
}

// TestCompactedRoundKeepsSequence fills an inbox until it compacts with a
// trade before its last update: the compacted round lists the net update
// first and the trade last, and the fan-out must still take the round's
// newest Seq as its position, or the next event looks like a gap (and
// level2 waits for a snapshot that may never come).
func TestCompactedRoundKeepsSequence(t *testing.T) {
	products := []model.Product{model.DefaultProducts()[0]}
	srv, err := New(Config{}, products, zaptest.NewLogger(t, zaptest.Level(zap.ErrorLevel)))
	if err != nil {
		t.Fatal(err)
	}
	id := products[0].ID
	update := func(seq uint64) book.Event {
		return book.Event{Kind: book.EventUpdate, Product: id, Seq: seq,
			Changes: []model.Change{{Side: model.Buy, Price: decimal.New(int64(seq), -2), Size: decimal.New(1, 0)}}}
	}
	var in inbox
	for seq := uint64(1); seq <= inboxEvents; seq++ {
		ev := update(seq)
		if seq == inboxEvents-4 {
			ev = book.Event{Kind: book.EventTrade, Product: id, Seq: seq, Trade: model.Trade{TradeID: 1, Side: model.Sell,
				Price: decimal.New(1, 0), Size: decimal.New(1, 0)}}
		}
		in.push(ev)
	}
	b := in.take(nil)
	if last := b.evs[len(b.evs)-1]; !b.merge || last.Seq == inboxEvents {
		t.Fatalf("round of %d events ending with Seq %d, merge %v: want a compacted round ending before its newest Seq",
			len(b.evs), last.Seq, b.merge)
	}
	top := srv.hub.topics[0]
	top.handleBatch(&b, srv.metrics)
	next := update(inboxEvents + 1)
	top.handle(&next, srv.metrics)
	if n := srv.metrics.streamGaps.Load(); n != 0 {
		t.Errorf("%d stream gaps after a compacted round; want none", n)
	}
}
