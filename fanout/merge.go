package fanout

import (
	"github.com/tickerfan/tickerfan/book"
)

// handleBatch applies one round of a product's events, as its inbox handed
// them over. A round within bounds goes out event by event, as it came,
// except the ticker: a ticker carries the product's whole state, so of the
// round's trades only the newest one's goes out (every match does). At light
// load a round is one event and nothing changes; once trades queue, ticker
// subscribers get the newest instead of a backlog, as Coinbase batches its
// ticker under cascading matches. A backlog (see inbox) is merged: each run of level-2 updates leaves as
// one l2update with the net change per level, the stream's sequence still
// growing by one per message and its checksum exact; of its trades every
// match goes out (those the inbox kept), the ticker once, the newest. That is
// what keeps the fan-out's staleness bounded when it falls behind: its work
// per round is proportional to the products and levels that changed, not to
// the events that queued.
func (t *topic) handleBatch(b *batch, m *metrics) {
	if !b.merge {
		last := supersededBefore(b.evs)
		for i := range b.evs {
			t.handleEvent(&b.evs[i], m, i < last)
		}
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.checkSeq(b.first, b.evs[0].Kind, m)
	var trade *book.Event
	for i := range b.evs {
		ev := &b.evs[i]
		if ev.UpstreamSeq != 0 {
			t.upstreamSeq = ev.UpstreamSeq
		}
		switch ev.Kind {
		case book.EventUpdate:
			if !t.l2Ready {
				m.updatesDropped.Add(1)
				continue
			}
			if t.applyChanges(ev.Changes, &t.liveNet, m) {
				t.lastTime = ev.Time
				t.liveRun++
			}
			continue
		case book.EventTrade:
			t.recordTrade(ev)
			trade = ev
			continue
		}
		t.flushLive(m) // the run so far leaves before a snapshot
		t.apply(ev, m)
	}
	t.flushLive(m)
	t.eventSeq = newestSeq(b.evs)
	if trade != nil && t.subs[chTicker].Len() > 0 {
		t.subs[chTicker].send(t.conflated(chTicker, t.tickerBytes()), t.round)
	}
}

// roundTickers is how many trades of one product a round of the fan-out may
// hold and still send each trade's ticker; past it only the newest ticker
// goes out.
const roundTickers = 4

// supersededBefore returns the index of the round's last trade when the
// round holds more than roundTickers trades: the tickers of the trades
// before it are not sent. Otherwise -1: every ticker goes out.
func supersededBefore(evs []book.Event) int {
	n, last := 0, -1
	for i := range evs {
		if evs[i].Kind == book.EventTrade {
			n, last = n+1, i
		}
	}
	if n <= roundTickers {
		return -1
	}
	return last
}

// newestSeq returns the largest Seq of evs: the stream's position after them.
// A compacted inbox is not in Seq order (its net update comes before the
// trades it kept), so its last event is not always its newest.
func newestSeq(evs []book.Event) uint64 {
	var n uint64
	for i := range evs {
		n = max(n, evs[i].Seq)
	}
	return n
}

// flushLive sends the merged run of live updates as one l2update. mu must be held.
func (t *topic) flushLive(m *metrics) {
	run := t.liveRun
	t.liveRun = 0
	if !t.l2Ready {
		t.liveNet.reset()
		return
	}
	if t.liveNet.empty() {
		return
	}
	changes := t.liveNet.changes(t.l2.book, t.scratch[:0])
	t.scratch = changes[:0]
	if run > 1 {
		m.updatesMerged.Add(uint64(run - 1))
	}
	if len(changes) == 0 {
		return
	}
	t.l2.advanced()
	t.changed()
	t.l2.sendUpdate(t, t.lastTime, changes)
}

// batchFollowed reports whether anyone subscribes to level2_batch. mu must be held.
func (t *topic) batchFollowed() bool {
	return t.subs[chLevel2Batch].Len() > 0 || t.batch.sums.Len() > 0
}

// ensureBatch brings level2_batch's book back from the live one when nobody
// followed it: a fresh start of its stream (sequence bumped, history
// cleared). mu must be held.
func (t *topic) ensureBatch() {
	if !t.batchStale || !t.l2Ready {
		return
	}
	t.batch.reset(t.l2.book.Clone())
	t.batchNet.reset()
	t.batchStale = false
}
