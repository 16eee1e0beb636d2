package sim

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/shopspring/decimal"
	"github.com/tickerfan/tickerfan/model"
)

// Shape of the simulated order flow. Not configuration: these make the book
// look plausible, the rates and volatility in Config set its pace.
const (
	// simResizeChance is the share of l2 events that change the size of an
	// existing level, the most frequent event on real books.
	simResizeChance = 0.6
	// simLevelNotionalUSD is the median value of a resting level, in dollars.
	simLevelNotionalUSD = 2000
	// simSizeSigma is the std-dev of the logarithm of a new level's size.
	simSizeSigma = 1.0
	// simResizeSigma is the std-dev of the logarithm of a size change.
	simResizeSigma = 0.4
	// simMaxUnits bounds ticks*increment coefficients, far inside int64.
	simMaxUnits = 1e17
)

// simGrid is a price or size grid: a value of n increments is the decimal
// n*coef * 10^exp, exact and cheap to build.
type simGrid struct {
	coef int64
	exp  int32
}

// newSimGrid returns the grid of increment inc, and false unless inc is
// positive with a coefficient that fits in int64.
func newSimGrid(inc decimal.Decimal) (simGrid, bool) {
	n := inc.Normalize()
	c := n.Coefficient()
	if c.Sign() <= 0 || !c.IsInt64() || c.Int64() > simMaxUnits/1e6 {
		return simGrid{}, false
	}
	return simGrid{coef: c.Int64(), exp: n.Exponent()}, true
}

// dec returns n increments as an exact decimal.
func (g simGrid) dec(n int64) decimal.Decimal { return decimal.New(n*g.coef, g.exp) }

// float returns one increment as a float64, for sizing heuristics only.
func (g simGrid) float() float64 { return float64(g.coef) * math.Pow10(int(g.exp)) }

// simMarket is the simulated state of one product: a fair price on a random
// walk, the book around it and the updates of the current step. It is owned by
// its Feed and not safe for concurrent use.
type simMarket struct {
	id    string
	rng   *rand.Rand
	price simGrid // quote increment: the unit of level prices
	size  simGrid // base increment: the unit of level sizes

	depth            int
	vol              float64 // relative std-dev of fair per step
	fair             float64 // fair price in ticks
	minFair, maxFair float64 // fair reflects off these bounds
	medianLots       float64 // median size of a new level
	maxLots          int64

	updates poisson // l2 events per step
	trades  poisson // taker orders per step

	book    simBook
	seq     int64          // Sequence of the last emitted update
	tradeID int64          // TradeID of the last trade
	changes []model.Change // changes of the current step, emitted by flush
	fills   []model.Trade  // trades of the current step, emitted after changes
}

// simMarketParams is what newSimMarket needs beyond the configuration:
// the product's validated grids and start price in ticks.
type simMarketParams struct {
	product     model.Product
	index       int
	price, size simGrid
	startTicks  int64
}

// newSimMarket returns a market at its start price with a full book of
// cfg.Depth levels a side. cfg has its defaults filled.
func newSimMarket(cfg Config, mp simMarketParams) *simMarket {
	step := cfg.Tick.Seconds()
	m := &simMarket{
		id:      mp.product.ID,
		rng:     rand.New(rand.NewPCG(uint64(cfg.Seed), uint64(mp.index))),
		price:   mp.price,
		size:    mp.size,
		depth:   cfg.Depth,
		vol:     cfg.Volatility,
		fair:    float64(mp.startTicks),
		minFair: float64(simMinTicks(cfg.Depth)),
		maxFair: simMaxTicks(mp.price),
		maxLots: simMaxUnits / mp.size.coef,
		updates: newPoisson(cfg.UpdatesPerSecond * step),
		trades:  newPoisson(cfg.TradesPerSecond * step),
		book:    newSimBook(cfg.Depth),
	}
	m.medianLots = medianLots(mp.product, float64(mp.startTicks)*mp.price.float(), mp.size)
	m.populate()
	return m
}

// simMinTicks is the lowest start price, in ticks, at which a full bid side
// of depth levels fits above zero; the fair price never walks below it.
func simMinTicks(depth int) int64 { return 4 * int64(depth) }

// simMaxTicks is the highest fair price, in ticks, on grid g: far asks and
// their decimals stay inside int64.
func simMaxTicks(g simGrid) float64 { return simMaxUnits / 2 / float64(g.coef) }

// medianLots returns the median size of a new level of p, in base increments:
// about simLevelNotionalUSD worth at price (in quote currency).
func medianLots(p model.Product, price float64, size simGrid) float64 {
	usdPerQuote := 1.0
	if q, ok := model.DefaultStartPrice(p.QuoteCurrency + "-USD"); ok {
		usdPerQuote = q.InexactFloat64()
	}
	base := simLevelNotionalUSD / usdPerQuote / price
	return max(1, base/size.float())
}

// populate builds the initial book: depth levels a side, spaced like new
// levels, the best bid at the start price and the best ask a tick above.
func (m *simMarket) populate() {
	for range m.depth {
		m.addFar(&m.book.bids)
		m.addFar(&m.book.asks)
	}
	m.changes = nil
}

// step advances the market by one tick and emits what changed: one KindChanges
// with every level change of the step, then one KindTrade per fill.
func (m *simMarket) step(now time.Time, emit func(model.Update)) {
	m.walk()
	m.recentre()
	for n := m.updates.draw(m.rng); n > 0; n-- {
		m.l2Event()
	}
	for n := m.trades.draw(m.rng); n > 0; n-- {
		m.trade()
	}
	m.flush(now, emit)
}

// flush emits the step's changes as one update, then its trades, numbering
// them on, and hands the changes slice over to the receiver.
func (m *simMarket) flush(now time.Time, emit func(model.Update)) {
	if len(m.changes) > 0 {
		m.seq++
		emit(model.Update{Kind: model.KindChanges, Product: m.id, Time: now, Sequence: m.seq, Changes: m.changes})
		m.changes = nil
	}
	for i := range m.fills {
		m.seq++
		emit(model.Update{Kind: model.KindTrade, Product: m.id, Time: now, Sequence: m.seq, Trade: m.fills[i]})
	}
	m.fills = m.fills[:0]
}

// announce emits the product's online status and a snapshot of its book.
func (m *simMarket) announce(now time.Time, emit func(model.Update)) {
	m.seq++
	emit(model.Update{Kind: model.KindStatus, Product: m.id, Time: now, Sequence: m.seq, Online: true})
	m.seq++
	emit(model.Update{Kind: model.KindSnapshot, Product: m.id, Time: now, Sequence: m.seq,
		Bids: m.levels(&m.book.bids), Asks: m.levels(&m.book.asks)})
}

// levels returns a new slice of the levels of s as decimals, best first.
func (m *simMarket) levels(s *simSide) []model.Level {
	out := make([]model.Level, len(s.levels))
	for i, lv := range s.levels {
		out[i] = model.Level{Price: lv.px, Size: m.size.dec(lv.size)}
	}
	return out
}

// record appends a change to the level at price px on side s.
func (m *simMarket) record(s model.Side, px decimal.Decimal, lots int64) {
	if m.changes == nil {
		m.changes = make([]model.Change, 0, 4)
	}
	size := decimal.Zero
	if lots > 0 {
		size = m.size.dec(lots)
	}
	m.changes = append(m.changes, model.Change{Side: s, Price: px, Size: size})
}
