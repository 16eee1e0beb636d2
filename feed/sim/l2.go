package sim

import (
	"math"

	"github.com/tickerfan/tickerfan/model"
)

// The level-2 changes of the simulated book: random events at the configured
// rate, and the re-centring that makes the book follow the fair price.

// l2Event makes one random change to the book on a random side: mostly a size
// change at a level near the top, otherwise a structural event (restructure).
func (m *simMarket) l2Event() {
	s := &m.book.bids
	if m.rng.IntN(2) == 1 {
		s = &m.book.asks
	}
	if s.len() > 0 && m.rng.Float64() < simResizeChance {
		m.resize(s, topBiased(m.rng, s.len()))
		return
	}
	m.restructure(s)
}

// restructure adds or cancels one level of s, steering the side back to
// depth levels: above depth it trims the far end; otherwise a wide spread
// draws new levels inside it, a short side is refilled at its far end, and
// a full one cancels a level (most often near the top) or grows by one.
func (m *simMarket) restructure(s *simSide) {
	n := s.len()
	switch {
	case n > m.depth:
		m.removeAt(s, n-1)
	case m.rng.Float64() < m.insideChance() && m.addInside(s):
	case n < m.depth || n == 1 || m.rng.IntN(2) == 0:
		if !m.addFar(s) && n > 0 {
			m.resize(s, topBiased(m.rng, n))
		}
	default:
		m.removeAt(s, topBiased(m.rng, n))
	}
}

// insideChance is the probability that a new level goes inside the spread:
// none at a one-tick spread, rising with the spread to 0.9 at one spacing.
func (m *simMarket) insideChance() float64 {
	spread, ok := m.book.spread()
	if !ok || spread < 2 {
		return 0
	}
	return min(0.9, float64(spread-1)/float64(m.spacing()))
}

// addInside adds a level to s strictly inside the spread and on its side of
// the fair price (a bid at or below it, an ask at or above it), so it neither
// crosses nor is stale. It reports false, changing nothing, when there is no
// such price.
func (m *simMarket) addInside(s *simSide) bool {
	bid, okBid := m.book.bids.best()
	ask, okAsk := m.book.asks.best()
	if !okBid || !okAsk {
		return false
	}
	lo, hi := bid+1, ask-1
	if s.side == model.Buy {
		hi = min(hi, int64(math.Floor(m.fair)))
	} else {
		lo = max(lo, int64(math.Ceil(m.fair)))
	}
	if lo > hi {
		return false
	}
	return m.insert(s, lo+m.rng.Int64N(hi-lo+1), lotsNear(m.rng, m.medianLots, simSizeSigma, m.maxLots))
}

// addFar adds a level to s one gap beyond its worst level or, on an empty
// side, next to the fair price and the other side's best. It reports false,
// changing nothing, when that price would be below one tick.
func (m *simMarket) addFar(s *simSide) bool {
	p, ok := s.worst()
	if ok {
		p = s.away(p, m.gap())
	} else {
		p = m.emptySideStart(s)
	}
	if p < 1 {
		return false
	}
	return m.insert(s, p, lotsNear(m.rng, m.medianLots, simSizeSigma, m.maxLots))
}

// emptySideStart is the best price for the first level of an empty side s:
// at the fair price, but never touching the other side's best.
func (m *simMarket) emptySideStart(s *simSide) int64 {
	if s.side == model.Buy {
		p := int64(math.Floor(m.fair))
		if ask, ok := m.book.asks.best(); ok {
			p = min(p, ask-1)
		}
		return p
	}
	p := int64(math.Floor(m.fair)) + 1
	if bid, ok := m.book.bids.best(); ok {
		p = max(p, bid+1)
	}
	return p
}

// insert adds a level of lots at price to s and records the change. It reports
// false, changing nothing, when the level exists.
func (m *simMarket) insert(s *simSide, price, lots int64) bool {
	lv := simLevel{price: price, size: lots, px: m.price.dec(price)}
	if !s.insert(lv) {
		return false
	}
	m.record(s.side, lv.px, lots)
	return true
}

