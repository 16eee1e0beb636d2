package book

import "errors"

// Rejections of a single level-2 change by Book.Apply. The book is left
// untouched; Market counts each by reason, logs a sample and leaves the change
// out of the published EventUpdate. A caller holding its own Book should do the
// same: drop the change and carry on, or resynchronize from a snapshot when
// rejections persist (they mean the upstream and the book disagree).
var (
	// ErrCrossed is returned for a bid at or above the best ask, or an ask at
	// or below the best bid: applying it would cross the book.
	ErrCrossed = errors.New("book: crossed book")
	// ErrUnknownLevel is returned for a removal (size 0) of a price the book
	// does not hold.
	ErrUnknownLevel = errors.New("book: removal of a level not held")
	// ErrNegativeSize is returned for a change with a size below zero.
	ErrNegativeSize = errors.New("book: negative size")
	// ErrBadPrice is returned for a price of zero or below, in a change, a
	// snapshot level or a trade.
	ErrBadPrice = errors.New("book: price must be positive")
	// ErrBadSide is returned for a change whose side is neither model.Buy nor
	// model.Sell.
	ErrBadSide = errors.New("book: side must be buy or sell")
)

// Rejections of a whole snapshot by Book.ApplySnapshot. The error wraps
// ErrBadSnapshot and the specific reason (ErrBadPrice, ErrBadSize, ErrUnsorted
// or ErrCrossed) with the offending level. The book keeps its previous state;
// the caller should drop the snapshot and wait for the next one.
var (
	// ErrBadSnapshot is wrapped by every error of ApplySnapshot.
	ErrBadSnapshot = errors.New("book: bad snapshot")
	// ErrBadSize is returned for a snapshot level or trade whose size is not
	// above zero.
	ErrBadSize = errors.New("book: size must be positive")
	// ErrUnsorted is returned for snapshot levels that are not strictly best
	// first: out of order or a price given twice.
	ErrUnsorted = errors.New("book: levels not sorted best first or price repeated")
)

// Errors of Market. Market.Apply returns nothing: these appear in its logs and
// in Counters; NewMarket returns the construction ones.
var (
	// ErrUnknownProduct is logged for an update about a product the Market was
	// not built with; the update is counted and dropped. A persistent one means
	// a feed and the product list disagree: fix the configuration.
	ErrUnknownProduct = errors.New("book: unknown product")
	// ErrBadTrade is logged for a trade whose price or size is not above zero
	// or whose side is invalid; the trade is counted and dropped.
	ErrBadTrade = errors.New("book: bad trade")
	// ErrBadUpdate is logged for an update of an unknown kind, or a KindStats
	// update without Stats; it is counted and dropped.
	ErrBadUpdate = errors.New("book: malformed update")
	// ErrDuplicateProduct is returned by NewMarket when two products share an
	// id, or an id is empty: fix the product list.
	ErrDuplicateProduct = errors.New("book: empty or duplicate product id")
	// ErrNoPublish is returned by NewMarket without a publish function: the
	// Market would compute events for nobody, which is a wiring mistake.
	ErrNoPublish = errors.New("book: publish function is nil")
)

// errBeyondDepth marks a change Market ignores because it lies beyond the
// depth kept under Config.MaxLevels (see depth.go). It is not a rejection: it
// is counted as BeyondDepth, never logged, and the caller carries on.
var errBeyondDepth = errors.New("book: change beyond the kept depth")
