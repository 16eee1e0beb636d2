package book

import (
	"github.com/shopspring/decimal"
	"github.com/tickerfan/tickerfan/model"
)

// Depth capping (Config.MaxLevels).
//
// A capped side keeps at most max levels. Dropping the worst levels leaves a
// horizon: the best price dropped so far. Beyond it the upstream may hold
// levels the book does not, so from then on the side mirrors the upstream
// exactly only at prices strictly better than the horizon, and ignores every
// change at or beyond it (a removal there is of a level it dropped, a new size
// there would leave a hole between it and the kept levels). The horizon only
// moves toward the top, and the next snapshot clears it. A capped side may thus
// thin out below max levels as the top is eaten, until the next snapshot; that
// is the price of bounded memory, and every kept level stays exact.

// applyCapped applies c like Apply while keeping at most maxLevels per side.
// It appends c to out when applied, followed by a removal for each level it
// dropped to stay within maxLevels, and returns how many it dropped. A change
// beyond the horizon returns errBeyondDepth and changes nothing.
func (b *Book) applyCapped(c model.Change, maxLevels int, out []model.Change) ([]model.Change, int, error) {
	s := b.sideOf(c.Side)
	if s != nil && c.Price.Sign() > 0 && c.Size.Sign() >= 0 {
		if s.capped && !s.better(c.Price, s.horizon) {
			return out, 0, errBeyondDepth
		}
		// A new level below a full side would be dropped at once.
		if len(s.levels) >= maxLevels && c.Size.Sign() > 0 && s.better(s.levels[0].Price, c.Price) {
			s.raiseHorizon(c.Price)
			return out, 0, errBeyondDepth
		}
	}
	if err := b.Apply(c); err != nil {
		return out, 0, err
	}
	out = append(out, c)
	over := len(s.levels) - maxLevels
	if over <= 0 {
		return out, 0, nil
	}
	for _, lv := range s.levels[:over] {
		out = append(out, model.Change{Side: c.Side, Price: lv.Price, Size: decimal.Zero})
	}
	s.trim(maxLevels)
	return out, over, nil
}

// trim drops the levels of both sides beyond maxLevels, as after a snapshot,
// and returns how many it dropped. It publishes nothing: the caller publishes
// the trimmed book.
func (b *Book) trim(maxLevels int) int {
	return b.bids.trim(maxLevels) + b.asks.trim(maxLevels)
}

// trim keeps the best maxLevels levels and moves the horizon to the best
// level dropped. It returns how many it dropped.
func (s *side) trim(maxLevels int) int {
	over := len(s.levels) - maxLevels
	if over <= 0 {
		return 0
	}
	s.raiseHorizon(s.levels[over-1].Price)
	s.dropWorst(over)
	return over
}

// raiseHorizon records that the upstream holds a level at price that the side
// does not keep.
func (s *side) raiseHorizon(price decimal.Decimal) {
	if !s.capped || s.better(price, s.horizon) {
		s.capped, s.horizon = true, price
	}
}
