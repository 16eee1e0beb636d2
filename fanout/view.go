package fanout

import (
	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/model"
)

// view is an immutable copy of a product's book and ticker for REST. The
// product's shard publishes a fresh one after each batch of events that
// changed it (shard.drain); readers load it atomically and never take the
// topic's lock, so a deep ?level=2 request cannot stall the product's
// fan-out. It is as current as the topic was before the lock: it misses
// only the batch being handled.
type view struct {
	bids, asks []model.Level // the whole book, best first
	seq        uint64        // the level2 sequence the book is at
	ticker     book.Ticker
}

// best returns the best bid and ask, if any.
func (v *view) best() (bid, ask *model.Level) {
	if len(v.bids) > 0 {
		bid = &v.bids[0]
	}
	if len(v.asks) > 0 {
		ask = &v.asks[0]
	}
	return bid, ask
}

// publishView stores a fresh view if the state changed since the last one.
// The copy costs O(levels) once per batch, not per event. mu must be held.
func (t *topic) publishView() {
	if !t.viewStale {
		return
	}
	t.viewStale = false
	bids, asks := t.l2.book.Top(0, nil, nil)
	t.view.Store(&view{bids: bids, asks: asks, seq: t.l2.seq, ticker: t.ticker})
}

// currentView is the last published view; never nil.
func (t *topic) currentView() *view {
	if v := t.view.Load(); v != nil {
		return v
	}
	return &view{}
}

// recentTrades copies up to limit trades, newest first. It takes only the
// trade ring's read lock, which the shard holds for one push per trade.
func (t *topic) recentTrades(limit int) []tradeRecord {
	t.tradesMu.RLock()
	defer t.tradesMu.RUnlock()
	return t.trades.newest(limit)
}
