package fanout

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/model"
)

func change(side model.Side, price, size string) model.Change {
	return model.Change{Side: side, Price: decimal.RequireFromString(price), Size: decimal.RequireFromString(size)}
}

// replay applies a batch's updates to a copy of start the way a subscriber
// applies l2updates, and returns the book it ends with.
func replayBatch(t *testing.T, start *book.Book, evs []book.Event) *book.Book {
	t.Helper()
	b := start.Clone()
	for _, ev := range evs {
		switch ev.Kind {
		case book.EventSnapshot:
			if err := b.ApplySnapshot(ev.Bids, ev.Asks); err != nil {
				t.Fatalf("snapshot: %v", err)
			}
		case book.EventUpdate:
			for _, c := range ev.Changes {
				if _, held := b.Size(c.Side, c.Price); !held && c.Size.IsZero() {
					continue // a level added and removed within the collapsed window
				}
				if err := b.Apply(c); err != nil {
					t.Fatalf("change %v %s %s: %v", c.Side, c.Price, c.Size, err)
				}
			}
		}
	}
	return b
}

func booksEqual(a, b *book.Book) bool {
	ab, aa := a.Top(0, nil, nil)
	bb, ba := b.Top(0, nil, nil)
	eq := func(x, y []model.Level) bool {
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if !x[i].Price.Equal(y[i].Price) || !x[i].Size.Equal(y[i].Size) {
				return false
			}
		}
		return true
	}
	return eq(ab, bb) && eq(aa, ba)
}

func TestInboxKeepsEventsOneByOneUntilFull(t *testing.T) {
	var in inbox
	for i := 1; i <= mergeAfter; i++ {
		empty := in.push(book.Event{Kind: book.EventUpdate, Seq: uint64(i), Changes: []model.Change{change(model.Buy, "100", "1")}})
		if empty != (i == 1) {
			t.Fatalf("push %d reported empty=%v", i, empty)
		}
	}
	b := in.take(nil)
	if len(b.evs) != mergeAfter || b.merge || b.first != 1 {
		t.Fatalf("took %d events, merge %v, first %d; want %d one by one from 1", len(b.evs), b.merge, b.first, mergeAfter)
	}
	if len(in.evs) != 0 {
		t.Fatalf("inbox holds %d after take", len(in.evs))
	}
}

// TestInboxCompactionIsExact drives an inbox past its bound with a book's
// real event stream and checks that the compacted events rebuild exactly the
// book the uncompacted stream does, with the newest ticker and bounded trades.
func TestInboxCompactionIsExact(t *testing.T) {
	var evs []book.Event
	m, err := book.NewMarket(book.Config{}, []model.Product{{ID: "BTC-USD"}}, func(ev book.Event) { evs = append(evs, ev) }, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	m.Apply(model.Update{Kind: model.KindSnapshot, Product: "BTC-USD", Time: now,
		Bids: []model.Level{{Price: decimal.NewFromInt(99), Size: decimal.NewFromInt(1)}},
		Asks: []model.Level{{Price: decimal.NewFromInt(101), Size: decimal.NewFromInt(1)}}})
	start := book.New("BTC-USD")
	var in inbox
	var all []book.Event // the whole stream, uncompacted
	for i := range 3000 {
		// Levels come and go, the best moves, and trades happen: a level
		// added and removed inside the window must not reach the wire as a
		// removal of something the subscriber never held.
		p := decimal.NewFromInt(int64(80 + i%19))
		size := decimal.NewFromInt(int64(i % 4))
		m.Apply(model.Update{Kind: model.KindChanges, Product: "BTC-USD", Time: now,
			Changes: []model.Change{{Side: model.Buy, Price: p, Size: size}}})
		a := decimal.NewFromInt(int64(102 + i%7))
		m.Apply(model.Update{Kind: model.KindChanges, Product: "BTC-USD", Time: now,
			Changes: []model.Change{{Side: model.Sell, Price: a, Size: decimal.NewFromInt(int64((i + 1) % 3))}}})
		if i%3 == 0 {
			m.Apply(model.Update{Kind: model.KindTrade, Product: "BTC-USD", Time: now, Sequence: int64(i + 1),
				Trade: model.Trade{TradeID: int64(i + 1), Side: model.Sell, Price: decimal.NewFromInt(100), Size: decimal.NewFromInt(1)}})
		}
		for _, ev := range evs {
			in.push(ev)
		}
		all = append(all, evs...)
		evs = evs[:0]
	}
	if in.merged == 0 || in.dropped == 0 {
		t.Fatalf("merged %d, dropped %d trades; the inbox never compacted", in.merged, in.dropped)
	}
	b := in.take(nil)
	if !b.merge || len(b.evs) > inboxEvents {
		t.Fatalf("merge %v with %d events; want a bounded, merged batch", b.merge, len(b.evs))
	}
	taken := b.evs
	got := replayBatch(t, start, taken)
	if want := replayBatch(t, start, all); !booksEqual(got, want) {
		t.Fatalf("compacted stream rebuilt a different book")
	}
	var trades int
	var lastTrade int64
	for _, ev := range taken {
		if ev.Kind == book.EventTrade {
			trades++
			if ev.Trade.TradeID <= lastTrade {
				t.Fatalf("trades out of order: %d after %d", ev.Trade.TradeID, lastTrade)
			}
			lastTrade = ev.Trade.TradeID
		}
	}
	if trades == 0 || trades >= inboxEvents || lastTrade != 2998 {
		t.Fatalf("%d trades kept, last %d; want fewer than %d, the newest (2998) last", trades, lastTrade, inboxEvents)
	}
}

func TestRemovalsFirstIsStable(t *testing.T) {
	cs := removalsFirst([]model.Change{
		change(model.Buy, "1", "2"), change(model.Sell, "5", "0"), change(model.Buy, "2", "3"), change(model.Buy, "3", "0"),
	})
	want := []string{"5:0", "3:0", "1:2", "2:3"}
	for i, c := range cs {
		if got := c.Price.String() + ":" + c.Size.String(); got != want[i] {
			t.Fatalf("order %d = %s; want %v", i, got, want)
		}
	}
}
