package client

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// Message is one message from the server, or one of the client's own events
// (*Connected, *Disconnected). Switch on its concrete type.
type Message interface {
	// Type is the message's "type": "ticker", "match", "last_match",
	// "l2update", "snapshot", "heartbeat", "status", "subscriptions",
	// "error"; "connected" and "disconnected" for the client's events.
	Type() string
	// Raw is the frame as received, JSON; for the client's events, their
	// JSON encoding.
	Raw() json.RawMessage
}

// frame keeps the bytes of a received message.
type frame struct{ raw json.RawMessage }

// Raw returns the frame as received.
func (f *frame) Raw() json.RawMessage { return f.raw }

// Ticker is a "ticker" message: the product's last trade and statistics.
type Ticker struct {
	frame
	ProductID   string          `json:"product_id"`
	Sequence    int64           `json:"sequence"`
	Price       decimal.Decimal `json:"price"`
	Open24h     decimal.Decimal `json:"open_24h"`
	Volume24h   decimal.Decimal `json:"volume_24h"`
	Low24h      decimal.Decimal `json:"low_24h"`
	High24h     decimal.Decimal `json:"high_24h"`
	Volume30d   decimal.Decimal `json:"volume_30d"`
	BestBid     decimal.Decimal `json:"best_bid"`
	BestBidSize decimal.Decimal `json:"best_bid_size"`
	BestAsk     decimal.Decimal `json:"best_ask"`
	BestAskSize decimal.Decimal `json:"best_ask_size"`
	Side        string          `json:"side"` // the taker's
	Time        time.Time       `json:"time"`
	TradeID     int64           `json:"trade_id"`
	LastSize    decimal.Decimal `json:"last_size"`
}

// Match is a "match" (one trade) or, on subscribing, a "last_match".
type Match struct {
	frame
	Kind         string          `json:"type"` // "match" or "last_match"
	TradeID      int64           `json:"trade_id"`
	MakerOrderID string          `json:"maker_order_id"`
	TakerOrderID string          `json:"taker_order_id"`
	Side         string          `json:"side"` // the maker's
	Size         decimal.Decimal `json:"size"`
	Price        decimal.Decimal `json:"price"`
	ProductID    string          `json:"product_id"`
	Sequence     int64           `json:"sequence"`
	Time         time.Time       `json:"time"`
}

// Snapshot is a "snapshot": a product's whole level-2 book, best first.
type Snapshot struct {
	frame
	ProductID string  `json:"product_id"`
	Bids      []Level `json:"bids"`
	Asks      []Level `json:"asks"`
	// Sequence is the extension sequence of the product's level-2 stream.
	Sequence uint64 `json:"sequence"`
	// Checksum is the checksum extension, nil when not asked for.
	Checksum *uint32 `json:"checksum"`
}

// L2Update is an "l2update": new absolute sizes of some levels.
type L2Update struct {
	frame
	ProductID string    `json:"product_id"`
	Changes   []Change  `json:"changes"`
	Time      time.Time `json:"time"`
	// Sequence is the extension sequence: the book's previous one plus 1.
	Sequence uint64 `json:"sequence"`
	// Checksum is the checksum extension of the book after the update, nil
	// when not asked for.
	Checksum *uint32 `json:"checksum"`
}

// Heartbeat is a "heartbeat", sent each second per product.
type Heartbeat struct {
	frame
	ProductID   string    `json:"product_id"`
	Sequence    int64     `json:"sequence"`
	LastTradeID int64     `json:"last_trade_id"`
	Time        time.Time `json:"time"`
}

// Status is a "status" message: every product and currency.
type Status struct {
	frame
	Products   []ProductStatus  `json:"products"`
	Currencies []CurrencyStatus `json:"currencies"`
}

