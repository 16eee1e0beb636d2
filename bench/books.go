package bench

import (
	"context"
	"fmt"
	"time"
)

// The end-of-run check of level-2 books: with its own upstream, the tool
// knows every product's true book, so once the upstream stops changing the
// books and the server has delivered the rest, each level2 subscriber's book
// must equal it, level for level.
const (
	// bookDeadline bounds the wait for the server to deliver the rest.
	bookDeadline = 10 * time.Second
	bookPoll     = 100 * time.Millisecond
	// bookQuiet is how long no data message may arrive before the books are
	// compared: four level2_batch intervals (50 ms, PROTOCOL.md), so the
	// last batch is in.
	bookQuiet = 200 * time.Millisecond
	// bookGiveUp is how long no data message may arrive while books still
	// differ before the check ends: nothing more is coming.
	bookGiveUp = time.Second
	// maxBookMismatches bounds the mismatches a result names.
	maxBookMismatches = 10
)

// Books is the end-of-run check of the level2 subscribers' books against
// the upstream's true books.
type Books struct {
	Subscribers  int  `json:"subscribers"`         // open level2 subscribers checked
	Exact        int  `json:"exact"`               // of them, those whose every product book is exact
	ProductBooks int  `json:"product_books"`       // (subscriber, product) books checked
	ExactBooks   int  `json:"exact_product_books"` // of them, the exact ones
	AllExact     bool `json:"all_exact"`
	// Capped counts the product books compared only as deep as the server's
	// snapshots go (CappedDepth levels a side at the shallowest), shallower
	// than the upstream's UpstreamDepth: a server that caps its books
	// (book.max_levels) holds only the best levels.
	Capped        int `json:"capped,omitempty"`
	CappedDepth   int `json:"capped_depth,omitempty"`
	UpstreamDepth int `json:"upstream_depth"`
	// Unchecked counts what was left out, by reason (a subscriber closed, a
	// product no single upstream connection carries).
	Unchecked map[string]int64 `json:"unchecked,omitempty"`
	// WaitS is the time from the freeze to the comparison; Settled says
	// whether nothing was arriving any more then (false: the deadline came first).
	WaitS   float64 `json:"wait_s"`
	Settled bool    `json:"settled"`
	// Mismatches names the first product books that are not exact.
	Mismatches []BookMismatch `json:"mismatches,omitempty"`
}

// checkBooks freezes the upstream, waits until the server has delivered the
// rest (no data message for bookQuiet with every book exact, or for
// bookGiveUp; at most bookDeadline) and compares every level2 subscriber's
// books with the upstream's. Slow subscribers read at full speed from its
// start: the overload is over. It returns nil when there is nothing to check
// or ctx ends first.
func (r *runner) checkBooks(ctx context.Context) *Books {
	if r.up == nil || r.swarm == nil || !r.swarm.trackBooks || ctx.Err() != nil {
		return nil
	}
	r.swarm.slowEnded.Store(true)
	r.up.FreezeBooks()
	start := time.Now()
	r.note("books: upstream frozen; waiting up to %s for the server to deliver the rest", bookDeadline)
	last, quietSince, nextNote := r.swarm.dataMessages(), start, start.Add(time.Second)
	for sleep(ctx, bookPoll) {
		now := time.Now()
		if n := r.swarm.dataMessages(); n != last {
			last, quietSince = n, now
		}
		quiet, waited := now.Sub(quietSince), now.Sub(start)
		var b *Books
		if quiet >= bookQuiet || waited >= bookDeadline {
			b = r.compareBooks()
			b.WaitS, b.Settled = round3(waited.Seconds()), quiet >= bookQuiet
			if (b.AllExact && b.Settled) || quiet >= bookGiveUp || waited >= bookDeadline {
				return b
			}
		}
		if now.After(nextNote) {
			nextNote = nextNote.Add(time.Second)
			if b == nil {
				r.note("books: %.0fs: messages still arriving", waited.Seconds())
			} else {
				r.note("books: %.0fs: %d of %d level2 subscribers exact", waited.Seconds(), b.Exact, b.Subscribers)
			}
		}
	}
	return nil
}

// note prints a progress line of the books check.
func (r *runner) note(format string, args ...any) {
	if r.progress != nil {
		fmt.Fprintf(r.progress, format+"\n", args...)
	}
}

// compareBooks compares every open subscriber's books with the upstream's.
func (r *runner) compareBooks() *Books {
	truth := r.up.Books()
	b := &Books{UpstreamDepth: r.p.Upstream.Depth, Unchecked: map[string]int64{}}
	for _, c := range r.swarm.bookConns() {
		if c.closed.Load() {
			b.Unchecked["subscriber closed"]++
			continue
		}
		c.r.mu.Lock() // the reader's: it applies the messages under it
		checked, exact := r.compareConn(b, c, truth)
		c.r.mu.Unlock()
		if checked {
			b.Subscribers++
			if exact {
				b.Exact++
			}
		}
	}
	b.AllExact = b.ExactBooks == b.ProductBooks
	if len(b.Unchecked) == 0 {
		b.Unchecked = nil
	}
	return b
}

// compareConn compares c's product books with the truth. c.r.mu must be held.
func (r *runner) compareConn(b *Books, c *conn, truth map[string]Book) (checked, exact bool) {
	exact = true
	for slot, pi := range c.products {
		id := r.swarm.products[pi]
		want, ok := truth[id]
		switch {
		case !ok:
			b.Unchecked["product not carried on level2 by the upstream"]++
			continue
		case want.Feeds > 1:
			b.Unchecked["product carried by more than one upstream connection"]++
			continue
		}
		checked = true
		b.ProductBooks++
		diff := diffBook(&c.books[slot], want)
		if diff.capped > 0 {
			b.Capped++
			if b.CappedDepth == 0 || diff.capped < b.CappedDepth {
				b.CappedDepth = diff.capped
			}
		}
		if diff.mismatch == nil {
			b.ExactBooks++
			continue
		}
		exact = false
		if len(b.Mismatches) < maxBookMismatches {
			m := *diff.mismatch
			m.Subscriber, m.Product = c.id, id
			if st := c.streams[slot*numStreams+streamL2]; st.seen {
				m.Sequence = st.last
			}
			b.Mismatches = append(b.Mismatches, m)
		}
	}
	return checked, exact
}

// bookConns returns the subscribers that keep books.
func (s *Swarm) bookConns() []*conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		if c.books != nil {
			out = append(out, c)
		}
	}
	return out
}

// dataMessages counts the data messages (level2, ticker, matches; not
// heartbeats) received since the last window edge.
func (s *Swarm) dataMessages() int64 {
	var n int64
	for _, r := range s.readers {
		r.mu.Lock()
		for _, t := range r.tallies {
			for _, k := range []msgKind{kindSnapshot, kindL2Update, kindTicker, kindMatch, kindLastMatch} {
				n += t.msgs[k]
			}
		}
		r.mu.Unlock()
	}
	return n
}
