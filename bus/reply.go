package bus

import (
	"encoding/binary"
	"fmt"

	"github.com/tickerfan/tickerfan/book"
)

// keptTrades is how many recent trades a Publisher keeps per product, to
// send an edge the trades it missed with the snapshot; as many as fanout's
// default trades_kept, so a late edge's trade history is full.
const keptTrades = 1000

// A snapshot request and its reply, version 1:
//
//	request = string(product) varint(after_trade_id)
//	reply   = uvarint(n) n*(uvarint(len) event)
//
// The reply's first event is the snapshot; the others are the trades the
// ingest keeps with a trade id above after_trade_id (every kept one for 0)
// that the snapshot includes, oldest first.

// AppendRequest appends a snapshot request for product to dst.
func AppendRequest(dst []byte, product string, afterTradeID int64) []byte {
	dst = appendString(dst, product)
	return binary.AppendVarint(dst, afterTradeID)
}

// DecodeRequest decodes a snapshot request.
func DecodeRequest(b []byte) (product string, afterTradeID int64, err error) {
	r := reader{b: b}
	product = r.string()
	afterTradeID = r.varint()
	return product, afterTradeID, r.end()
}

// AppendReply appends a snapshot reply: snap, then trades, all stamped with
// epoch.
func AppendReply(dst []byte, epoch uint64, snap *book.Event, trades []book.Event) []byte {
	dst = binary.AppendUvarint(dst, uint64(1+len(trades)))
	ev := AppendEvent(nil, epoch, snap)
	dst = appendBytes(dst, ev)
	for i := range trades {
		ev = AppendEvent(ev[:0], epoch, &trades[i])
		dst = appendBytes(dst, ev)
	}
	return dst
}

// DecodeReply decodes a snapshot reply. Every event must carry the same
// epoch, the first be a snapshot and the others trades of its product.
func DecodeReply(b []byte) (epoch uint64, snap book.Event, trades []book.Event, err error) {
	r := reader{b: b}
	n := r.count(3)
	if r.err != nil || n == 0 {
		return 0, snap, nil, fmt.Errorf("%w: empty reply", ErrTruncated)
	}
	for i := 0; i < n; i++ {
		raw := r.bytes(len(b))
		if r.err != nil {
			return 0, book.Event{}, nil, r.err
		}
		e, ev, err := DecodeEvent(raw)
		switch {
		case err != nil:
			return 0, book.Event{}, nil, err
		case i == 0 && ev.Kind != book.EventSnapshot,
			i > 0 && (ev.Kind != book.EventTrade || ev.Product != snap.Product || e != epoch):
			return 0, book.Event{}, nil, fmt.Errorf("%w: %v of %s in a snapshot reply", ErrKind, ev.Kind, ev.Product)
		case i == 0:
			epoch, snap = e, ev
		default:
			trades = append(trades, ev)
		}
	}
	return epoch, snap, trades, r.end()
}
