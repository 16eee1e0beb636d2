package fanout

import (
	"github.com/shopspring/decimal"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/model"
)

// diffBooks returns the changes that turn from into to: removals first, then
// new sizes. Applied in that order the intermediate books only hold levels of
// one of the two books' price sets minus removed ones, so no step crosses.
func diffBooks(from, to *book.Book) []model.Change {
	fb, fa := from.Top(0, nil, nil)
	tb, ta := to.Top(0, nil, nil)
	var removed, changed []model.Change
	removed, changed = diffSide(model.Buy, fb, tb, removed, changed)
	removed, changed = diffSide(model.Sell, fa, ta, removed, changed)
	return append(removed, changed...)
}

// diffSide merge-walks two sides sorted best first.
func diffSide(side model.Side, from, to []model.Level, removed, changed []model.Change) ([]model.Change, []model.Change) {
	better := func(a, b decimal.Decimal) bool { // a is nearer the top than b
		if side == model.Buy {
			return a.GreaterThan(b)
		}
		return a.LessThan(b)
	}
	i, j := 0, 0
	for i < len(from) || j < len(to) {
		switch {
		case j == len(to) || (i < len(from) && better(from[i].Price, to[j].Price)):
			removed = append(removed, model.Change{Side: side, Price: from[i].Price, Size: decimal.Zero})
			i++
		case i == len(from) || better(to[j].Price, from[i].Price):
			changed = append(changed, model.Change{Side: side, Price: to[j].Price, Size: to[j].Size})
			j++
		default:
			if !from[i].Size.Equal(to[j].Size) {
				changed = append(changed, model.Change{Side: side, Price: to[j].Price, Size: to[j].Size})
			}
			i++
			j++
		}
	}
	return removed, changed
}
