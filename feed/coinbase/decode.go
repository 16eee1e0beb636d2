package coinbase

import (
	"time"

	"github.com/shopspring/decimal"
	"github.com/tickerfan/tickerfan/feed"
	"github.com/tickerfan/tickerfan/model"
)

// cbMessage is one message of the Coinbase Exchange feed, as far as tickerfan
// reads it: the union of the fields of the message types it handles. Fields
// it does not read (best_bid, channels, ...) are skipped by the decoder
// (msgScanner); the json tags name the keys it reads.
type cbMessage struct {
	Type      string `json:"type"`
	ProductID string `json:"product_id"`
	// Sequence is set only when HasSequence: level2 carries it only as a
	// tickerfan extension.
	Sequence    int64  `json:"sequence"`
	HasSequence bool   `json:"-"`
	Time        string `json:"time"`

	Bids    [][]string `json:"bids"`    // snapshot: [price, size, ...]
	Asks    [][]string `json:"asks"`    // snapshot
	Changes [][]string `json:"changes"` // l2update: [side, price, size]

	TradeID      int64  `json:"trade_id"`
	MakerOrderID string `json:"maker_order_id"`
	TakerOrderID string `json:"taker_order_id"`
	Side         string `json:"side"` // match: the maker's; ticker: the taker's
	Price        string `json:"price"`
	Size         string `json:"size"`      // match
	LastSize     string `json:"last_size"` // ticker

	Open24h   string `json:"open_24h"`
	High24h   string `json:"high_24h"`
	Low24h    string `json:"low_24h"`
	Volume24h string `json:"volume_24h"`
	Volume30d string `json:"volume_30d"`

	LastTradeID int64 `json:"last_trade_id"` // heartbeat

	Message string `json:"message"` // error
	Reason  string `json:"reason"`  // error

	Products []cbProductStatus `json:"products"` // status

	// Scratch the tables (Bids, Asks, Changes) are cut from, kept from one
	// message to the next.
	rows  [][]string
	cells []string
}

// reset empties m, keeping its scratch unless a deep snapshot grew it.
func (m *cbMessage) reset() {
	rows, cells := m.rows[:0], m.cells[:0]
	if cap(cells) > maxScratchCells {
		rows, cells = nil, nil
	}
	*m = cbMessage{rows: rows, cells: cells}
}

// cbProductStatus is one product of a status message.
type cbProductStatus struct {
	ID            string `json:"id"`
	Status        string `json:"status"` // online, offline, delisted, ...
	StatusMessage string `json:"status_message"`
}

// decodeError is a message the decoder rejects: Reason is one of the Reason
// constants, Detail says what was wrong for the log.
type decodeError struct {
	Reason string
	Detail string
}

func (e *decodeError) Error() string { return "feed: " + e.Reason + ": " + e.Detail }

func reject(reason, detail string) *decodeError { return &decodeError{Reason: reason, Detail: detail} }

// parseDecimal reads an exact decimal string: optional '-', digits, and
// optionally '.' and digits. Exponents, '+', spaces and empty strings are
// rejected, as the protocol sends none.
func parseDecimal(s string) (decimal.Decimal, bool) {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits, dot := 0, false
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot && digits > 0:
			dot = true
			digits = 0
		default:
			return decimal.Decimal{}, false
		}
	}
	if digits == 0 {
		return decimal.Decimal{}, false
	}
	d, err := decimal.NewFromString(s)
	return d, err == nil
}

// decodePrice reads a price: an exact decimal above zero.
func decodePrice(field, s string) (decimal.Decimal, *decodeError) {
	d, ok := parseDecimal(s)
	if !ok {
		return d, reject(feed.ReasonBadField, field+": "+quoteShort(s)+" is not a decimal string")
	}
	if d.Sign() <= 0 {
		return d, reject(feed.ReasonBadPrice, field+": "+s+" is not above zero")
	}
	return d, nil
}

