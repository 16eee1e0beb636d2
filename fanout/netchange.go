package fanout

import (
	"github.com/shopspring/decimal"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/model"
)

// netChange accumulates the net effect of a run of level-2 changes on a
// book: which levels they touched and what each held before the run. It is
// how the fan-out merges updates without comparing whole books, so the work
// is proportional to what changed: level2_batch (one net change per level per
// batch_interval) and a backlog of live updates merged into one l2update.
type netChange struct {
	index  map[levelKey]int
	levels []touchedLevel
}

// touchedLevel is one level a run touched, with its size before the run.
type touchedLevel struct {
	side  model.Side
	price decimal.Decimal
	was   decimal.Decimal // zero when the level was not held
}

// note records c's level before c is applied to b (only its first touch
// matters).
func (n *netChange) note(b *book.Book, c model.Change) {
	k := levelKey{c.Side, c.Price.String()}
	if n.index == nil {
		n.index = map[levelKey]int{}
	}
	if _, ok := n.index[k]; ok {
		return
	}
	was, _ := b.Size(c.Side, c.Price)
	n.index[k] = len(n.levels)
	n.levels = append(n.levels, touchedLevel{side: c.Side, price: c.Price, was: was})
}

// empty reports whether no level was touched since the last reset.
func (n *netChange) empty() bool { return len(n.levels) == 0 }

// changes appends to out the net changes that bring a book as it was before
// the run to b: removals first, then new sizes, each level once, none that
// changes nothing. Applied in that order no step crosses the book (see
// removalsFirst). It resets n.
func (n *netChange) changes(b *book.Book, out []model.Change) []model.Change {
	start := len(out)
	for _, lv := range n.levels {
		now, _ := b.Size(lv.side, lv.price)
		if now.Equal(lv.was) {
			continue
		}
		out = append(out, model.Change{Side: lv.side, Price: lv.price, Size: now})
	}
	removalsFirst(out[start:])
	n.reset()
	return out
}

// reset forgets the run, keeping the allocations.
func (n *netChange) reset() {
	clear(n.index)
	n.levels = n.levels[:0]
}
