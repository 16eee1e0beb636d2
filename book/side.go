package book

import (
	"cmp"
	"math/bits"

	"github.com/shopspring/decimal"
	"github.com/tickerfan/tickerfan/model"
)

// side is one side of a Book: its levels sorted from the worst price to the
// best, so the best level is the last element. Nearly all level-2 traffic
// touches the top few levels; with the best at the end, inserting or removing
// there moves only the few levels above the change, and removing the best
// level is a re-slice, however deep the book is.
//
// Prices are unique and sizes are above zero. The levels share their decimals
// with the changes that created them; shopspring decimals are immutable, so
// this is safe and saves an allocation per change.
type side struct {
	levels []model.Level
	// asks is true for the ask side, where a lower price is better.
	asks bool
	// capped is set once levels beyond Config.MaxLevels were dropped (see
	// depth.go); the side then mirrors the upstream only at prices strictly
	// better than horizon, until the next snapshot.
	capped  bool
	horizon decimal.Decimal
}

// compare orders price against the level at i by quality: above zero when
// price is better than it (higher bid, lower ask), zero when equal.
func (s *side) compare(price decimal.Decimal, i int) int {
	c := cmpPrice(price, s.levels[i].Price)
	if s.asks {
		return -c
	}
	return c
}

// better reports whether price a is better than price b on this side.
func (s *side) better(a, b decimal.Decimal) bool {
	c := cmpPrice(a, b)
	if s.asks {
		return c < 0
	}
	return c > 0
}

// find returns the index of the level at price and true, or the index at which
// a level at price would be inserted and false.
//
// It gallops down from the best end (indices n-1, n-3, n-7, n-15, ...) before
// a binary search, so a change k levels below the top costs O(log k)
// comparisons, whatever the depth: one for the best level, at most seven
// within the top ten. Hot path.
func (s *side) find(price decimal.Decimal) (int, bool) {
	lo, hi := 0, len(s.levels) // the answer is in [lo, hi]
	for step := 1; ; step <<= 1 {
		i := hi - step
		if i < lo {
			break
		}
		c := s.compare(price, i)
		if c == 0 {
			return i, true
		}
		if c > 0 {
			lo = i + 1
			break
		}
		hi = i
	}
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		c := s.compare(price, m)
		if c == 0 {
			return m, true
		}
		if c > 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, false
}

// insert puts lv at index i, moving the better levels up by one.
func (s *side) insert(i int, lv model.Level) {
	if i == len(s.levels) {
		s.levels = append(s.levels, lv)
		return
	}
	s.levels = append(s.levels, model.Level{})
	copy(s.levels[i+1:], s.levels[i:])
	s.levels[i] = lv
}

// remove deletes the level at index i, moving the better levels down by one.
// The freed slot is cleared so the book does not pin the removed decimals.
func (s *side) remove(i int) {
	last := len(s.levels) - 1
	copy(s.levels[i:], s.levels[i+1:])
	s.levels[last] = model.Level{}
	s.levels = s.levels[:last]
}

// best returns the best level.
func (s *side) best() (model.Level, bool) {
	if len(s.levels) == 0 {
		return model.Level{}, false
	}
	return s.levels[len(s.levels)-1], true
}

// dropWorst removes the n worst levels.
func (s *side) dropWorst(n int) {
	k := copy(s.levels, s.levels[n:])
	clear(s.levels[k:])
	s.levels = s.levels[:k]
}

// load replaces the levels with in, which is best first.
func (s *side) load(in []model.Level) {
	clear(s.levels)
	if cap(s.levels) < len(in) {
		s.levels = make([]model.Level, len(in))
	}
	s.levels = s.levels[:len(in)]
	for i, lv := range in {
		s.levels[len(in)-1-i] = lv
	}
	s.capped, s.horizon = false, decimal.Decimal{}
}

// checkBestFirst validates levels given best first: prices and sizes above
// zero and prices strictly getting worse. It names the first bad level.
func (s *side) checkBestFirst(in []model.Level) error {
	name := "bids"
	if s.asks {
		name = "asks"
	}
	for i, lv := range in {
		var reason error
		switch {
		case lv.Price.Sign() <= 0:
			reason = ErrBadPrice
		case lv.Size.Sign() <= 0:
			reason = ErrBadSize
		case i > 0 && !s.better(in[i-1].Price, lv.Price):
			reason = ErrUnsorted
		default:
			continue
		}
		return snapshotError(name, i, lv, reason)
	}
	return nil
}

// pow10 holds the powers of ten that fit in a uint64.
var pow10 = func() (p [20]uint64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// cmpPrice compares like a.Cmp(b). decimal.Cmp allocates when the exponents
// differ ("100.5" against "100.50"); cmpPrice does not when both coefficients
// have at most 18 digits, so a feed that spells one price two ways still
// changes sizes without allocating. Equal exponents, the case of every feed
// with a fixed price grid, go straight to decimal.Cmp. Hot path.
func cmpPrice(a, b decimal.Decimal) int {
	ea, eb := a.Exponent(), b.Exponent()
	if ea == eb {
		return a.Cmp(b)
	}
	sa, sb := a.Sign(), b.Sign()
	switch {
	case sa != sb:
		return cmp.Compare(sa, sb)
	case sa == 0:
		return 0
	case a.NumDigits() > 18 || b.NumDigits() > 18 || ea-eb > 19 || eb-ea > 19:
		return a.Cmp(b)
	}
	// Compare |ca|*10^(ea-eb) with |cb| in 128 bits, for ea > eb.
	ca, cb, flip := a.CoefficientInt64(), b.CoefficientInt64(), sa
	if ea < eb {
		ca, cb, ea, eb, flip = cb, ca, eb, ea, -sa
	}
	hi, lo := bits.Mul64(uint64(max(ca, -ca)), pow10[ea-eb])
	ub := uint64(max(cb, -cb))
	switch {
	case hi != 0 || lo > ub:
		return flip
	case lo < ub:
		return -flip
	}
	return 0
}