// decodeSize reads a size: an exact decimal, zero or above.
func decodeSize(field, s string) (decimal.Decimal, *decodeError) {
	d, ok := parseDecimal(s)
	if !ok {
		return d, reject(feed.ReasonBadField, field+": "+quoteShort(s)+" is not a decimal string")
	}
	if d.Sign() < 0 {
		return d, reject(feed.ReasonNegativeSize, field+": "+s+" is below zero")
	}
	return d, nil
}

// decodeTime reads an RFC 3339 time, exactly as sent; an absent time is the
// receive time.
func decodeTime(s string, recv time.Time) (time.Time, *decodeError) {
	if s == "" {
		return recv, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return recv, reject(feed.ReasonBadField, "time: "+quoteShort(s)+" is not RFC 3339")
	}
	return t, nil
}

// decodeLevels reads one side of a snapshot, checking that it is strictly
// best first (bids falling, asks rising) with sizes above zero, as the book
// requires; the book would otherwise refuse the snapshot and the feed would
// believe itself in sync.
func decodeLevels(field string, raw [][]string, side model.Side) ([]model.Level, *decodeError) {
	out := make([]model.Level, len(raw))
	for i, lv := range raw {
		if len(lv) < 2 {
			return nil, reject(feed.ReasonBadField, field+": a level needs a price and a size")
		}
		price, err := decodePrice(field, lv[0])
		if err != nil {
			return nil, err
		}
		size, err := decodeSize(field, lv[1])
		if err != nil {
			return nil, err
		}
		if size.Sign() == 0 {
			return nil, reject(feed.ReasonBadSnapshot, field+": level "+lv[0]+" has size zero")
		}
		if i > 0 {
			c := price.Cmp(out[i-1].Price)
			if (side == model.Buy && c >= 0) || (side == model.Sell && c <= 0) {
				return nil, reject(feed.ReasonBadSnapshot, field+": "+lv[0]+" is not strictly behind "+out[i-1].Price.String())
			}
		}
		out[i] = model.Level{Price: price, Size: size}
	}
	return out, nil
}

// decodeSnapshot reads both sides of a snapshot and checks they do not cross.
func decodeSnapshot(m *cbMessage) (bids, asks []model.Level, err *decodeError) {
	if bids, err = decodeLevels("bids", m.Bids, model.Buy); err != nil {
		return nil, nil, err
	}
	if asks, err = decodeLevels("asks", m.Asks, model.Sell); err != nil {
		return nil, nil, err
	}
	if len(bids) > 0 && len(asks) > 0 && bids[0].Price.Cmp(asks[0].Price) >= 0 {
		return nil, nil, reject(feed.ReasonBadSnapshot, "best bid "+bids[0].Price.String()+" is not below best ask "+asks[0].Price.String())
	}
	return bids, asks, nil
}

// decodeChanges reads the changes of an l2update.
func decodeChanges(raw [][]string) ([]model.Change, *decodeError) {
	if len(raw) == 0 {
		return nil, reject(feed.ReasonBadField, "changes: missing or empty")
	}
	out := make([]model.Change, len(raw))
	for i, c := range raw {
		if len(c) < 3 {
			return nil, reject(feed.ReasonBadField, "changes: a change needs a side, a price and a size")
		}
		side, err := model.ParseSide(c[0])
		if err != nil {
			return nil, reject(feed.ReasonBadField, "changes: side "+quoteShort(c[0]))
		}
		price, derr := decodePrice("changes", c[1])
		if derr != nil {
			return nil, derr
		}
		size, derr := decodeSize("changes", c[2])
		if derr != nil {
			return nil, derr
		}
		out[i] = model.Change{Side: side, Price: price, Size: size}
	}
	return orderChanges(out), nil
}

