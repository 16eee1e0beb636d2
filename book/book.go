package book

import (
	"fmt"

	"github.com/shopspring/decimal"
	"github.com/tickerfan/tickerfan/model"
)

// Book is one product's aggregated level-2 order book: the total size resting
// at each price, per side. It is never crossed (best bid < best ask), holds no
// level of size zero and no price twice; every method that could break this
// rejects its input and leaves the book as it was.
//
// A Book is not safe for concurrent use. Market gives each product's Book a
// single writer.
type Book struct {
	product string
	bids    side
	asks    side
}

// New returns an empty book for product.
func New(product string) *Book {
	return &Book{product: product, asks: side{asks: true}}
}

// Product returns the product id the book was created for.
func (b *Book) Product() string { return b.product }

// sideOf returns the side for s, or nil for an invalid Side.
func (b *Book) sideOf(s model.Side) *side {
	switch s {
	case model.Buy:
		return &b.bids
	case model.Sell:
		return &b.asks
	}
	return nil
}

// ApplySnapshot replaces the whole book with bids and asks, each given best
// first (bids by falling price, asks by rising price). Every price and size
// must be above zero, each side strictly ordered with no price repeated, and
// the best bid below the best ask. On error, which wraps ErrBadSnapshot and the
// reason, the book is unchanged.
//
// The book copies the levels; the caller keeps the slices.
func (b *Book) ApplySnapshot(bids, asks []model.Level) error {
	if err := b.bids.checkBestFirst(bids); err != nil {
		return err
	}
	if err := b.asks.checkBestFirst(asks); err != nil {
		return err
	}
	if len(bids) > 0 && len(asks) > 0 && cmpPrice(bids[0].Price, asks[0].Price) >= 0 {
		return snapshotError("asks", 0, asks[0], ErrCrossed)
	}
	b.bids.load(bids)
	b.asks.load(asks)
	return nil
}

// Apply applies one change with absolute-size semantics: c.Size becomes the
// total at c.Price, and a zero size removes the level. It rejects, leaving the
// book untouched, a side that is neither Buy nor Sell (ErrBadSide), a price
// not above zero (ErrBadPrice), a negative size (ErrNegativeSize), the removal
// of a price not held (ErrUnknownLevel), and a new bid at or above the best ask
// or a new ask at or below the best bid (ErrCrossed).
//
// A level keeps the spelling of its price from when it was added ("100.50"
// stays so when a change says "100.5"). Changing the size of a level the book
// holds does not allocate; a new level allocates only when the side outgrows
// its capacity. Hot path.
func (b *Book) Apply(c model.Change) error {
	s := b.sideOf(c.Side)
	if s == nil {
		return ErrBadSide
	}
	if c.Price.Sign() <= 0 {
		return ErrBadPrice
	}
	sign := c.Size.Sign()
	if sign < 0 {
		return ErrNegativeSize
	}
	i, found := s.find(c.Price)
	switch {
	case found && sign > 0:
		s.levels[i].Size = c.Size
	case found:
		s.remove(i)
	case sign == 0:
		return ErrUnknownLevel
	default:
		// Only a new best level can cross: anything below it is worse than
		// a best that already does not cross.
		if i == len(s.levels) && b.crosses(s, c.Price) {
			return ErrCrossed
		}
		s.insert(i, model.Level{Price: c.Price, Size: c.Size})
	}
	return nil
}

// crosses reports whether a level at price on s would meet or pass the best
// level of the other side.
func (b *Book) crosses(s *side, price decimal.Decimal) bool {
	other := &b.asks
	if s.asks {
		other = &b.bids
	}
	best, ok := other.best()
	// A bid crosses unless the best ask is above it, an ask unless the best
	// bid is below it.
	return ok && !s.better(best.Price, price)
}

// Best returns the best level of side: the highest bid or the lowest ask.
// ok is false when the side is empty or invalid.
func (b *Book) Best(side model.Side) (lv model.Level, ok bool) {
	s := b.sideOf(side)
	if s == nil {
		return model.Level{}, false
	}
	return s.best()
}

// Size returns the size resting at price on side; ok is false when the book
// holds no level there.
func (b *Book) Size(side model.Side, price decimal.Decimal) (size decimal.Decimal, ok bool) {
	s := b.sideOf(side)
	if s == nil {
		return decimal.Decimal{}, false
	}
	i, found := s.find(price)
	if !found {
		return decimal.Decimal{}, false
	}
	return s.levels[i].Size, true
}

// Len returns the number of levels on side, 0 for an invalid side.
func (b *Book) Len(side model.Side) int {
	if s := b.sideOf(side); s != nil {
		return len(s.levels)
	}
	return 0
}

// Top appends up to n levels per side, best first, to bids and asks and
// returns the extended slices; n <= 0 means every level. Passing slices with
// room (bids[:0] of a reused buffer) makes it allocation-free.
func (b *Book) Top(n int, bids, asks []model.Level) ([]model.Level, []model.Level) {
	return appendBestFirst(bids, b.bids.levels, n), appendBestFirst(asks, b.asks.levels, n)
}

func appendBestFirst(dst, levels []model.Level, n int) []model.Level {
	if n <= 0 || n > len(levels) {
		n = len(levels)
	}
	for i := len(levels) - 1; i >= len(levels)-n; i-- {
		dst = append(dst, levels[i])
	}
	return dst
}

// Each calls fn for the levels of side, best first, until fn returns false.
// fn must not modify the book.
func (b *Book) Each(side model.Side, fn func(model.Level) bool) {
	s := b.sideOf(side)
	if s == nil {
		return
	}
	for i := len(s.levels) - 1; i >= 0; i-- {
		if !fn(s.levels[i]) {
			return
		}
	}
}

// Clone returns an independent copy of the book. The copies share decimal
// values with b, which is safe: decimals are immutable.
func (b *Book) Clone() *Book {
	c := *b
	c.bids.levels = append([]model.Level(nil), b.bids.levels...)
	c.asks.levels = append([]model.Level(nil), b.asks.levels...)
	return &c
}

// Reset empties the book, keeping its storage for the next snapshot.
func (b *Book) Reset() {
	b.bids.load(nil)
	b.asks.load(nil)
}

// snapshotError describes a rejected snapshot level.
func snapshotError(name string, i int, lv model.Level, reason error) error {
	return fmt.Errorf("%w: %s[%d] (price %s, size %s): %w", ErrBadSnapshot, name, i, lv.Price, lv.Size, reason)
}
