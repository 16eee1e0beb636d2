// Package feedtest provides a scripted Coinbase-protocol upstream for tests,
// in the manner of net/http/httptest: Exchange, a deterministic market that
// knows the exact book its messages imply; Server, a real WebSocket server
// on 127.0.0.1 that can be killed and restarted on the same port; and
// Script, which plays an Exchange to the clients of a Server.
package feedtest

import (
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/feed/coinbase"
	"github.com/tickerfan/tickerfan/feed/sim"
	"github.com/tickerfan/tickerfan/model"
)

// The channels of the messages an Exchange produces.
const (
	ChannelLevel2    = coinbase.ChannelLevel2
	ChannelTicker    = coinbase.ChannelTicker
	ChannelMatches   = coinbase.ChannelMatches
	ChannelHeartbeat = coinbase.ChannelHeartbeat
)

// Message is one upstream message and what it belongs to.
type Message struct {
	Channel string // ChannelLevel2 for snapshot and l2update, ...
	Product string
	Data    []byte
}

// ExchangeConfig shapes an Exchange; zero fields take the defaults.
type ExchangeConfig struct {
	// Seed of the simulator that drives the market. Default 1.
	Seed int64
	// Products traded, from model.DefaultProducts. Default BTC-USD.
	Products []string
	// UpdatesPerSecond and TradesPerSecond are per product, at Tick per step.
	// Defaults 250 and 25: about 5 level changes and half a trade a step.
	UpdatesPerSecond, TradesPerSecond float64
	// Depth is the levels a side. Default 20.
	Depth int
	// Start is the time of step 0; each step is Tick later. Default
	// 2026-01-01T00:00:00Z and 20ms.
	Start time.Time
	Tick  time.Duration
	// L2Sequence adds tickerfan's extension `sequence` to snapshot and
	// l2update, as a tickerfan upstream sends it.
	L2Sequence bool
}

// Exchange is a deterministic market speaking the Coinbase Exchange feed
// protocol: the built-in simulator drives it, and it applies every level2
// message it produces to its own book, so Book is exactly what a client that
// saw everything holds. Safe for concurrent use.
type Exchange struct {
	mu      sync.Mutex
	cfg     ExchangeConfig
	sim     *sim.Feed
	markets map[string]*market
	ids     []string
	steps   int
	err     error
}

type market struct {
	p         model.Product
	book      *book.Book
	seq       int64 // the product's sequence (shared by all its channels)
	l2Seq     int64 // extension: numbers snapshot and l2update
	last      model.Trade
	lastSeq   int64
	lastTime  time.Time
	open      decimal.Decimal
	high, low decimal.Decimal
	volume    decimal.Decimal
}

// NewExchange returns an exchange at step 0.
func NewExchange(cfg ExchangeConfig) (*Exchange, error) {
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	if len(cfg.Products) == 0 {
		cfg.Products = []string{"BTC-USD"}
	}
	if cfg.UpdatesPerSecond == 0 {
		cfg.UpdatesPerSecond = 250
	}
	if cfg.TradesPerSecond == 0 {
		cfg.TradesPerSecond = 25
	}
	if cfg.Depth == 0 {
		cfg.Depth = 20
	}
	if cfg.Start.IsZero() {
		cfg.Start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if cfg.Tick == 0 {
		cfg.Tick = 20 * time.Millisecond
	}
	catalog := map[string]model.Product{}
	for _, p := range model.DefaultProducts() {
		catalog[p.ID] = p
	}
	e := &Exchange{cfg: cfg, markets: map[string]*market{}, ids: cfg.Products}
	var products []model.Product
	for _, id := range cfg.Products {
		p, ok := catalog[id]
		if !ok {
			return nil, fmt.Errorf("feedtest: %s is not a default product", id)
		}
		products = append(products, p)
		e.markets[id] = &market{p: p, book: book.New(id)}
	}
	sim, err := sim.New("feedtest", sim.Config{
		Seed: cfg.Seed, Depth: cfg.Depth, UpdatesPerSecond: cfg.UpdatesPerSecond,
		TradesPerSecond: cfg.TradesPerSecond, Tick: cfg.Tick,
	}, products)
	if err != nil {
		return nil, err
	}
	e.sim = sim
	sim.Announce(cfg.Start, e.apply(nil))
	return e, e.err
}

// Products lists the product ids.
func (e *Exchange) Products() []string { return append([]string(nil), e.ids...) }

// Now is the time of the current step.
func (e *Exchange) Now() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now()
}

