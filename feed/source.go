package feed

import (
	"context"

	"github.com/tickerfan/tickerfan/model"
)

// Source is one upstream: it emits normalized Updates for its products.
//
// Run blocks until ctx is cancelled or the source ends for good (a replay that
// does not loop), and returns nil on a clean end. It calls emit from a single
// goroutine, in upstream order; emit does not block for long and never retains
// the Update's slices beyond what Update documents. A Source reconnects by
// itself; Run returns an error only when it cannot go on at all.
type Source interface {
	// Name is the configured feed name, for logs, metrics and /feeds.
	Name() string
	// Products lists the product ids this source emits.
	Products() []string
	// Run emits updates until ctx is done.
	Run(ctx context.Context, emit func(model.Update)) error
}
