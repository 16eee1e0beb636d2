package book

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tickerfan/tickerfan/model"
	"go.uber.org/zap"
)

// Market holds the books and ticker state of a fixed set of products, applies
// normalized updates to them and publishes each product's Event stream.
//
// Concurrency: Apply for one product must be called by one goroutine at a time
// (the feed that owns the product); Apply for different products may run
// concurrently. Counters and Snapshot are safe at any time. Market starts no
// goroutines.
type Market struct {
	cfg      Config
	log      *zap.Logger
	publish  func(Event)
	products map[string]*product // fixed at NewMarket: read without a lock

	unknown    atomic.Uint64
	unknownLog sampler
}

// product is one product's state; only its single writer touches it, except
// the atomic counters and Snapshot, which reads under mu. The writer holds mu
// for a whole Apply (publish included), so a snapshot is never torn and its
// Seq is that of the last event published before it. Uncontended, mu costs
// about 15 ns an update.
type product struct {
	mu          sync.Mutex
	id          string
	book        *Book
	stats       rolling
	ticker      Ticker
	lastTradeID int64
	seq         uint64    // Seq of the last published event
	lastTime    time.Time // Time of the last published event
	n           counters
	rejectLog   sampler
}

// NewMarket returns a Market for products with empty books. publish receives
// every event, synchronously on the goroutine that called Apply, and owns the
// event's slices; it must not call Apply or Snapshot for the same product
// (the product's lock is held while it runs). A nil log
// discards logs. It fails on an invalid cfg, an empty or repeated product id,
// or a nil publish.
func NewMarket(cfg Config, products []model.Product, publish func(Event), log *zap.Logger) (*Market, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if publish == nil {
		return nil, ErrNoPublish
	}
	if log == nil {
		log = zap.NewNop()
	}
	cfg = cfg.withDefaults()
	m := &Market{
		cfg:        cfg,
		log:        log,
		publish:    publish,
		products:   make(map[string]*product, len(products)),
		unknownLog: sampler{interval: cfg.RejectLogInterval},
	}
	for _, p := range products {
		if _, dup := m.products[p.ID]; dup || p.ID == "" {
			return nil, fmt.Errorf("%w: %q", ErrDuplicateProduct, p.ID)
		}
		m.products[p.ID] = &product{
			id:        p.ID,
			book:      New(p.ID),
			rejectLog: sampler{interval: cfg.RejectLogInterval},
		}
	}
	return m, nil
}

// Apply applies one update and publishes what it caused:
//
//   - KindSnapshot replaces the book and publishes EventSnapshot with the whole
//     book (and Ticker once a trade was seen); an invalid snapshot is counted,
//     logged and dropped, and the old book stays.
//   - KindChanges applies each change in order and publishes one EventUpdate
//     with the changes applied (and removals made to keep Config.MaxLevels);
//     rejected changes are counted by reason, logged (sampled) and left out.
//     Nothing is published when nothing was applied.
//   - KindTrade records the trade (dropping one with a price or size not above
//     zero or a bad side) and publishes EventTrade with the new Ticker.
//   - KindStats replaces the product's statistics, in the ticker state too,
//     and publishes nothing; the next event with a Ticker carries them.
//   - KindHeartbeat publishes EventHeartbeat with the update's LastTradeID, or
//     the last trade id seen when the upstream sends none.
//   - KindStatus publishes EventStatus.
//
// Every event gets the product's next Seq (from 1, no gaps), the update's Time
// as Time and its Sequence as UpstreamSeq.
//
// Updates of unknown products or kinds are counted, logged (sampled) and dropped.
func (m *Market) Apply(u model.Update) {
	p := m.products[u.Product]
	if p == nil {
		m.unknown.Add(1)
		if held, ok := m.unknownLog.allow(); ok {
			m.log.Warn("update dropped", zap.Error(ErrUnknownProduct), zap.String("product", u.Product),
				zap.Stringer("kind", u.Kind), zap.Uint64("held_back", held))
		}
		return
	}
	p.n.updates.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	switch u.Kind {
	case model.KindSnapshot:
		m.applySnapshot(p, &u)
	case model.KindChanges:
		m.applyChanges(p, &u)
	case model.KindTrade:
		m.applyTrade(p, &u)
	case model.KindStats:
		if u.Stats == nil {
			m.badUpdate(p, &u)
			return
		}
		p.stats.set(*u.Stats)
		if p.ticker.Valid() {
			p.ticker.setStats(*u.Stats)
		}
	case model.KindHeartbeat:
		last := u.LastTradeID
		if last == 0 {
			last = p.lastTradeID
		}
		m.emit(p, &u, Event{Kind: EventHeartbeat, LastTradeID: last})
	case model.KindStatus:
		m.emit(p, &u, Event{Kind: EventStatus, Online: u.Online, Message: u.Message})
	default:
		m.badUpdate(p, &u)
	}
}

func (m *Market) applySnapshot(p *product, u *model.Update) {
	if err := p.book.ApplySnapshot(u.Bids, u.Asks); err != nil {
		p.n.badSnapshots.Add(1)
		m.logReject(p, "snapshot dropped", err)
		return
	}
	p.n.snapshots.Add(1)
	if m.cfg.MaxLevels > 0 {
		p.n.trimmed.Add(uint64(p.book.trim(m.cfg.MaxLevels)))
	}
	ev := Event{Kind: EventSnapshot}
	ev.Bids, ev.Asks = p.book.Top(0,
		make([]model.Level, 0, p.book.Len(model.Buy)), make([]model.Level, 0, p.book.Len(model.Sell)))
	if p.ticker.Valid() {
		ev.Ticker = p.ticker
	}
	m.emit(p, u, ev)
}