// ProductStatus is one product of a Status.
type ProductStatus struct {
	ID             string          `json:"id"`
	BaseCurrency   string          `json:"base_currency"`
	QuoteCurrency  string          `json:"quote_currency"`
	BaseIncrement  decimal.Decimal `json:"base_increment"`
	QuoteIncrement decimal.Decimal `json:"quote_increment"`
	DisplayName    string          `json:"display_name"`
	Status         string          `json:"status"` // "online" or "offline"
	StatusMessage  string          `json:"status_message"`
	MinMarketFunds decimal.Decimal `json:"min_market_funds"`
}

// CurrencyStatus is one currency of a Status.
type CurrencyStatus struct {
	ID      string          `json:"id"`
	Name    string          `json:"name"`
	MinSize decimal.Decimal `json:"min_size"`
	Status  string          `json:"status"`
}

// Subscriptions is the server's answer to every subscribe and unsubscribe:
// the connection's whole subscription state.
type Subscriptions struct {
	frame
	Channels []Channel `json:"channels"`
}

// Channel is one channel with its products.
type Channel struct {
	Name       string   `json:"name"`
	ProductIDs []string `json:"product_ids"`
}

// Error is an "error" message: a request the server refused (the connection
// stays open).
type Error struct {
	frame
	Message string `json:"message"`
	Reason  string `json:"reason"`
}

// Error returns "message: reason".
func (e *Error) Error() string { return "client: server: " + e.Message + ": " + e.Reason }

// Connected is the client's event for a connection that was established
// and subscribed again to everything the client is subscribed to.
type Connected struct {
	URL string `json:"url"`
	// Reconnect is false for the first connection.
	Reconnect bool `json:"reconnect"`
}

// Disconnected is the client's event for a connection that ended; the
// client reconnects after Delay.
type Disconnected struct {
	Err   error         `json:"-"`
	Delay time.Duration `json:"-"`
}

// Type returns "ticker".
func (m *Ticker) Type() string { return "ticker" }

// Type returns "match" or "last_match".
func (m *Match) Type() string { return m.Kind }

// Type returns "snapshot".
func (m *Snapshot) Type() string { return "snapshot" }

// Type returns "l2update".
func (m *L2Update) Type() string { return "l2update" }

// Type returns "heartbeat".
func (m *Heartbeat) Type() string { return "heartbeat" }

// Type returns "status".
func (m *Status) Type() string { return "status" }

// Type returns "subscriptions".
func (m *Subscriptions) Type() string { return "subscriptions" }

// Type returns "error".
func (m *Error) Type() string { return "error" }

// Type returns "connected".
func (m *Connected) Type() string { return "connected" }

// Type returns "disconnected".
func (m *Disconnected) Type() string { return "disconnected" }

// Raw encodes the event as {"type":"connected",...}.
func (m *Connected) Raw() json.RawMessage {
	b, _ := json.Marshal(struct {
		Type string `json:"type"`
		*Connected
	}{"connected", m})
	return b
}

// Raw encodes the event as {"type":"disconnected","error":..,"retry_in":..}.
func (m *Disconnected) Raw() json.RawMessage {
	msg := ""
	if m.Err != nil {
		msg = m.Err.Error()
	}
	b, _ := json.Marshal(map[string]any{"type": "disconnected", "error": msg, "retry_in": m.Delay.String()})
	return b
}

// Decode parses one server message by its "type". A type it does not know
// is an error naming it.
func Decode(data []byte) (Message, error) {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("client: decode: %w", err)
	}
	var m interface {
		Message
		setRaw([]byte)
	}
	switch head.Type {
	case "ticker":
		m = &Ticker{}
	case "match", "last_match":
		m = &Match{}
	case "snapshot":
		m = &Snapshot{}
	case "l2update":
		m = &L2Update{}
	case "heartbeat":
		m = &Heartbeat{}
	case "status":
		m = &Status{}
	case "subscriptions":
		m = &Subscriptions{}
	case "error":
		m = &Error{}
	default:
		return nil, fmt.Errorf("client: decode: unknown message type %q", head.Type)
	}
	if err := json.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("client: decode %s: %w", head.Type, err)
	}
	m.setRaw(data)
	return m, nil
}

func (f *frame) setRaw(b []byte) { f.raw = b }
