package sim

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/tickerfan/tickerfan/model"
)

// simCase is one simulator setup; the table drives TestSimInvariants and
// BenchmarkSimStep.
type simCase struct {
	name     string
	cfg      Config
	products []model.Product
	steps    int
}

// lowPriced is a product priced at the floor of what depth 5 allows (20
// ticks), so the walk keeps hitting its lower bound.
var lowPriced = model.Product{ID: "LOW-USD", QuoteIncrement: decimal.New(1, -2), BaseIncrement: decimal.New(1, 0)}.WithDefaults()

var simCases = []simCase{
	{name: "defaults", products: model.DefaultProducts(), steps: 10_000},
	{
		name: "stress",
		cfg: Config{Seed: 7, Depth: 5, UpdatesPerSecond: 1000, TradesPerSecond: 100, Volatility: 0.001,
			StartPrices: map[string]decimal.Decimal{"LOW-USD": decimal.New(20, -2)}},
		products: []model.Product{model.DefaultProducts()[0], model.DefaultProducts()[4], lowPriced},
		steps:    5_000,
	},
	{
		name:     "slow-tick",
		cfg:      Config{Seed: 3, Depth: 200, Tick: time.Second, UpdatesPerSecond: 50, TradesPerSecond: 5},
		products: model.DefaultProducts()[:2],
		steps:    2_000,
	},
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// refBook is a product's book rebuilt from the stream by the simplest means,
// with the bookkeeping needed to check the stream's invariants.
type refBook struct {
	product     model.Product
	bids, asks  map[int64]decimal.Decimal // price in ticks -> size
	seq         int64
	tradeID     int64
	stepChanges []refChange   // changes of the current step, in order
	stepTrades  []model.Trade // trades of the current step, in order
	minBids     int           // fewest levels a side held after warm-up
	minAsks     int
	sumLevels   int // levels of both sides summed over checked updates
	updates     int
}

// refChange is one applied change with the size it replaced.
type refChange struct {
	model.Change
	prev decimal.Decimal
}

// streamChecker applies a simulator's stream to reference books and fails t
// on the first broken invariant of each kind.
type streamChecker struct {
	t     *testing.T
	depth int
	now   time.Time
	books map[string]*refBook
	stats streamStats
}

// streamStats counts what the stream carried.
type streamStats struct {
	changes, removals, trades, updates int
}

func newStreamChecker(t *testing.T, depth int, products []model.Product) *streamChecker {
	c := &streamChecker{t: t, depth: depth, books: map[string]*refBook{}}
	for _, p := range products {
		c.books[p.ID] = &refBook{product: p, minBids: depth, minAsks: depth}
	}
	return c
}

// emit checks and applies one update; pass it to Announce and Step.
func (c *streamChecker) emit(u model.Update) {
	b := c.books[u.Product]
	if b == nil {
		c.t.Fatalf("update for unknown product %q", u.Product)
	}
	c.stats.updates++
	if u.Sequence != b.seq+1 {
		c.t.Fatalf("%s: sequence %d after %d", u.Product, u.Sequence, b.seq)
	}
	b.seq = u.Sequence
	if !u.Time.Equal(c.now) {
		c.t.Fatalf("%s: time %v, want %v", u.Product, u.Time, c.now)
	}
	switch u.Kind {
	case model.KindStatus:
		if !u.Online {
			c.t.Fatalf("%s: status not online", u.Product)
		}
	case model.KindSnapshot:
		c.snapshot(b, u)
	case model.KindChanges:
		c.changes(b, u)
	case model.KindTrade:
		c.trade(b, u.Trade)
	default:
		c.t.Fatalf("%s: unexpected kind %v", u.Product, u.Kind)
	}
}

func (c *streamChecker) snapshot(b *refBook, u model.Update) {
	b.bids, b.asks = map[int64]decimal.Decimal{}, map[int64]decimal.Decimal{}
	for _, side := range []struct {
		levels []model.Level
		book   map[int64]decimal.Decimal
		better func(a, b int64) bool
	}{
		{u.Bids, b.bids, func(x, y int64) bool { return x > y }},
		{u.Asks, b.asks, func(x, y int64) bool { return x < y }},
	} {
		prev := int64(-1)
		for _, lv := range side.levels {
			p := c.ticks(b, lv.Price)
			c.checkSize(b, lv.Size, false)
			if prev >= 0 && !side.better(prev, p) {
				c.t.Fatalf("%s: snapshot not sorted best first at %s", b.product.ID, lv.Price)
			}
			prev = p
			side.book[p] = lv.Size
		}
	}
	c.checkBook(b)
}

func (c *streamChecker) changes(b *refBook, u model.Update) {
	if len(b.stepChanges) > 0 || len(b.stepTrades) > 0 {
		c.t.Fatalf("%s: second changes update in one step (or after a trade)", b.product.ID)
	}
	if len(u.Changes) == 0 {
		c.t.Fatalf("%s: empty changes update", b.product.ID)
	}
	for _, ch := range u.Changes {
		book := b.bids
		if ch.Side == model.Sell {
			book = b.asks
		} else if ch.Side != model.Buy {
			c.t.Fatalf("%s: change with side %v", b.product.ID, ch.Side)
		}
		p := c.ticks(b, ch.Price)
		c.checkSize(b, ch.Size, true)
		prev, ok := book[p]
		if ch.Size.IsZero() {
			if !ok {
				c.t.Fatalf("%s: removes unknown %v level %s", b.product.ID, ch.Side, ch.Price)
			}
			delete(book, p)
			c.stats.removals++
		} else {
			book[p] = ch.Size
		}
		c.stats.changes++
		b.stepChanges = append(b.stepChanges, refChange{Change: ch, prev: prev})
	}
	c.checkBook(b)
}

func (c *streamChecker) trade(b *refBook, tr model.Trade) {
	c.stats.trades++
	if tr.TradeID != b.tradeID+1 {
		c.t.Fatalf("%s: trade id %d after %d", b.product.ID, tr.TradeID, b.tradeID)
	}
	b.tradeID = tr.TradeID
	if !uuidPattern.MatchString(tr.MakerOrderID) || !uuidPattern.MatchString(tr.TakerOrderID) {
		c.t.Fatalf("%s: order ids %q, %q are not UUIDs", b.product.ID, tr.MakerOrderID, tr.TakerOrderID)
	}
	c.ticks(b, tr.Price)
	c.checkSize(b, tr.Size, false)
	b.stepTrades = append(b.stepTrades, tr)
}

// endStep checks that the trades of the step match the changes they made:
// the last len(trades) changes, one per trade, on the maker's side, at the
// trade's price, shrinking the level by the trade's size.
func (c *streamChecker) endStep() {
	for _, b := range c.books {
		k := len(b.stepTrades)
		if k > len(b.stepChanges) {
			c.t.Fatalf("%s: %d trades but %d changes in a step", b.product.ID, k, len(b.stepChanges))
		}
		consumed := b.stepChanges[len(b.stepChanges)-k:]
		for i, tr := range b.stepTrades {
			ch := consumed[i]
			if ch.Side != tr.Side || !ch.Price.Equal(tr.Price) || !ch.prev.Sub(ch.Size).Equal(tr.Size) {
				c.t.Fatalf("%s: trade %+v does not match its change %v %s %s -> %s",
					b.product.ID, tr, ch.Side, ch.Price, ch.prev, ch.Size)
			}
		}
		b.stepChanges, b.stepTrades = b.stepChanges[:0], b.stepTrades[:0]
	}
}

// ticks checks that price is positive and on the product's grid and returns
// it in increments.
func (c *streamChecker) ticks(b *refBook, price decimal.Decimal) int64 {
	c.t.Helper()
	inc := b.product.QuoteIncrement
	if !price.IsPositive() || !price.Mod(inc).IsZero() {
		c.t.Fatalf("%s: price %s not positive on grid %s", b.product.ID, price, inc)
	}
	return price.Div(inc).IntPart()
}

// checkSize checks that size is on the product's grid and positive (or zero
// when zero is allowed).
func (c *streamChecker) checkSize(b *refBook, size decimal.Decimal, zeroOK bool) {
	c.t.Helper()
	inc := b.product.BaseIncrement
	if size.IsNegative() || (size.IsZero() && !zeroOK) || !size.Mod(inc).IsZero() {
		c.t.Fatalf("%s: size %s not positive on grid %s", b.product.ID, size, inc)
	}
}

// checkBook checks the reference book after an update: uncrossed, within
// depth+1 levels a side, and tracks the depth statistics.
func (c *streamChecker) checkBook(b *refBook) {
	maxBid, minAsk := int64(-1), int64(-1)
	for p := range b.bids {
		maxBid = max(maxBid, p)
	}
	for p := range b.asks {
		if minAsk < 0 || p < minAsk {
			minAsk = p
		}
	}
	if maxBid >= 0 && minAsk >= 0 && maxBid >= minAsk {
		c.t.Fatalf("%s: crossed book: bid %d >= ask %d ticks", b.product.ID, maxBid, minAsk)
	}
	if len(b.bids) > c.depth+1 || len(b.asks) > c.depth+1 {
		c.t.Fatalf("%s: %d bids, %d asks, depth %d", b.product.ID, len(b.bids), len(b.asks), c.depth)
	}
	b.minBids, b.minAsks = min(b.minBids, len(b.bids)), min(b.minAsks, len(b.asks))
	b.sumLevels += len(b.bids) + len(b.asks)
	b.updates++
}

// run announces and steps sim through steps ticks of tick, checking
// everything.
func (c *streamChecker) run(sim *Feed, tick time.Duration, steps int) {
	c.t.Helper()
	c.now = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	sim.Announce(c.now, c.emit)
	for range steps {
		c.now = c.now.Add(tick)
		sim.Step(c.now, c.emit)
		c.endStep()
	}
}

func (b *refBook) String() string {
	return fmt.Sprintf("%s: seq %d, trades %d, min depth %d/%d, mean levels a side %.1f",
		b.product.ID, b.seq, b.tradeID, b.minBids, b.minAsks, float64(b.sumLevels)/float64(2*max(1, b.updates)))
}

func TestSimInvariants(t *testing.T) {
	for _, tc := range simCases {
		t.Run(tc.name, func(t *testing.T) {
			sim, err := New("sim", tc.cfg, tc.products)
			if err != nil {
				t.Fatal(err)
			}
			cfg := tc.cfg.withDefaults()
			c := newStreamChecker(t, cfg.Depth, tc.products)
			c.run(sim, cfg.Tick, tc.steps)
			for _, p := range tc.products {
				b := c.books[p.ID]
				t.Log(b)
				if b.seq < int64(tc.steps)/10 {
					t.Errorf("%s: only %d updates in %d steps", p.ID, b.seq, tc.steps)
				}
				if mean := float64(b.sumLevels) / float64(2*b.updates); mean < 0.9*float64(cfg.Depth) {
					t.Errorf("%s: mean %.1f levels a side, want about %d", p.ID, mean, cfg.Depth)
				}
				if b.minBids < 1 || b.minAsks < 1 {
					t.Errorf("%s: a side emptied: %d bids, %d asks at least", p.ID, b.minBids, b.minAsks)
				}
			}
			t.Logf("%+v", c.stats)
		})
	}
}
