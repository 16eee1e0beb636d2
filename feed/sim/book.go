package sim

import (
	"github.com/shopspring/decimal"
	"github.com/tickerfan/tickerfan/model"
)

// simLevel is one price level of the simulator's book, on the product's grid.
type simLevel struct {
	price int64 // in quote increments, > 0
	size  int64 // in base increments, > 0
	// px is price as a decimal, converted once when the level is added and
	// shared by every update that names the level (decimals are immutable).
	px decimal.Decimal
}

// simSide is one side of the simulator's book, levels sorted best first
// (highest bid, lowest ask). At simulated depths (tens of levels) a sorted
// slice beats a tree: inserts and removals are short memmoves.
type simSide struct {
	side   model.Side
	levels []simLevel
}

// simBook is the simulator's level-2 book of one product. The simulator keeps
// it uncrossed: every bid is below every ask.
type simBook struct {
	bids simSide
	asks simSide
}

// newSimBook returns an empty book with room for depth levels a side.
func newSimBook(depth int) simBook {
	return simBook{
		bids: simSide{side: model.Buy, levels: make([]simLevel, 0, depth+2)},
		asks: simSide{side: model.Sell, levels: make([]simLevel, 0, depth+2)},
	}
}

// of returns the side of the book that rests orders of side s.
func (b *simBook) of(s model.Side) *simSide {
	if s == model.Buy {
		return &b.bids
	}
	return &b.asks
}

// spread returns best ask minus best bid in ticks, and false when a side is empty.
func (b *simBook) spread() (int64, bool) {
	bid, okBid := b.bids.best()
	ask, okAsk := b.asks.best()
	return ask - bid, okBid && okAsk
}

// len returns the number of levels on the side.
func (s *simSide) len() int { return len(s.levels) }

// better reports whether price a is better than price b on this side.
func (s *simSide) better(a, b int64) bool {
	if s.side == model.Buy {
		return a > b
	}
	return a < b
}

// away returns the price d ticks further from the top of the book than price.
func (s *simSide) away(price, d int64) int64 {
	if s.side == model.Buy {
		return price - d
	}
	return price + d
}

// best returns the best price, and false when the side is empty.
func (s *simSide) best() (int64, bool) {
	if len(s.levels) == 0 {
		return 0, false
	}
	return s.levels[0].price, true
}

// worst returns the price furthest from the top, and false when the side is empty.
func (s *simSide) worst() (int64, bool) {
	if len(s.levels) == 0 {
		return 0, false
	}
	return s.levels[len(s.levels)-1].price, true
}

// search returns the index of price, or where it would be inserted, and
// whether it is present.
func (s *simSide) search(price int64) (int, bool) {
	lo, hi := 0, len(s.levels)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if s.better(s.levels[mid].price, price) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, lo < len(s.levels) && s.levels[lo].price == price
}

// insert adds lv in price order and reports false, changing nothing, when
// its price is already a level.
func (s *simSide) insert(lv simLevel) bool {
	i, found := s.search(lv.price)
	if found {
		return false
	}
	s.levels = append(s.levels, simLevel{})
	copy(s.levels[i+1:], s.levels[i:])
	s.levels[i] = lv
	return true
}

// removeAt removes and returns the level at index i.
func (s *simSide) removeAt(i int) simLevel {
	lv := s.levels[i]
	s.levels = append(s.levels[:i], s.levels[i+1:]...)
	return lv
}
