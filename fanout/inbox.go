package fanout

import (
	"slices"
	"time"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/model"
)

// Bounds of one product's inbox. The book publishes into inboxes and never
// waits: when the fan-out falls behind, an inbox merges what it holds instead
// of growing, so neither memory nor staleness grows with the backlog.
const (
	// inboxEvents is how many events an inbox holds one by one. Past it, the
	// inbox compacts: a new snapshot supersedes the updates before it, the
	// updates after the last snapshot collapse to one net change per level,
	// tickers, heartbeats and statuses keep the newest.
	inboxEvents = 1024
	// inboxTrades bounds the trades an inbox keeps for matches subscribers
	// when compacting: the newest are kept, the older are counted as dropped
	// (their trade_id jumps on the wire; the ticker is always the newest).
	inboxTrades = 256
	// mergeAfter is the backlog at which the fan-out merges a product's
	// pending updates into one l2update (and its trades' tickers into the
	// newest) instead of sending each: about a second of a busy product. Below
	// it every upstream update goes out as its own message, as it came.
	mergeAfter = 64
)

// inbox holds one product's events between the book and the fan-out. Its
// shard's mutex guards it: push runs on the publisher's goroutine, take on
// the shard's.
type inbox struct {
	evs       []book.Event
	first     uint64 // Seq of the first event pushed since the last take
	firstAt   int64  // when it was pushed, unix nanos
	collapsed bool   // evs hold a collapsed update: not one event per upstream update
	dropped   uint64 // trades dropped by compaction, not yet counted in metrics
	merged    uint64 // events merged away by compaction, not yet counted
}

// push appends ev, compacting when the inbox is full. It reports whether the
// inbox was empty, so the caller knows to schedule the product.
func (in *inbox) push(ev book.Event) (wasEmpty bool) {
	wasEmpty = len(in.evs) == 0
	if wasEmpty {
		in.first, in.firstAt = ev.Seq, time.Now().UnixNano()
	}
	in.evs = append(in.evs, ev)
	if len(in.evs) >= inboxEvents {
		in.compact()
	}
	return wasEmpty
}

// batch is what the fan-out takes from an inbox in one round.
type batch struct {
	evs   []book.Event
	first uint64 // Seq of the first event pushed: where the stream resumes
	// firstAt is when the first event was pushed, unix nanos.
	firstAt int64
	// merge says the fan-out should merge the updates (a backlog, or a
	// compacted inbox): one l2update with the net change per level, one
	// ticker for the newest trade.
	merge bool
}

// take hands the pending events to the fan-out and empties the inbox; spare
// becomes its next buffer.
func (in *inbox) take(spare []book.Event) batch {
	b := batch{evs: in.evs, first: in.first, firstAt: in.firstAt, merge: in.collapsed || len(in.evs) > mergeAfter}
	in.evs, in.collapsed = spare[:0], false
	return b
}

// compact rewrites the pending events in bounded form, keeping their order
// per stream: the last status, the last snapshot (dropping the updates it
// supersedes), one collapsed update with the net change per level since, the
// newest inboxTrades trades, and the last heartbeat.
func (in *inbox) compact() {
	lastSnap := -1
	for i := range in.evs {
		if in.evs[i].Kind == book.EventSnapshot {
			lastSnap = i
		}
	}
	var (
		out      []book.Event
		status   *book.Event
		beat     *book.Event
		trades   []book.Event
		update   *book.Event
		netIndex = map[levelKey]int{}
	)
	before := len(in.evs)
	for i := range in.evs {
		ev := &in.evs[i]
		switch ev.Kind {
		case book.EventStatus:
			status = ev
		case book.EventHeartbeat:
			beat = ev
		case book.EventTrade:
			trades = append(trades, *ev)
		case book.EventUpdate:
			if i < lastSnap {
				continue
			}
			if update == nil {
				u := *ev
				u.Changes = nil
				update = &u
			}
			update.Seq, update.Time, update.UpstreamSeq = ev.Seq, ev.Time, ev.UpstreamSeq
			for _, c := range ev.Changes {
				k := levelKey{c.Side, c.Price.String()}
				if j, ok := netIndex[k]; ok {
					update.Changes[j] = c
					continue
				}
				netIndex[k] = len(update.Changes)
				update.Changes = append(update.Changes, c)
			}
		}
	}
	if status != nil {
		out = append(out, *status)
	}
	if lastSnap >= 0 {
		out = append(out, in.evs[lastSnap])
	}
	if update != nil {
		update.Changes = removalsFirst(update.Changes)
		out = append(out, *update)
	}
	if n := len(trades) - inboxTrades; n > 0 {
		in.dropped += uint64(n)
		trades = trades[n:]
	}
	out = append(out, trades...)
	if beat != nil {
		out = append(out, *beat)
	}
	in.merged += uint64(before - len(out))
	clear(in.evs)
	in.evs = append(in.evs[:0], out...)
	in.collapsed = true
}

// levelKey names one price level of one side.
type levelKey struct {
	side  model.Side
	price string
}

// removalsFirst orders net changes so that applying them one by one never
// crosses the book: once the removals are applied the book holds only levels
// of the final book, and every later change keeps it so. Stable otherwise.
func removalsFirst(cs []model.Change) []model.Change {
	slices.SortStableFunc(cs, func(a, b model.Change) int {
		az, bz := a.Size.IsZero(), b.Size.IsZero()
		switch {
		case az && !bz:
			return -1
		case bz && !az:
			return 1
		}
		return 0
	})
	return cs
}
