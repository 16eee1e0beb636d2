package fanout

import (
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/fanout/transport"
	"github.com/tickerfan/tickerfan/model"
)

// topic is everything the server knows of one product: a replica of its book
// rebuilt from the event stream, one per level2 stream (live and batched), the
// ticker, recent trades, and the subscribers of each channel. Frames are
// encoded once here and the same bytes go to every subscriber.
//
// mu guards all fields but view, counts and trades. It is held while frames
// are queued, so a subscriber added under mu sees its snapshot strictly
// before the next update. REST reads view and trades, and /metrics reads
// counts, without it.
type topic struct {
	mu  sync.Mutex
	idx productIndex
	p   *model.Product
	log *zap.Logger

	subs   [numChannels]subSet       // subscribers per channel (level2 ones without checksum)
	counts [numChannels]atomic.Int64 // subscribers per channel, checksum ones included, for /metrics

	eventSeq uint64 // last event Seq seen, for gap detection

	// round is the shard's round while the shard goroutine handles this
	// topic (drain, its timers), nil otherwise: the writes of what the
	// topic sends then start when the round ends. Only the shard goroutine
	// touches it.
	round *transport.Round

	l2       l2Stream // the live level2 stream; its book is the product's book
	batch    l2Stream // level2_batch; its book is as of the last flush
	l2Ready  bool     // a snapshot has been applied and no gap seen since
	lastTime time.Time

	// batchNet holds the levels the live book changed since the last
	// level2_batch flush. While nobody follows level2_batch (batchStale) its
	// book is not kept at all; the first subscriber brings it back
	// (ensureBatch). Either way its work is proportional to what changed.
	batchNet   netChange
	batchStale bool
	liveNet    netChange      // a run of live updates being merged (merge.go)
	liveRun    int            // updates in liveNet's run
	scratch    []model.Change // net changes being sent, reused
	spare      []book.Event   // the shard's: this topic inbox's next buffer

	ticker      book.Ticker
	tickerSeq   int64
	tickerFrame []byte
	tickerDirty bool // changed since the last ticker_batch

	lastTrade     model.Trade
	lastTradeSeq  int64
	lastTradeTime time.Time
	lastMatch     []byte

	tradesMu sync.RWMutex // guards trades; written under mu, read by REST without it
	trades   tradeRing

	view       atomic.Pointer[view] // for REST; see view.go
	version    atomic.Uint64        // bumped on every change the view shows
	viewWanted atomic.Int64         // unix nanos of REST's last read

	upstreamSeq int64
	lastTradeID int64
}

// newTopic builds product p's topic; its level2 streams start at sequence
// start (see newL2Stream).
func newTopic(idx int, p *model.Product, cfg *Config, start uint64, log *zap.Logger) *topic {
	t := &topic{
		idx: productIndex(idx), p: p, log: log.With(zap.String("product", p.ID)),
		l2:         newL2Stream(chLevel2, p.ID, start, cfg.ResumeHistory),
		batch:      newL2Stream(chLevel2Batch, p.ID, start, cfg.ResumeHistory),
		trades:     newTradeRing(cfg.TradesKept),
		batchStale: true,
	}
	t.publishView(time.Now(), true) // the empty book: REST always has a view
	return t
}

// handle applies one event of the product's stream and fans it out.
func (t *topic) handle(ev *book.Event, m *metrics) { t.handleEvent(ev, m, false) }

// handleEvent is handle for an event of a round; tickerSuperseded says a
// newer trade of the round follows, so a trade's ticker is not sent (its
// match is).
func (t *topic) handleEvent(ev *book.Event, m *metrics, tickerSuperseded bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.checkSeq(ev.Seq, ev.Kind, m)
	t.eventSeq = ev.Seq
	if ev.UpstreamSeq != 0 {
		t.upstreamSeq = ev.UpstreamSeq
	}
	if tickerSuperseded && ev.Kind == book.EventTrade {
		t.recordTrade(ev)
		m.tickersSuperseded.Add(1)
		return
	}
	t.apply(ev, m)
}