// applyChanges is the hot path of the Market: one call per upstream level-2
// message.
func (m *Market) applyChanges(p *product, u *model.Update) {
	applied := make([]model.Change, 0, len(u.Changes))
	var n, trimmed int
	for _, c := range u.Changes {
		var err error
		if m.cfg.MaxLevels > 0 {
			var dropped int
			applied, dropped, err = p.book.applyCapped(c, m.cfg.MaxLevels, applied)
			trimmed += dropped
		} else if err = p.book.Apply(c); err == nil {
			applied = append(applied, c)
		}
		if err != nil {
			p.n.reject(err)
			if err != errBeyondDepth {
				m.logReject(p, "change rejected", err, zap.Stringer("side", c.Side),
					zap.Stringer("price", c.Price), zap.Stringer("size", c.Size))
			}
			continue
		}
		n++
	}
	p.n.applied.Add(uint64(n))
	if trimmed > 0 {
		p.n.trimmed.Add(uint64(trimmed))
	}
	if len(applied) > 0 {
		m.emit(p, u, Event{Kind: EventUpdate, Changes: applied})
	}
}

func (m *Market) applyTrade(p *product, u *model.Update) {
	t := &u.Trade
	if t.Price.Sign() <= 0 || t.Size.Sign() <= 0 || (t.Side != model.Buy && t.Side != model.Sell) {
		p.n.badTrades.Add(1)
		m.logReject(p, "trade dropped", ErrBadTrade, zap.Int64("trade_id", t.TradeID),
			zap.Stringer("side", t.Side), zap.Stringer("price", t.Price), zap.Stringer("size", t.Size))
		return
	}
	p.n.trades.Add(1)
	if u.Stats != nil {
		p.stats.set(*u.Stats)
	} else {
		p.stats.add(u.Time, t.Price, t.Size)
	}
	p.lastTradeID = t.TradeID
	p.ticker = Ticker{
		TradeID:  t.TradeID,
		Price:    t.Price,
		LastSize: t.Size,
		Side:     t.Side.Opposite(),
		Time:     u.Time,
	}
	p.ticker.setStats(p.stats.stats())
	if bid, ok := p.book.Best(model.Buy); ok {
		p.ticker.BestBid, p.ticker.BestBidSize = bid.Price, bid.Size
	}
	if ask, ok := p.book.Best(model.Sell); ok {
		p.ticker.BestAsk, p.ticker.BestAskSize = ask.Price, ask.Size
	}
	m.emit(p, u, Event{Kind: EventTrade, Trade: *t, Ticker: p.ticker, LastTradeID: t.TradeID})
}

func (m *Market) badUpdate(p *product, u *model.Update) {
	p.n.badUpdates.Add(1)
	m.logReject(p, "update dropped", ErrBadUpdate, zap.Stringer("kind", u.Kind))
}

// emit stamps ev with the product's next Seq and the update's time and
// sequence, and publishes it.
func (m *Market) emit(p *product, u *model.Update, ev Event) {
	p.seq++
	p.lastTime = u.Time
	ev.Product, ev.Seq, ev.Time, ev.UpstreamSeq = p.id, p.seq, u.Time, u.Sequence
	m.publish(ev)
}

// logReject logs a rejection of p's input unless one was logged within
// Config.RejectLogInterval.
func (m *Market) logReject(p *product, msg string, err error, fields ...zap.Field) {
	held, ok := p.rejectLog.allow()
	if !ok {
		return
	}
	fields = append(fields, zap.String("product", p.id), zap.Error(err), zap.Uint64("held_back", held))
	m.log.Warn(msg, fields...)
}

// setStats copies rolling statistics into the ticker.
func (t *Ticker) setStats(s model.Stats) {
	t.Open24h, t.High24h, t.Low24h = s.Open24h, s.High24h, s.Low24h
	t.Volume24h, t.Volume30d = s.Volume24h, s.Volume30d
}

// Counters returns the Market's counters, summed over its products. Safe for
// concurrent use with Apply.
func (m *Market) Counters() Counters {
	c := Counters{UnknownProduct: m.unknown.Load()}
	c.Updates = c.UnknownProduct
	for _, p := range m.products {
		p.n.addTo(&c)
	}
	return c
}

// Book returns the live book of product, nil for an unknown product. It is
// not safe to use concurrently with Apply for that product, and must not be
// modified: it is for tests and inspection (Clone it to keep a copy).
func (m *Market) Book(product string) *Book {
	if p := m.products[product]; p != nil {
		return p.book
	}
	return nil
}

// Ticker returns the ticker state of product after its last trade; ok is
// false for an unknown product or before its first trade. It is not safe to
// use concurrently with Apply for that product.
func (m *Market) Ticker(product string) (Ticker, bool) {
	p := m.products[product]
	if p == nil || !p.ticker.Valid() {
		return Ticker{}, false
	}
	return p.ticker, true
}

// Snapshot returns product's current book as an EventSnapshot (with the
// Ticker once a trade was seen) whose Seq is that of the last event published
// for the product: applying the events after Seq to it gives the live book.
// Time is the time of that last event. ok is false for an unknown product.
// Safe for concurrent use with Apply; the event's slices are the caller's.
func (m *Market) Snapshot(product string) (ev Event, ok bool) {
	p := m.products[product]
	if p == nil {
		return Event{}, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	ev = Event{Kind: EventSnapshot, Product: p.id, Seq: p.seq, Time: p.lastTime}
	ev.Bids, ev.Asks = p.book.Top(0,
		make([]model.Level, 0, p.book.Len(model.Buy)), make([]model.Level, 0, p.book.Len(model.Sell)))
	if p.ticker.Valid() {
		ev.Ticker = p.ticker
	}
	return ev, true
}
