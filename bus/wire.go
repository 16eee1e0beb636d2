package bus

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/model"
)

// Version is the first byte of every message of this encoding. A change that
// an older decoder would misread gets a new version (and a new subject prefix).
const Version = 1

// KindBeat is the kind byte of an ingest's Beat; events use the byte of their
// book.EventKind (1 snapshot .. 5 heartbeat).
const KindBeat = 16

// Limits of the decoder, so a hostile message cannot make it allocate much.
const (
	maxString  = 1 << 12 // bytes of one string (product id, message, order id)
	maxDecimal = 64      // bytes of one decimal string
)

// The wire encoding, version 1 (README.md documents it for other languages):
//
//	event   = version kind uvarint(epoch) uvarint(seq) varint(time_ns) varint(upstream_seq)
//	          string(product) body
//	string  = uvarint(len) bytes
//	decimal = string, a plain decimal ("123.45", "-0.5"), never a float
//	side    = byte: 1 buy, 2 sell
//	level   = decimal(price) decimal(size)
//	ticker  = byte(0 none | 1) [varint(trade_id) decimal(price) decimal(last_size) side
//	          varint(time_ns) decimal(open_24h) decimal(high_24h) decimal(low_24h)
//	          decimal(volume_24h) decimal(volume_30d) decimal(best_bid)
//	          decimal(best_bid_size) decimal(best_ask) decimal(best_ask_size)]
//	body    = snapshot:  uvarint(n) n*level(bids) uvarint(n) n*level(asks) ticker
//	                     byte(online) string(status_message)
//	          update:    uvarint(n) n*(side decimal(price) decimal(size))
//	          trade:     varint(trade_id) string(maker_order_id) string(taker_order_id) side
//	                     decimal(price) decimal(size) ticker varint(last_trade_id)
//	          status:    byte(online) string(message)
//	          heartbeat: varint(last_trade_id)
//
// varint is zig-zag and uvarint is base-128 LEB128, as in Protocol Buffers
// (Go's encoding/binary). A zero time is encoded as 0.

// AppendEvent appends ev, stamped with the ingest's epoch, to dst.
func AppendEvent(dst []byte, epoch uint64, ev *book.Event) []byte {
	dst = append(dst, Version, byte(ev.Kind))
	dst = binary.AppendUvarint(dst, epoch)
	dst = binary.AppendUvarint(dst, ev.Seq)
	dst = appendTime(dst, ev.Time)
	dst = binary.AppendVarint(dst, ev.UpstreamSeq)
	dst = appendString(dst, ev.Product)
	switch ev.Kind {
	case book.EventSnapshot:
		dst = appendLevels(dst, ev.Bids)
		dst = appendLevels(dst, ev.Asks)
		dst = appendTicker(dst, &ev.Ticker)
		dst = append(dst, boolByte(ev.Online))
		dst = appendString(dst, ev.Message)
	case book.EventUpdate:
		dst = binary.AppendUvarint(dst, uint64(len(ev.Changes)))
		for _, c := range ev.Changes {
			dst = append(dst, byte(c.Side))
			dst = appendDecimal(dst, c.Price)
			dst = appendDecimal(dst, c.Size)
		}
	case book.EventTrade:
		t := &ev.Trade
		dst = binary.AppendVarint(dst, t.TradeID)
		dst = appendString(dst, t.MakerOrderID)
		dst = appendString(dst, t.TakerOrderID)
		dst = append(dst, byte(t.Side))
		dst = appendDecimal(dst, t.Price)
		dst = appendDecimal(dst, t.Size)
		dst = appendTicker(dst, &ev.Ticker)
		dst = binary.AppendVarint(dst, ev.LastTradeID)
	case book.EventStatus:
		dst = append(dst, boolByte(ev.Online))
		dst = appendString(dst, ev.Message)
	case book.EventHeartbeat:
		dst = binary.AppendVarint(dst, ev.LastTradeID)
	}
	return dst
}

// DecodeEvent decodes one event and the epoch of the ingest that sent it.
// The event's slices are its own.
func DecodeEvent(b []byte) (epoch uint64, ev book.Event, err error) {
	r := reader{b: b}
	if err := r.header(); err != nil {
		return 0, ev, err
	}
	ev.Kind = book.EventKind(r.byte())
	if ev.Kind < book.EventSnapshot || ev.Kind > book.EventHeartbeat {
		return 0, book.Event{}, fmt.Errorf("%w: %d", ErrKind, ev.Kind)
	}
	epoch = r.uvarint()
	ev.Seq = r.uvarint()
	ev.Time = r.time()
	ev.UpstreamSeq = r.varint()
	ev.Product = r.string()
	switch ev.Kind {
	case book.EventSnapshot:
		ev.Bids = r.levels()
		ev.Asks = r.levels()
		ev.Ticker = r.ticker()
		ev.Online = r.bool()
		ev.Message = r.string()
	case book.EventUpdate:
		ev.Changes = r.changes()
	case book.EventTrade:
		ev.Trade = r.trade()
		ev.Ticker = r.ticker()
		ev.LastTradeID = r.varint()
	case book.EventStatus:
		ev.Online = r.bool()
		ev.Message = r.string()
	case book.EventHeartbeat:
		ev.LastTradeID = r.varint()
	}
	if err := r.end(); err != nil {
		return 0, book.Event{}, err
	}
	return epoch, ev, nil
}

func appendTime(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(dst, 0)
	}
	return binary.AppendVarint(dst, t.UnixNano())
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendBytes(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

func appendDecimal(dst []byte, d decimal.Decimal) []byte {
	return appendString(dst, d.String())
}

func appendLevels(dst []byte, ls []model.Level) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(ls)))
	for _, l := range ls {
		dst = appendDecimal(dst, l.Price)
		dst = appendDecimal(dst, l.Size)
	}
	return dst
}

func appendTicker(dst []byte, t *book.Ticker) []byte {
	if !t.Valid() {
		return append(dst, 0)
	}
	dst = append(dst, 1)
	dst = binary.AppendVarint(dst, t.TradeID)
	dst = appendDecimal(dst, t.Price)
	dst = appendDecimal(dst, t.LastSize)
	dst = append(dst, byte(t.Side))
	dst = appendTime(dst, t.Time)
	for _, d := range [...]*decimal.Decimal{&t.Open24h, &t.High24h, &t.Low24h, &t.Volume24h,
		&t.Volume30d, &t.BestBid, &t.BestBidSize, &t.BestAsk, &t.BestAskSize} {
		dst = appendDecimal(dst, *d)
	}
	return dst
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}
