package main

import (
	"fmt"

	"github.com/tickerfan/tickerfan/bench"
)

// verdict says why a finished run failed, or returns nil: more than
// maxFailed (a fraction) of the attempted connections failed, in a mode
// that measures delivery no message at all was delivered, or a level2
// subscriber's book was not the upstream's at the end.
func verdict(res *bench.Result, maxFailed float64) error {
	c := res.Connections
	if c.Attempted > 0 && float64(c.Failed) > maxFailed*float64(c.Attempted) {
		return fmt.Errorf("%d of %d connections failed (%.1f%%, more than -max-failed %.1f%%)",
			c.Failed, c.Attempted, 100*float64(c.Failed)/float64(c.Attempted), 100*maxFailed)
	}
	if c.Attempted == 0 && c.Requested > 0 {
		return fmt.Errorf("no connection was attempted of %d requested", c.Requested)
	}
	measured, delivered := false, int64(0)
	add := func(m *bench.Measured) {
		if m != nil {
			measured = true
			delivered += m.Messages
		}
	}
	add(res.Measured)
	for _, g := range res.Groups {
		add(g)
	}
	if res.Ramp != nil {
		for _, s := range res.Ramp.Steps {
			add(s.Measured)
		}
	}
	if measured && delivered == 0 && res.Mode != "idle" {
		return fmt.Errorf("no message was delivered to any subscriber")
	}
	if b := res.Books; b != nil && !b.AllExact {
		first := ""
		if len(b.Mismatches) > 0 {
			first = "; first: " + b.Mismatches[0].String()
		}
		return fmt.Errorf("%d of %d level2 subscribers' books are not the upstream's after the run (%d of %d product books)%s",
			b.Subscribers-b.Exact, b.Subscribers, b.ProductBooks-b.ExactBooks, b.ProductBooks, first)
	}
	return nil
}