// removeAt removes the level at index i of s and records the removal.
func (m *simMarket) removeAt(s *simSide, i int) {
	lv := s.removeAt(i)
	m.record(s.side, lv.px, 0)
}

// resize gives the level at index i of s a new size, log-normally near its
// old one pulled a little toward the median, and records the change.
func (m *simMarket) resize(s *simSide, i int) {
	lv := &s.levels[i]
	center := math.Exp(0.8*math.Log(float64(lv.size)) + 0.2*math.Log(m.medianLots))
	lots := lotsNear(m.rng, center, simResizeSigma, m.maxLots)
	if lots == lv.size {
		lots = lv.size%m.maxLots + 1
	}
	lv.size = lots
	m.record(s.side, lv.px, lots)
}

// How the book follows the fair price. Measured by TestSimShape at the
// defaults: with these the mean spread is about 1.2 spacings (1-2 ticks on SOL-USD,
// about 2 dollars on BTC-USD), and the re-centring changes add about 3 a
// second to the 20 random ones on low-priced products, about 20 on BTC-USD
// and ETH-USD, whose prices are many ticks. A tighter margin or spacing
// narrows the spread and multiplies those changes.
const (
	// simSpacingSteps is the mean level spacing in expected steps of the fair price.
	simSpacingSteps = 2
	// simStaleMargin is how far, in spacings, the fair price walks past a
	// best level before makers cancel it.
	simStaleMargin = 1
)

// walk moves the fair price one step of its geometric random walk, reflected
// off [minFair, maxFair] so it stays positive and room remains for the bids.
func (m *simMarket) walk() {
	f := m.fair * (1 + m.vol*m.rng.NormFloat64())
	if f < m.minFair {
		f = 2*m.minFair - f
	}
	if f > m.maxFair {
		f = 2*m.maxFair - f
	}
	m.fair = f
}

// recentre cancels each level the fair price has walked past (a bid above it,
// an ask below it) and adds one at the far end of the same side for it, then
// chases the price with a new level when the spread has opened up. These
// changes come on top of the random events, so the book follows the price
// and keeps its depth.
func (m *simMarket) recentre() {
	for _, s := range []*simSide{&m.book.asks, &m.book.bids} {
		for m.stale(s) {
			m.removeAt(s, 0)
			m.addFar(s)
		}
	}
	m.chase()
}

// chase adds a level inside a spread wider than two spacings on the side
// that lags the fair price, trimming that side's far end if it grows past
// depth: makers follow the price at once, not only when random events do.
func (m *simMarket) chase() {
	spread, ok := m.book.spread()
	if !ok || spread <= 2*m.spacing() {
		return
	}
	bid, _ := m.book.bids.best()
	ask, _ := m.book.asks.best()
	s := &m.book.bids
	if float64(ask)-m.fair > m.fair-float64(bid) {
		s = &m.book.asks
	}
	if m.addInside(s) && s.len() > m.depth {
		m.removeAt(s, s.len()-1)
	}
}

// stale reports whether the best level of s is more than simStaleMargin
// spacings on the wrong side of the fair price.
func (m *simMarket) stale(s *simSide) bool {
	p, ok := s.best()
	if !ok {
		return false
	}
	margin := float64(m.spacing()) * simStaleMargin
	if s.side == model.Buy {
		return float64(p) > m.fair+margin
	}
	return float64(p) < m.fair-margin
}

// spacing is the mean distance in ticks between neighbouring far levels:
// twice a step's expected move (simSpacingSteps), at least one tick, and
// small enough for a full bid side to fit above zero.
func (m *simMarket) spacing() int64 {
	g := math.Round(simSpacingSteps * m.vol * m.fair)
	return int64(max(1, min(g, math.Floor(m.fair/float64(4*m.depth)))))
}

// gap draws the distance to a new far level: uniform in [1, 2*spacing-1].
func (m *simMarket) gap() int64 {
	return 1 + m.rng.Int64N(2*m.spacing()-1)
}