func (e *Exchange) now() time.Time { return e.cfg.Start.Add(time.Duration(e.steps) * e.cfg.Tick) }

// Steps is the number of steps taken.
func (e *Exchange) Steps() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.steps
}

// Err reports a message the exchange's own book refused (never, unless the
// simulator breaks its invariants).
func (e *Exchange) Err() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

// Step advances the market one tick and returns its messages in order: per
// product an l2update, then a match and a ticker per trade.
func (e *Exchange) Step() []Message {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.steps++
	var out []Message
	e.sim.Step(e.now(), e.apply(&out))
	return out
}

// Advance takes n steps whose messages nobody receives, as a market moves on
// while a client is disconnected.
func (e *Exchange) Advance(n int) {
	for range n {
		e.Step()
	}
}

// apply returns the emit function that applies the simulator's updates to
// the books and encodes them into out (when not nil).
func (e *Exchange) apply(out *[]Message) func(model.Update) {
	return func(u model.Update) {
		m := e.markets[u.Product]
		m.seq = u.Sequence
		var msg Message
		switch u.Kind {
		case model.KindSnapshot:
			if err := m.book.ApplySnapshot(u.Bids, u.Asks); err != nil && e.err == nil {
				e.err = err
			}
			return
		case model.KindChanges:
			for _, c := range u.Changes {
				if err := m.book.Apply(c); err != nil && e.err == nil {
					e.err = fmt.Errorf("feedtest: %s: %v: %w", u.Product, c, err)
				}
			}
			m.l2Seq++
			msg = Message{ChannelLevel2, u.Product, e.l2update(m, u)}
		case model.KindTrade:
			m.trade(u)
			if out != nil {
				*out = append(*out, Message{ChannelMatches, u.Product, m.match("match")})
			}
			msg = Message{ChannelTicker, u.Product, m.ticker()}
		default:
			return
		}
		if out != nil {
			*out = append(*out, msg)
		}
	}
}

func (m *market) trade(u model.Update) {
	t := u.Trade
	m.last, m.lastSeq, m.lastTime = t, u.Sequence, u.Time
	if m.open.IsZero() {
		m.open, m.high, m.low = t.Price, t.Price, t.Price
	}
	if t.Price.GreaterThan(m.high) {
		m.high = t.Price
	}
	if t.Price.LessThan(m.low) {
		m.low = t.Price
	}
	m.volume = m.volume.Add(t.Size)
}

// Snapshot returns a snapshot of product's current book.
func (e *Exchange) Snapshot(product string) Message {
	e.mu.Lock()
	defer e.mu.Unlock()
	m := e.markets[product]
	bids, asks := m.book.Top(0, nil, nil)
	var b []byte
	b = append(b, `{"type":"snapshot","product_id":"`+product+`","bids":`...)
	b = m.levels(b, bids)
	b = append(b, `,"asks":`...)
	b = m.levels(b, asks)
	b = append(b, `,"time":"`+stamp(e.now())+`"`...)
	if e.cfg.L2Sequence {
		b = append(b, `,"sequence":`+strconv.FormatInt(m.l2Seq, 10)...)
	}
	return Message{ChannelLevel2, product, append(b, '}')}
}

// Heartbeat returns product's heartbeat at the current step.
func (e *Exchange) Heartbeat(product string) Message {
	e.mu.Lock()
	defer e.mu.Unlock()
	m := e.markets[product]
	return Message{ChannelHeartbeat, product, fmt.Appendf(nil,
		`{"type":"heartbeat","sequence":%d,"last_trade_id":%d,"product_id":"%s","time":"%s"}`,
		m.seq, m.last.TradeID, product, stamp(e.now()))}
}

