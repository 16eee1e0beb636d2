package fanout

import (
	"time"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/model"
)

// view is an immutable copy of a product's book and ticker for REST: readers
// load it atomically and never take the topic's lock, so no REST request,
// however deep or frequent, stalls the product's fan-out.
//
// Copying a deep book is not free (BenchmarkPublishView: 7 µs at 50 levels a
// side, 2 ms at 10000), so the shard copies only while REST is asking
// (viewInterest), at most once per batch_interval, and only when the state
// changed: REST's cost to the fan-out is bounded whatever its request rate.
type view struct {
	bids, asks []model.Level // the whole book, best first
	seq        uint64        // the level2 sequence the book is at
	ticker     book.Ticker
	version    uint64        // topic.version when copied
	replaced   chan struct{} // closed when a newer view is published
}

// viewInterest is how long after a REST read the shard keeps the view fresh.
const viewInterest = 10 * time.Second

// viewWait bounds how long a REST read waits for a fresher view; the shard
// normally publishes one within batch_interval.
const viewWait = time.Second

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

// changed records a change of what the view shows. mu must be held.
func (t *topic) changed() { t.version.Add(1) }

// publishView stores a fresh view when the state changed since the last one
// and REST asked within viewInterest (force: whenever it changed). The shard
// calls it once per batch_interval. mu must be held.
func (t *topic) publishView(now time.Time, force bool) {
	old := t.view.Load()
	version := t.version.Load()
	if old != nil && old.version == version {
		return
	}
	if !force && now.UnixNano()-t.viewWanted.Load() > int64(viewInterest) {
		return
	}
	bids, asks := t.l2.book.Top(0, nil, nil)
	t.view.Store(&view{bids: bids, asks: asks, seq: t.l2.seq, ticker: t.ticker, version: version, replaced: make(chan struct{})})
	if old != nil {
		close(old.replaced)
	}
}

// freshView returns the view, waiting up to wait for a fresher one when the
// product changed since it was copied. Never nil.
func (t *topic) freshView(wait time.Duration) *view {
	t.viewWanted.Store(time.Now().UnixNano())
	v := t.view.Load()
	if v.version == t.version.Load() {
		return v
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-v.replaced:
	case <-timer.C:
	}
	return t.view.Load()
}

// recentTrades copies up to limit trades, newest first. It takes only the
// trade ring's read lock, which the shard holds for one push per trade.
func (t *topic) recentTrades(limit int) []tradeRecord {
	t.tradesMu.RLock()
	defer t.tradesMu.RUnlock()
	return t.trades.newest(limit)
}