// checkSeq notes a gap before an event of kind numbered seq: the book waits
// for the next snapshot. mu must be held.
func (t *topic) checkSeq(seq uint64, kind book.EventKind, m *metrics) {
	if t.eventSeq != 0 && seq != t.eventSeq+1 && kind != book.EventSnapshot {
		m.streamGaps.Add(1)
		t.log.Warn("event stream gap; waiting for the next snapshot",
			zap.Uint64("expected", t.eventSeq+1), zap.Uint64("got", seq))
		t.l2Ready = false
	}
}

// apply applies one event and fans it out. mu must be held.
func (t *topic) apply(ev *book.Event, m *metrics) {
	switch ev.Kind {
	case book.EventSnapshot:
		t.onSnapshot(ev)
	case book.EventUpdate:
		t.onUpdate(ev, m)
	case book.EventTrade:
		t.onTrade(ev)
	case book.EventHeartbeat:
		if ev.LastTradeID != 0 {
			t.lastTradeID = ev.LastTradeID
		}
	}
}

func (t *topic) onSnapshot(ev *book.Event) {
	live := book.New(t.p.ID)
	if err := live.ApplySnapshot(ev.Bids, ev.Asks); err != nil {
		t.log.Error("snapshot rejected by the replica book", zap.Error(err))
		t.l2Ready = false
		return
	}
	t.l2.reset(live)
	t.l2Ready = true
	t.batchNet.reset()
	t.batchStale = !t.batchFollowed()
	if !t.batchStale {
		t.batch.reset(live.Clone())
	}
	if ev.Ticker.Valid() {
		t.ticker, t.tickerFrame = ev.Ticker, nil
	}
	t.l2.sendSnapshot(t)
	if !t.batchStale {
		t.batch.sendSnapshot(t)
	}
	t.changed()
}

func (t *topic) onUpdate(ev *book.Event, m *metrics) {
	if !t.l2Ready {
		m.updatesDropped.Add(1)
		return
	}
	if !t.applyChanges(ev.Changes, nil, m) {
		return
	}
	t.l2.advanced()
	t.lastTime = ev.Time
	t.changed()
	t.l2.sendUpdate(t, ev.Time, ev.Changes)
}

// applyChanges applies cs to the live book in order, noting each level for
// level2_batch and, given run, for a merged l2update. A removal of a level
// the book does not hold is skipped in a run: a compacted inbox may hold the
// net removal of a level that came and went while it waited. It reports
// false, the book waiting for a snapshot, when the replica rejects a change.
// mu must be held.
func (t *topic) applyChanges(cs []model.Change, run *netChange, m *metrics) bool {
	b := t.l2.book
	for _, c := range cs {
		if run != nil {
			if _, held := b.Size(c.Side, c.Price); !held && c.Size.IsZero() {
				continue
			}
			run.note(b, c)
		}
		if !t.batchStale {
			t.batchNet.note(b, c)
		}
		if err := b.Apply(c); err != nil {
			m.replicaErrors.Add(1)
			t.log.Error("change rejected by the replica book; waiting for a snapshot", zap.Error(err))
			t.l2Ready = false
			return false
		}
	}
	return true
}

func (t *topic) onTrade(ev *book.Event) {
	t.recordTrade(ev)
	if t.subs[chTicker].Len() > 0 {
		t.subs[chTicker].send(t.conflated(chTicker, t.tickerBytes()), t.round)
	}
}

// recordTrade keeps a trade's ticker state and sends its match. mu must be held.
func (t *topic) recordTrade(ev *book.Event) {
	t.ticker, t.tickerSeq, t.tickerFrame = ev.Ticker, ev.UpstreamSeq, nil
	t.tickerDirty = true
	t.lastTrade, t.lastTradeSeq, t.lastTradeTime, t.lastMatch = ev.Trade, ev.UpstreamSeq, ev.Time, nil
	t.lastTradeID = ev.Trade.TradeID
	t.changed()
	t.tradesMu.Lock()
	t.trades.push(ev.Trade, ev.Time)
	t.tradesMu.Unlock()
	if t.subs[chMatches].Len() > 0 {
		f := encodeMatch(t.p, "match", ev.UpstreamSeq, ev.Time, &ev.Trade)
		t.subs[chMatches].send(keep(f), t.round)
	}
}

