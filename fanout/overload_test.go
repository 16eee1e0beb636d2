package fanout

import (
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/internal/testwait"
	"github.com/tickerfan/tickerfan/model"
)

// TestIngestNeverBlockedByStalledFanout stalls a product's fan-out (its
// topic lock held, as a fan-out far behind would be) while the book publishes
// 200,000 events: the ingest must finish regardless, the product's inbox stay
// bounded, and once the fan-out resumes the subscriber must reach exactly
// the book's state with a few merged l2updates, its sequence unbroken. On a
// publisher that waits for the fan-out, the ingest stops at the queue bound.
func TestIngestNeverBlockedByStalledFanout(t *testing.T) {
	products := []model.Product{model.DefaultProducts()[0]}
	id := products[0].ID
	srv, market, addr := startMarketServer(t, Config{}, products)
	px := func(i int64) decimal.Decimal { return decimal.New(4_000_000+i, -2) }
	lots := func(i int64) decimal.Decimal { return decimal.New(1+i%7, -3) }
	market.Apply(model.Update{Kind: model.KindSnapshot, Product: id, Time: time.Now(),
		Bids: []model.Level{{Price: px(0), Size: lots(0)}}, Asks: []model.Level{{Price: px(10_000), Size: lots(1)}}})

	c := dial(t, addr)
	c.send(`{"type":"subscribe","product_ids":["` + id + `"],"channels":["level2","ticker","matches"]}`)
	cb := &clientBook{}
	cb.snapshot(t, c.until("snapshot", 5*time.Second))
	// A level2_batch subscriber with checksums: the batch stream's net
	// changes and checksums must stay exact through the backlog too.
	cs := dial(t, addr)
	cs.send(`{"type":"subscribe","product_ids":["` + id + `"],"channels":["level2_batch"],"checksum":true}`)
	csb := &clientBook{}
	csb.snapshot(t, cs.until("snapshot", 5*time.Second))

	top := srv.hub.topics[0]
	top.mu.Lock() // the fan-out stalls on its next round
	const events = 200_000
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := int64(1); i <= events; i++ {
			u := model.Update{Kind: model.KindChanges, Product: id, Time: time.Now(),
				Changes: []model.Change{{Side: model.Buy, Price: px(-(i % 300)), Size: lots(i)}}}
			if i%10 == 0 {
				u = model.Update{Kind: model.KindTrade, Product: id, Time: time.Now(), Sequence: i,
					Trade: model.Trade{TradeID: i, Side: model.Sell, Price: px(5_000), Size: lots(i)}}
			}
			market.Apply(u)
		}
	}()
	testwait.For(t, 30*time.Second, "the ingest to publish every event while the fan-out is stalled", func() (string, bool) {
		select {
		case <-done:
			return "done", true
		default:
		}
		sh := srv.hub.shards[0]
		sh.mu.Lock()
		n := len(srv.hub.inboxes[0].evs)
		sh.mu.Unlock()
		return fmt.Sprintf("inbox holds %d events", n), false
	})
	sh := srv.hub.shards[0]
	sh.mu.Lock()
	held := len(srv.hub.inboxes[0].evs)
	sh.mu.Unlock()
	if held > inboxEvents {
		t.Fatalf("the inbox holds %d events; want at most %d", held, inboxEvents)
	}
	top.mu.Unlock()

	want, ok := market.Snapshot(id)
	if !ok {
		t.Fatal("no snapshot from the market")
	}
	wantBook := book.New(id)
	if err := wantBook.ApplySnapshot(want.Bids, want.Asks); err != nil {
		t.Fatal(err)
	}
	updates, lastTrade := 0, 0.0
	testwait.For(t, 30*time.Second, "the subscriber's book to equal the market's", func() (string, bool) {
		m := c.next(5 * time.Second)
		switch m["type"] {
		case "snapshot": // a resync, should this busy machine make the reader lag
			cb.snapshot(t, m)
		case "l2update":
			updates++
			cb.update(t, m)
		case "match":
			if id := m["trade_id"].(float64); id <= lastTrade {
				t.Fatalf("match %v after %v", id, lastTrade)
			} else {
				lastTrade = id
			}
		}
		return fmt.Sprintf("%d l2updates, last trade %v", updates, lastTrade), booksEqual(cb.b, wantBook)
	})
	testwait.For(t, 30*time.Second, "the level2_batch subscriber's book to equal the market's", func() (string, bool) {
		m := cs.next(5 * time.Second)
		switch m["type"] {
		case "snapshot":
			csb.snapshot(t, m)
		case "l2update":
			csb.update(t, m)
		default:
			return fmt.Sprintf("sequence %v", csb.seq), false
		}
		if got, want := uint32(m["checksum"].(float64)), checksum(&products[0], csb.b); got != want {
			t.Fatalf("level2_batch checksum %d, the book says %d", got, want)
		}
		return fmt.Sprintf("sequence %v", csb.seq), booksEqual(csb.b, wantBook)
	})
	if updates > events/10 {
		t.Errorf("%d l2updates for %d events; want the backlog merged", updates, events)
	}
	if n := metricValue(t, addr, "tickerfan_events_merged_total"); n == 0 {
		t.Errorf("tickerfan_events_merged_total %v; want the backlog merged", n)
	}
}
