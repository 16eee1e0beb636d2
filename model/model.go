// Package model is tickerfan's normalized market-data vocabulary: sides,
// levels, level-2 changes, trades, statistics, products, and the Update every
// upstream adapter emits. Adapters (feed/...), books (book) and the fan-out
// (fanout) all speak it; it imports nothing of the project.
//
// Prices and sizes are shopspring decimals from the wire to the book and back
// to the wire: never floats.
package model

import (
	"time"

	"github.com/shopspring/decimal"
)

// Side is the side of the book an order rests on.
type Side uint8

// The two sides of a book. The zero Side is invalid, so a forgotten field is caught.
const (
	Buy Side = iota + 1
	Sell
)

// String returns the wire spelling: "buy" or "sell".
func (s Side) String() string {
	switch s {
	case Buy:
		return "buy"
	case Sell:
		return "sell"
	}
	return "invalid"
}

// Opposite returns the other side.
func (s Side) Opposite() Side {
	if s == Buy {
		return Sell
	}
	return Buy
}

// ParseSide reads the wire spelling of a side ("buy"/"sell", also "bid"/"ask").
func ParseSide(s string) (Side, error) {
	switch s {
	case "buy", "bid":
		return Buy, nil
	case "sell", "ask":
		return Sell, nil
	}
	return 0, ErrBadSide
}

// Level is one aggregated price level: the total size resting at a price.
type Level struct {
	Price decimal.Decimal
	Size  decimal.Decimal
}

// Change is one level-2 change with absolute-size semantics: Size is the new
// total at Price, and a zero Size removes the level.
type Change struct {
	Side  Side
	Price decimal.Decimal
	Size  decimal.Decimal
}

// Trade is one match between a resting (maker) and an incoming (taker) order.
type Trade struct {
	TradeID      int64
	MakerOrderID string
	TakerOrderID string
	// Side is the maker's side, as on the Coinbase matches channel: "sell" means
	// a buyer lifted an ask (an up-tick).
	Side  Side
	Price decimal.Decimal
	Size  decimal.Decimal
}

// Stats are rolling statistics an upstream reports itself (the Coinbase ticker
// carries them). When an upstream sends none, book computes them from trades.
type Stats struct {
	Open24h   decimal.Decimal
	High24h   decimal.Decimal
	Low24h    decimal.Decimal
	Volume24h decimal.Decimal
	Volume30d decimal.Decimal
}

// Kind says which fields of an Update are meaningful.
type Kind uint8

// The kinds of normalized update.
const (
	// KindSnapshot replaces the whole book of Product with Bids and Asks.
	KindSnapshot Kind = iota + 1
	// KindChanges applies Changes, in order, to the book of Product.
	KindChanges
	// KindTrade records Trade (and, when the upstream sends them, Stats).
	KindTrade
	// KindStats replaces the rolling statistics of Product with Stats.
	KindStats
	// KindHeartbeat carries only Sequence and LastTradeID: proof of life.
	KindHeartbeat
	// KindStatus says whether Product is online (Online, Message).
	KindStatus
)

// String names the kind for logs.
func (k Kind) String() string {
	switch k {
	case KindSnapshot:
		return "snapshot"
	case KindChanges:
		return "changes"
	case KindTrade:
		return "trade"
	case KindStats:
		return "stats"
	case KindHeartbeat:
		return "heartbeat"
	case KindStatus:
		return "status"
	}
	return "invalid"
}

// Update is one normalized upstream message about one product.
//
// Ownership of the slices passes to the receiver of the Update: a Source never
// touches them again after emitting.
type Update struct {
	Kind    Kind
	Product string
	// Time is the upstream's time for the message (receive time when it has none).
	Time time.Time
	// Sequence is the upstream's per-product sequence, 0 when it sends none.
	Sequence int64

	Bids    []Level  // KindSnapshot: best first
	Asks    []Level  // KindSnapshot: best first
	Changes []Change // KindChanges

	Trade Trade  // KindTrade
	Stats *Stats // KindTrade (optional) and KindStats

	LastTradeID int64 // KindHeartbeat

	Online  bool   // KindStatus
	Message string // KindStatus: why a product is offline
}
