package sim

import "github.com/tickerfan/tickerfan/model"

// Shape of the simulated takers.
const (
	// simMaxSweep bounds the levels one taker order consumes.
	simMaxSweep = 4
	// simTakerMean is the mean taker size as a share of the best level's size:
	// with exponential sizes about one taker in twelve (e^-2.5) takes the
	// whole level and sweeps into the next.
	simTakerMean = 0.4
	// simMaxLean bounds how far the fair price tilts takers to one side.
	simMaxLean = 0.3
)

// trade runs one taker order against the best levels of one side. Each
// consumed level gets a change (its new size, 0 when taken whole) and a trade
// with the maker's side; all fills of one taker share its order id.
func (m *simMarket) trade() {
	makers := m.makerSide()
	if makers.len() == 0 {
		return
	}
	best := float64(makers.levels[0].size)
	want := clampLots(best*simTakerMean*m.rng.ExpFloat64(), m.maxLots)
	taker := orderID(m.rng)
	for range simMaxSweep {
		got := m.consume(makers, want, taker)
		want -= got
		if got == 0 || want == 0 {
			return
		}
	}
}

// makerSide draws the side a taker trades against: the asks for a buyer.
func (m *simMarket) makerSide() *simSide {
	if m.rng.Float64() < m.buyChance() {
		return &m.book.asks
	}
	return &m.book.bids
}

// buyChance is the probability that a taker buys: one half, leaning toward
// buying when the fair price sits above the middle of the spread (and toward
// selling below), by at most simMaxLean.
func (m *simMarket) buyChance() float64 {
	bid, okBid := m.book.bids.best()
	ask, okAsk := m.book.asks.best()
	if !okBid || !okAsk {
		return 0.5
	}
	lean := (m.fair - float64(bid+ask)/2) / float64(ask-bid+m.spacing())
	return 0.5 + max(-simMaxLean, min(simMaxLean, lean))
}

// consume fills up to want lots against the best level of makers, never
// taking a side's last lot, records the level's change and the trade, and
// returns the lots filled (0 when nothing could be).
func (m *simMarket) consume(makers *simSide, want int64, taker string) int64 {
	lv := &makers.levels[0]
	got := min(want, lv.size)
	if got == lv.size && makers.len() == 1 {
		got--
	}
	if got <= 0 {
		return 0
	}
	px := lv.px
	lv.size -= got
	if lv.size == 0 {
		m.removeAt(makers, 0)
	} else {
		m.record(makers.side, px, lv.size)
	}
	m.tradeID++
	m.fills = append(m.fills, model.Trade{
		TradeID:      m.tradeID,
		MakerOrderID: orderID(m.rng),
		TakerOrderID: taker,
		Side:         makers.side,
		Price:        px,
		Size:         m.size.dec(got),
	})
	return got
}
