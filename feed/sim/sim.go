package sim

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tickerfan/tickerfan/feed"
	"github.com/tickerfan/tickerfan/internal/yamlconf"
	"github.com/tickerfan/tickerfan/model"
)

// Feed is the built-in market simulator, the default upstream: for each
// product a fair price on a random walk, a level-2 book of Config.Depth
// levels a side around it that changes at random, and takers that trade
// against it.
//
// The simulation is deterministic: each product draws from its own PCG
// generator seeded with (Seed, the product's index), and advances only when
// stepped, so the updates of a product (all but Time) repeat exactly for the
// same seed, configuration and products, whatever the wall clock does.
//
// The stream keeps the invariants a book needs: each product's Sequence
// runs 1, 2, 3, ...; the book never crosses; a change never removes a level
// the book does not hold; prices and sizes are exact decimals on the
// product's grids, and sizes of resting levels are positive.
//
// A Feed is not safe for concurrent use: Run, Step and Announce must not
// overlap. It starts no goroutines.
type Feed struct {
	name    string
	ids     []string
	tick    time.Duration
	markets []*simMarket
	tr      *feed.Tracker // counts each update Run emits as a message
}

var _ feed.Source = (*Feed)(nil)

// New returns a simulator named name for products, configured by cfg
// (zero fields take their defaults). It returns cfg's field errors (from
// Validate) or else every product problem at once: products with no usable
// start price (yamlconf errors on start_prices, relative to cfg),
// ErrNoProducts, ErrDuplicateProduct and ErrBadIncrement.
func New(name string, cfg Config, products []model.Product) (*Feed, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if len(products) == 0 {
		return nil, feed.ErrNoProducts
	}
	s := &Feed{name: name, tick: cfg.Tick}
	var errs []error
	seen := make(map[string]bool, len(products))
	for i, p := range products {
		p = p.WithDefaults()
		if seen[p.ID] {
			errs = append(errs, fmt.Errorf("%w: %q", feed.ErrDuplicateProduct, p.ID))
			continue
		}
		seen[p.ID] = true
		mp, err := simParams(cfg, p, i)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.ids = append(s.ids, p.ID)
		s.markets = append(s.markets, newSimMarket(cfg, mp))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s.tr = feed.NewTracker(name, Kind, "", s.Products())
	s.tr.SetState(feed.StateLive)
	return s, nil
}

// simParams checks the grids and start price of product p, the index-th
// product, and returns what its market needs.
func simParams(cfg Config, p model.Product, index int) (simMarketParams, error) {
	mp := simMarketParams{product: p, index: index}
	var okPrice, okSize bool
	mp.price, okPrice = newSimGrid(p.QuoteIncrement)
	mp.size, okSize = newSimGrid(p.BaseIncrement)
	if !okPrice || !okSize {
		return mp, fmt.Errorf("%w: %s: quote_increment %s, base_increment %s",
			feed.ErrBadIncrement, p.ID, p.QuoteIncrement, p.BaseIncrement)
	}
	start, ok := cfg.StartPrices[p.ID]
	if !ok {
		start, ok = model.DefaultStartPrice(p.ID)
	}
	if !ok {
		return mp, yamlconf.Errorf("start_prices", "no start price for product %q and no built-in default", p.ID)
	}
	ticks := start.Div(p.QuoteIncrement).Round(0)
	lo, hi := simMinTicks(cfg.Depth), int64(simMaxTicks(mp.price)/2)
	if ticks.LessThan(decimal.NewFromInt(lo)) || ticks.GreaterThan(decimal.NewFromInt(hi)) {
		return mp, yamlconf.Errorf("start_prices."+p.ID,
			"%s is %s price increments of %s; with depth %d it must be between %d and %d",
			start, ticks, p.QuoteIncrement, cfg.Depth, lo, hi)
	}
	mp.startTicks = ticks.IntPart()
	return mp, nil
}

// Name returns the configured feed name.
func (s *Feed) Name() string { return s.name }

// Products returns the product ids, in configuration order. The slice is the
// caller's.
func (s *Feed) Products() []string { return append([]string(nil), s.ids...) }

// Announce emits, for each product in order, a KindStatus update saying it is
// online and a KindSnapshot of its current book. Run calls it first; a caller
// that drives the simulator with Step calls it to start a consumer's books.
func (s *Feed) Announce(now time.Time, emit func(model.Update)) {
	for _, m := range s.markets {
		m.announce(now, emit)
	}
}

// Step advances every product by one tick and emits, product by product, one
// KindChanges with all of the product's level changes in the step (when
// there are any), then a KindTrade per trade. Each update carries Time now.
func (s *Feed) Step(now time.Time, emit func(model.Update)) {
	for _, m := range s.markets {
		m.step(now, emit)
	}
}

// Run announces every product, then steps the simulation once per tick with
// the UTC wall time until ctx is done, and returns nil. When emit is slow,
// ticks are dropped (time.Ticker) and the simulation slows down instead of
// bursting; the stream itself does not depend on the timing.
//
// Each update emitted counts as one message of the feed's Status (no bytes:
// nothing is read from a network).
func (s *Feed) Run(ctx context.Context, emit func(model.Update)) error {
	if ctx.Err() != nil {
		return nil
	}
	defer s.tr.SetState(feed.StateStopped)
	var now time.Time
	counted := func(u model.Update) {
		s.tr.Message(0, now)
		emit(u)
	}
	now = time.Now().UTC()
	s.Announce(now, counted)
	t := time.NewTicker(s.tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			now = time.Now().UTC()
			s.Step(now, counted)
		}
	}
}

var _ feed.StatusReporter = (*Feed)(nil)

// Status reports the simulator: live from New until Run returns, with the
// updates Run emitted as its messages. Safe to call while Run runs.
func (s *Feed) Status() feed.Status { return s.tr.Status() }
