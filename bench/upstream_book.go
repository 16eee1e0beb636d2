package bench

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/gobwas/ws"

	"github.com/tickerfan/tickerfan/internal/jsonw"
)

// appendFrame appends an unmasked, final server frame (RFC 6455 5.2).
func appendFrame(dst []byte, op ws.OpCode, payload []byte) []byte {
	dst = append(dst, 0x80|byte(op))
	switch n := len(payload); {
	case n < 126:
		dst = append(dst, byte(n))
	case n <= 0xffff:
		dst = append(dst, 126, byte(n>>8), byte(n))
	default:
		dst = append(dst, 127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	return append(dst, payload...)
}

// upBook is one product's synthetic book: Depth levels each side of a fixed
// mid price, one cent apart. Updates change sizes only and trades leave the
// book alone, so the book never crosses and no update removes a level: any
// correct consumer accepts every message.
type upBook struct {
	id            string
	quotedID      []byte  // id as a JSON string, quotes included
	seq, tradeID  int64   // seq: every message of the product, as Coinbase's full-channel sequence
	l2seq         int64   // level2 only: +1 per update, as tickerfan's extension
	mid           int64   // cents
	bids, asks    []int64 // sizes in 1e-8 units, best first
	rng           *rand.Rand
	l2Owed        float64
	tradesOwed    float64
	lastHeartbeat time.Time
	buf           []byte
}

func newUpBook(id string, i, depth int) *upBook {
	b := &upBook{
		id: id, quotedID: jsonw.AppendString(nil, id), mid: int64(100+i) * 100, bids: make([]int64, depth), asks: make([]int64, depth),
		rng: rand.New(rand.NewPCG(uint64(i)+1, 0x71c)),
	}
	for k := range depth {
		b.bids[k], b.asks[k] = b.size(), b.size()
	}
	return b
}

func (b *upBook) size() int64 { return 1 + b.rng.Int64N(5e8) }

func appendPrice(dst []byte, cents int64) []byte {
	dst = append(dst, '"')
	dst = strconv.AppendInt(dst, cents/100, 10)
	dst = append(dst, '.', byte('0'+cents%100/10), byte('0'+cents%10), '"')
	return dst
}

func appendSize(dst []byte, units int64) []byte {
	dst = append(dst, '"')
	dst = strconv.AppendInt(dst, units/1e8, 10)
	frac := strconv.AppendInt(nil, 1e8+units%1e8, 10)
	dst = append(dst, '.')
	dst = append(dst, frac[1:]...)
	return append(dst, '"')
}

func appendTime(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	dst = t.UTC().AppendFormat(dst, "2006-01-02T15:04:05.000000Z")
	return append(dst, '"')
}

// snapshot encodes the whole book with the current sequence.
func (b *upBook) snapshot() []byte {
	out := append([]byte(nil), `{"type":"snapshot","product_id":`...)
	out = append(out, b.quotedID...)
	out = append(out, `,"bids":[`...)
	out = b.levels(out, b.bids, -1)
	out = append(out, `],"asks":[`...)
	out = b.levels(out, b.asks, 1)
	out = append(out, `],"sequence":`...)
	out = strconv.AppendInt(out, b.l2seq, 10)
	return append(out, '}')
}

func (b *upBook) levels(out []byte, sizes []int64, dir int64) []byte {
	for k, s := range sizes {
		if k > 0 {
			out = append(out, ',')
		}
		out = append(out, '[')
		out = appendPrice(out, b.mid+dir*int64(k+1))
		out = append(out, ',')
		out = appendSize(out, s)
		out = append(out, ']')
	}
	return out
}

// update changes one level's size and encodes the l2update. The returned
// bytes are valid until the next call.
func (b *upBook) update(now time.Time) []byte {
	b.seq++
	b.l2seq++
	side, sizes, dir := "buy", b.bids, int64(-1)
	if b.rng.IntN(2) == 1 {
		side, sizes, dir = "sell", b.asks, 1
	}
	k := b.rng.IntN(len(sizes))
	sizes[k] = b.size()
	out := append(b.buf[:0], `{"type":"l2update","product_id":`...)
	out = append(out, b.quotedID...)
	out = append(out, `,"changes":[["`...)
	out = append(out, side...)
	out = append(out, `",`...)
	out = appendPrice(out, b.mid+dir*int64(k+1))
	out = append(out, ',')
	out = appendSize(out, sizes[k])
	out = append(out, `]],"time":`...)
	out = appendTime(out, now)
	out = append(out, `,"sequence":`...)
	out = strconv.AppendInt(out, b.l2seq, 10)
	b.buf = append(out, '}')
	return b.buf
}

// trade encodes a match and its ticker at the best price of the maker's side.
func (b *upBook) trade(now time.Time) (match, ticker []byte) {
	b.seq++
	b.tradeID++
	maker, taker, price := "sell", "buy", b.mid+1
	if b.tradeID%2 == 0 {
		maker, taker, price = "buy", "sell", b.mid-1
	}
	size := 1 + b.rng.Int64N(1e7)
	m := fmt.Appendf(nil, `{"type":"match","trade_id":%d,"maker_order_id":"m-%d","taker_order_id":"t-%d","side":"%s","size":`,
		b.tradeID, b.tradeID, b.tradeID, maker)
	m = appendSize(m, size)
	m = append(m, `,"price":`...)
	m = appendPrice(m, price)
	m = append(append(m, `,"product_id":`...), b.quotedID...)
	m = fmt.Appendf(m, `,"sequence":%d,"time":`, b.seq)
	m = append(appendTime(m, now), '}')

	t := fmt.Appendf(nil, `{"type":"ticker","sequence":%d,"product_id":%s,"price":`, b.seq, b.quotedID)
	t = appendPrice(t, price)
	for _, k := range []string{"open_24h", "low_24h", "high_24h"} {
		t = append(t, `,"`+k+`":`...)
		t = appendPrice(t, b.mid)
	}
	t = append(t, `,"volume_24h":"1000.00000000","volume_30d":"30000.00000000","best_bid":`...)
	t = appendPrice(t, b.mid-1)
	t = append(t, `,"best_bid_size":`...)
	t = appendSize(t, b.bids[0])
	t = append(t, `,"best_ask":`...)
	t = appendPrice(t, b.mid+1)
	t = append(t, `,"best_ask_size":`...)
	t = appendSize(t, b.asks[0])
	t = fmt.Appendf(t, `,"side":"%s","time":`, taker)
	t = appendTime(t, now)
	t = fmt.Appendf(t, `,"trade_id":%d,"last_size":`, b.tradeID)
	t = append(appendSize(t, size), '}')
	return m, t
}

// heartbeat encodes the product's heartbeat.
func (b *upBook) heartbeat(now time.Time) []byte {
	out := fmt.Appendf(nil, `{"type":"heartbeat","sequence":%d,"last_trade_id":%d,"product_id":%s,"time":`, b.seq, b.tradeID, b.quotedID)
	return append(appendTime(out, now), '}')
}
