package fanout

import (
	"time"

	"github.com/tickerfan/tickerfan/model"
)

// tradeRecord is one recent trade for /products/{id}/trades.
type tradeRecord struct {
	trade model.Trade
	time  time.Time
}

// tradeRing keeps the last n trades of a product.
type tradeRing struct {
	buf  []tradeRecord
	next int
	full bool
}

func newTradeRing(n int) tradeRing { return tradeRing{buf: make([]tradeRecord, n)} }

func (r *tradeRing) push(t model.Trade, at time.Time) {
	r.buf[r.next] = tradeRecord{trade: t, time: at}
	r.next++
	if r.next == len(r.buf) {
		r.next, r.full = 0, true
	}
}

// newest returns up to limit trades, newest first.
func (r *tradeRing) newest(limit int) []tradeRecord {
	n := r.next
	if r.full {
		n = len(r.buf)
	}
	n = min(n, limit)
	out := make([]tradeRecord, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, r.buf[(r.next-i+len(r.buf))%len(r.buf)])
	}
	return out
}
