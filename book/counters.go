package book

import (
	"sync/atomic"
	"time"
)

// Counters is a snapshot of a Market's counters since NewMarket, for /metrics.
// Every field only grows.
type Counters struct {
	// Updates counts every update passed to Apply, of any product and kind.
	Updates uint64
	// Snapshots counts snapshots applied.
	Snapshots uint64
	// ChangesApplied counts level-2 changes applied and published.
	ChangesApplied uint64
	// Trades counts trades recorded.
	Trades uint64

	// Changes rejected, by reason: ErrCrossed, ErrUnknownLevel,
	// ErrNegativeSize, ErrBadPrice and ErrBadSide.
	RejectedCrossed      uint64
	RejectedUnknownLevel uint64
	RejectedNegativeSize uint64
	RejectedBadPrice     uint64
	RejectedBadSide      uint64

	// BadSnapshots counts snapshots rejected whole (the old book was kept).
	BadSnapshots uint64
	// BadTrades counts trades dropped as ErrBadTrade.
	BadTrades uint64
	// BadUpdates counts updates dropped as ErrBadUpdate.
	BadUpdates uint64
	// UnknownProduct counts updates dropped as ErrUnknownProduct.
	UnknownProduct uint64

	// BeyondDepth counts changes ignored because they lie beyond the depth
	// kept under Config.MaxLevels.
	BeyondDepth uint64
	// LevelsTrimmed counts levels dropped to stay within Config.MaxLevels.
	LevelsTrimmed uint64
}

// counters are one product's counters. Only the product's writer adds to them,
// so they are per product to keep writers on different products off each
// other's cache lines; atomic so that Counters may read them at any time.
type counters struct {
	updates, snapshots, applied, trades                       atomic.Uint64
	crossed, unknownLevel, negativeSize, badPrice, badSide    atomic.Uint64
	badSnapshots, badTrades, badUpdates, beyondDepth, trimmed atomic.Uint64
}

// reject counts a change rejected for err.
func (c *counters) reject(err error) {
	switch err {
	case ErrCrossed:
		c.crossed.Add(1)
	case ErrUnknownLevel:
		c.unknownLevel.Add(1)
	case ErrNegativeSize:
		c.negativeSize.Add(1)
	case ErrBadPrice:
		c.badPrice.Add(1)
	case ErrBadSide:
		c.badSide.Add(1)
	case errBeyondDepth:
		c.beyondDepth.Add(1)
	}
}

// addTo adds the counters to out.
func (c *counters) addTo(out *Counters) {
	out.Updates += c.updates.Load()
	out.Snapshots += c.snapshots.Load()
	out.ChangesApplied += c.applied.Load()
	out.Trades += c.trades.Load()
	out.RejectedCrossed += c.crossed.Load()
	out.RejectedUnknownLevel += c.unknownLevel.Load()
	out.RejectedNegativeSize += c.negativeSize.Load()
	out.RejectedBadPrice += c.badPrice.Load()
	out.RejectedBadSide += c.badSide.Load()
	out.BadSnapshots += c.badSnapshots.Load()
	out.BadTrades += c.badTrades.Load()
	out.BadUpdates += c.badUpdates.Load()
	out.BeyondDepth += c.beyondDepth.Load()
	out.LevelsTrimmed += c.trimmed.Load()
}

// sampler lets one log line through per interval and counts the lines it
// holds back, so a flood of bad input costs a counter increment, not a log
// write each. Safe for concurrent use.
type sampler struct {
	interval time.Duration
	next     atomic.Int64 // Unix nanoseconds before which lines are held back
	held     atomic.Uint64
}

// allow reports whether a line may be logged now, and how many lines were held
// back since the last one that was.
func (s *sampler) allow() (held uint64, ok bool) {
	now := time.Now().UnixNano()
	next := s.next.Load()
	if now < next || !s.next.CompareAndSwap(next, now+int64(s.interval)) {
		s.held.Add(1)
		return 0, false
	}
	return s.held.Swap(0), true
}