// orderChanges returns the changes of one message in an order that does not
// cross the book on the way: when a price moves from one side to the other
// (an ask consumed and a bid resting at the same price), the upstream may
// list the new bid before the ask's removal, and a book that refuses
// crossing levels would drop the bid. Removals of levels the message touches
// only once go first; everything else keeps its order. A hoisted removal
// was valid where it stood, so it is valid first (no earlier change touched
// its level); and at every step the levels present are a subset of those
// present at the same step in the upstream's order, so nothing crosses that
// did not. The final book is the same.
func orderChanges(cs []model.Change) []model.Change {
	if len(cs) < 2 {
		return cs
	}
	once := touchedOnce(cs)
	hoist := 0
	for i, c := range cs {
		if c.Size.Sign() == 0 && once(i) {
			hoist++
		}
	}
	if hoist == 0 {
		return cs
	}
	out := make([]model.Change, 0, len(cs))
	rest := make([]model.Change, 0, len(cs)-hoist)
	for i, c := range cs {
		if c.Size.Sign() == 0 && once(i) {
			out = append(out, c)
		} else {
			rest = append(rest, c)
		}
	}
	return append(out, rest...)
}

// touchedOnce returns a function that reports whether no other change of cs
// is at the level of cs[i]: a quadratic scan for the handful of changes most
// messages hold, a count by level for batches.
func touchedOnce(cs []model.Change) func(i int) bool {
	if len(cs) <= 16 {
		return func(i int) bool {
			for j, c := range cs {
				if j != i && c.Side == cs[i].Side && c.Price.Cmp(cs[i].Price) == 0 {
					return false
				}
			}
			return true
		}
	}
	type level struct {
		side  model.Side
		price string
	}
	key := func(c model.Change) level { return level{c.Side, c.Price.String()} }
	n := make(map[level]int, len(cs))
	for _, c := range cs {
		n[key(c)]++
	}
	return func(i int) bool { return n[key(cs[i])] == 1 }
}

// decodeTrade reads a match or last_match. Its side is the maker's.
func decodeTrade(m *cbMessage) (model.Trade, *decodeError) {
	t := model.Trade{TradeID: m.TradeID, MakerOrderID: m.MakerOrderID, TakerOrderID: m.TakerOrderID}
	if m.TradeID <= 0 {
		return t, reject(feed.ReasonBadField, "trade_id: missing or not above zero")
	}
	side, err := model.ParseSide(m.Side)
	if err != nil {
		return t, reject(feed.ReasonBadField, "side "+quoteShort(m.Side))
	}
	t.Side = side
	var derr *decodeError
	if t.Price, derr = decodePrice("price", m.Price); derr != nil {
		return t, derr
	}
	if t.Size, derr = decodeSize("size", m.Size); derr != nil {
		return t, derr
	}
	if t.Size.Sign() == 0 {
		return t, reject(feed.ReasonBadField, "size: a trade of size zero")
	}
	return t, nil
}

// decodeTickerTrade reads the trade a ticker message reports. The ticker's
// side is the taker's, so the trade's (maker) side is its opposite.
func decodeTickerTrade(m *cbMessage) (model.Trade, *decodeError) {
	tm := *m
	tm.Size = m.LastSize
	t, err := decodeTrade(&tm)
	if err == nil {
		t.Side = t.Side.Opposite()
	}
	return t, err
}

// decodeStats reads the 24 h and 30 d statistics of a ticker; nil when it
// carries none.
func decodeStats(m *cbMessage) (*model.Stats, *decodeError) {
	if m.Open24h == "" && m.High24h == "" && m.Low24h == "" && m.Volume24h == "" && m.Volume30d == "" {
		return nil, nil
	}
	var s model.Stats
	for _, f := range []struct {
		name string
		raw  string
		dst  *decimal.Decimal
	}{
		{"open_24h", m.Open24h, &s.Open24h}, {"high_24h", m.High24h, &s.High24h}, {"low_24h", m.Low24h, &s.Low24h},
		{"volume_24h", m.Volume24h, &s.Volume24h}, {"volume_30d", m.Volume30d, &s.Volume30d},
	} {
		if f.raw == "" {
			continue
		}
		d, err := decodeSize(f.name, f.raw)
		if err != nil {
			return nil, err
		}
		*f.dst = d
	}
	return &s, nil
}

// quoteShort quotes s for a log line, cut to 40 bytes.
func quoteShort(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return `"` + s + `"`
}