// flushBatch sends the level2_batch stream the net change of every level the
// live book changed since its last flush, and refreshes REST's view if REST
// is asking. With nobody following level2_batch it stops keeping its book.
func (t *topic) flushBatch(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.publishView(now, false)
	if t.batchStale || !t.l2Ready {
		return
	}
	if !t.batchFollowed() {
		t.batchStale = true
		t.batchNet.reset()
		return
	}
	if t.batchNet.empty() {
		return
	}
	changes := t.batchNet.changes(t.l2.book, t.scratch[:0])
	t.scratch = changes[:0]
	if len(changes) == 0 {
		return
	}
	for _, c := range changes {
		if err := t.batch.book.Apply(c); err != nil {
			t.log.Error("batch book diverged; rebuilding it", zap.Error(err))
			t.batch.book = t.l2.book.Clone()
			break
		}
	}
	t.batch.advanced()
	t.batch.sendUpdate(t, t.lastTime, changes)
}

// heartbeat sends the product's heartbeat to its subscribers.
func (t *topic) heartbeat(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.subs[chHeartbeat].Len() == 0 {
		return
	}
	f := encodeHeartbeat(t.p, t.upstreamSeq, t.lastTradeID, now)
	t.subs[chHeartbeat].send(keep(f), t.round)
}

// tickerBatch sends ticker_batch subscribers the ticker if it changed.
func (t *topic) tickerBatch() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.tickerDirty || !t.ticker.Valid() {
		return
	}
	t.tickerDirty = false
	if t.subs[chTickerBatch].Len() > 0 {
		t.subs[chTickerBatch].send(t.conflated(chTickerBatch, t.tickerBytes()), t.round)
	}
}

// stream returns the level2 stream of ch, nil for other channels.
func (t *topic) stream(ch channel) *l2Stream {
	switch ch {
	case chLevel2:
		return &t.l2
	case chLevel2Batch:
		return &t.batch
	}
	return nil
}

// set returns the subscriber set of ch, the checksum one when sum is set.
func (t *topic) set(ch channel, sum bool) *subSet {
	if sum {
		return &t.stream(ch).sums
	}
	return &t.subs[ch]
}

func (t *topic) conflated(ch channel, b []byte) outFrame {
	return outFrame{b: b, class: classFor(ch), key: streamKey(t.idx, ch)}
}

// The cached frames below are encoded on first use after a change. mu must be held.

func (t *topic) tickerBytes() []byte {
	if t.tickerFrame == nil {
		t.tickerFrame = encodeTicker(t.p, t.tickerSeq, &t.ticker)
	}
	return t.tickerFrame
}

func (t *topic) lastMatchFrame() []byte {
	if t.lastMatch == nil {
		t.lastMatch = encodeMatch(t.p, "last_match", t.lastTradeSeq, t.lastTradeTime, &t.lastTrade)
	}
	return t.lastMatch
}

// resume returns the updates of ch's stream after sequence seen, when the
// stream still holds them all and the book is live; ok false means the
// subscriber needs the snapshot. mu must be held.
func (t *topic) resume(ch channel, seen uint64) (frames [][]byte, ok bool) {
	s := t.stream(ch)
	if s == nil || !t.l2Ready {
		return nil, false
	}
	if ch == chLevel2Batch {
		t.ensureBatch() // a stale stream's history is no longer the book's
	}
	return s.hist.since(seen, s.seq)
}

// current returns the frame that brings a new or lagging subscriber of ch up
// to date, or nil when there is nothing to send yet; sum asks for the level2
// snapshot with its checksum. mu must be held.
func (t *topic) current(ch channel, sum bool) []byte {
	switch ch {
	case chLevel2:
		if t.l2Ready {
			return t.l2.snapshot(t.p, sum)
		}
	case chLevel2Batch:
		if t.l2Ready {
			t.ensureBatch()
			return t.batch.snapshot(t.p, sum)
		}
	case chTicker, chTickerBatch:
		if t.ticker.Valid() {
			return t.tickerBytes()
		}
	case chMatches:
		if t.lastTrade.TradeID != 0 {
			return t.lastMatchFrame()
		}
	}
	return nil
}
