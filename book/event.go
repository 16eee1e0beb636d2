package book

import (
	"time"

	"github.com/shopspring/decimal"
	"github.com/tickerfan/tickerfan/model"
)

// EventKind says which fields of an Event are meaningful.
type EventKind uint8

// The kinds of event on a product's stream.
const (
	// EventSnapshot carries the whole book (Bids, Asks, best first). It follows
	// an upstream snapshot, a resync, or starts the stream.
	EventSnapshot EventKind = iota + 1
	// EventUpdate carries the level-2 changes that were applied, in order.
	// Rejected changes never appear: applying Changes to the previous book
	// yields exactly the book the Market holds.
	EventUpdate
	// EventTrade carries Trade and Ticker, the ticker state right after it.
	EventTrade
	// EventStatus says whether the product is online (Online, Message).
	EventStatus
	// EventHeartbeat carries the upstream sequence and last trade id only.
	EventHeartbeat
)

// String names the kind for logs and the wire encodings of the stream.
func (k EventKind) String() string {
	switch k {
	case EventSnapshot:
		return "snapshot"
	case EventUpdate:
		return "update"
	case EventTrade:
		return "trade"
	case EventStatus:
		return "status"
	case EventHeartbeat:
		return "heartbeat"
	}
	return "invalid"
}

// Event is one entry of a product's stream from book to fanout. The stream is
// plain data, so it can be carried between processes (NATS) unchanged; a
// consumer rebuilds the book from it exactly.
type Event struct {
	Kind    EventKind
	Product string
	// Seq numbers the product's events: 1, 2, 3, ... with no gaps. A consumer
	// that sees a gap has lost events and must wait for the next EventSnapshot.
	Seq uint64
	// Time is the upstream time of what caused the event.
	Time time.Time
	// UpstreamSeq is the upstream's sequence of the message behind the event
	// (0 when the upstream sends none); it is the `sequence` clients see on
	// ticker, match and heartbeat.
	UpstreamSeq int64

	Bids    []model.Level  // EventSnapshot, best first
	Asks    []model.Level  // EventSnapshot, best first
	Changes []model.Change // EventUpdate, in applied order

	Trade  model.Trade // EventTrade
	Ticker Ticker      // EventTrade; EventSnapshot too, when a trade was seen

	LastTradeID int64 // EventHeartbeat and EventTrade

	Online  bool   // EventStatus
	Message string // EventStatus
}

// Ticker is a product's ticker state: last trade, rolling statistics and the
// best bid and ask at that moment.
type Ticker struct {
	TradeID int64
	Price   decimal.Decimal
	// LastSize is the size of the last trade.
	LastSize decimal.Decimal
	// Side is the taker's side of the last trade, as on the Coinbase ticker
	// channel (the opposite of the maker side on matches).
	Side model.Side
	Time time.Time

	Open24h   decimal.Decimal
	High24h   decimal.Decimal
	Low24h    decimal.Decimal
	Volume24h decimal.Decimal
	Volume30d decimal.Decimal

	BestBid     decimal.Decimal
	BestBidSize decimal.Decimal
	BestAsk     decimal.Decimal
	BestAskSize decimal.Decimal
}

// Valid reports whether the ticker has seen a trade.
func (t *Ticker) Valid() bool { return t.TradeID != 0 || !t.Price.IsZero() }
