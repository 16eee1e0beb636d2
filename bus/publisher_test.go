package bus

import (
	"fmt"
	"testing"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/model"
)

// TestStreamTradesAfter: the ring keeps the last keptTrades trades and gives
// back those after a trade id that a snapshot includes, oldest first, each
// with the snapshot's ticker for that trade.
func TestStreamTradesAfter(t *testing.T) {
	s := &stream{product: "BTC-USD"}
	for id := int64(1); id <= keptTrades+50; id++ {
		ev := book.Event{Kind: book.EventTrade, Seq: uint64(2 * id), Time: t0,
			Trade: model.Trade{TradeID: id, Side: model.Sell, Price: dec(fmt.Sprint(100 + id)), Size: dec("1")}}
		s.keep(&ev)
	}
	snap := book.Event{Kind: book.EventSnapshot, Seq: 2 * (keptTrades + 40), Ticker: tk}
	cases := []struct {
		after       int64
		first, last int64
		n           int
	}{
		{0, 51, keptTrades + 40, keptTrades - 10}, // the oldest 50 are gone; the last 10 are after the snapshot
		{keptTrades + 30, keptTrades + 31, keptTrades + 40, 10},
		{keptTrades + 40, 0, 0, 0},
	}
	for _, c := range cases {
		got := s.tradesAfter(c.after, &snap)
		if len(got) != c.n || c.n > 0 && (got[0].Trade.TradeID != c.first || got[c.n-1].Trade.TradeID != c.last) {
			t.Errorf("after %d: %d trades; want %d, %d..%d", c.after, len(got), c.n, c.first, c.last)
			continue
		}
		if c.n == 0 {
			continue
		}
		ev := got[c.n-1]
		if ev.Kind != book.EventTrade || ev.Product != "BTC-USD" || ev.Seq != uint64(2*c.last) || ev.LastTradeID != c.last ||
			ev.Ticker.TradeID != c.last || !ev.Ticker.Price.Equal(ev.Trade.Price) || ev.Ticker.Side != model.Buy ||
			!ev.Ticker.Volume24h.Equal(tk.Volume24h) {
			t.Errorf("after %d: last event %+v", c.after, ev)
		}
	}
}