// LastMatch returns the last_match message that starts a matches
// subscription; ok is false before the first trade.
func (e *Exchange) LastMatch(product string) (msg Message, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	m := e.markets[product]
	return Message{ChannelMatches, product, m.match("last_match")}, m.last.TradeID != 0
}

// Ticker returns the current ticker, which starts a ticker subscription; ok
// is false before the first trade.
func (e *Exchange) Ticker(product string) (msg Message, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	m := e.markets[product]
	return Message{ChannelTicker, product, m.ticker()}, m.last.TradeID != 0
}

// Book returns a copy of product's book, best first: exactly what applying
// every level2 message so far to the first snapshot gives.
func (e *Exchange) Book(product string) (bids, asks []model.Level) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.markets[product].book.Top(0, nil, nil)
}

// LastTradeID is the id of product's last trade, 0 before the first.
func (e *Exchange) LastTradeID(product string) int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.markets[product].last.TradeID
}

func (e *Exchange) l2update(m *market, u model.Update) []byte {
	b := append([]byte(nil), `{"type":"l2update","product_id":"`+u.Product+`","changes":[`...)
	for i, c := range u.Changes {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `["`+c.Side.String()+`","`+m.p.FormatPrice(c.Price)+`","`+m.p.FormatSize(c.Size)+`"]`...)
	}
	b = append(b, `],"time":"`+stamp(u.Time)+`"`...)
	if e.cfg.L2Sequence {
		b = append(b, `,"sequence":`+strconv.FormatInt(m.l2Seq, 10)...)
	}
	return append(b, '}')
}

func (m *market) levels(b []byte, ls []model.Level) []byte {
	b = append(b, '[')
	for i, l := range ls {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `["`+m.p.FormatPrice(l.Price)+`","`+m.p.FormatSize(l.Size)+`"]`...)
	}
	return append(b, ']')
}

func (m *market) match(typ string) []byte {
	t := &m.last
	return fmt.Appendf(nil, `{"type":"%s","trade_id":%d,"maker_order_id":"%s","taker_order_id":"%s",`+
		`"side":"%s","size":"%s","price":"%s","product_id":"%s","sequence":%d,"time":"%s"}`,
		typ, t.TradeID, t.MakerOrderID, t.TakerOrderID, t.Side, m.p.FormatSize(t.Size),
		m.p.FormatPrice(t.Price), m.p.ID, m.lastSeq, stamp(m.lastTime))
}

func (m *market) ticker() []byte {
	t := &m.last
	bid, _ := m.book.Best(model.Buy)
	ask, _ := m.book.Best(model.Sell)
	return fmt.Appendf(nil, `{"type":"ticker","sequence":%d,"product_id":"%s","price":"%s",`+
		`"open_24h":"%s","volume_24h":"%s","low_24h":"%s","high_24h":"%s","volume_30d":"%s",`+
		`"best_bid":"%s","best_bid_size":"%s","best_ask":"%s","best_ask_size":"%s",`+
		`"side":"%s","time":"%s","trade_id":%d,"last_size":"%s"}`,
		m.lastSeq, m.p.ID, m.p.FormatPrice(t.Price),
		m.p.FormatPrice(m.open), m.p.FormatSize(m.volume), m.p.FormatPrice(m.low), m.p.FormatPrice(m.high), m.p.FormatSize(m.volume),
		m.p.FormatPrice(bid.Price), m.p.FormatSize(bid.Size), m.p.FormatPrice(ask.Price), m.p.FormatSize(ask.Size),
		t.Side.Opposite(), stamp(m.lastTime), t.TradeID, m.p.FormatSize(t.Size))
}

// stamp formats t as the exchange does: RFC 3339 UTC with microseconds.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z07:00") }

// FormatLevels renders levels as "price@size ..." with normalized decimals,
// for comparing books however their decimals are spelled.
func FormatLevels(ls []model.Level) string {
	s := ""
	for _, l := range ls {
		s += l.Price.String() + "@" + l.Size.String() + " "
	}
	return s
}
