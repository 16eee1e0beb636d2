package fanout

import (
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/feed"
)

// topic is everything the server knows of one product: a replica of its book
// rebuilt from the event stream, one per level2 stream (live and batched), the
// ticker, recent trades, and the subscribers of each channel. Frames are
// encoded once here and the same bytes go to every subscriber.
//
// mu guards all fields. It is held while frames are queued, so a subscriber
// added under mu sees its snapshot strictly before the next update.
type topic struct {
	mu  sync.Mutex
	idx int32
	p   *feed.Product
	log *zap.Logger

	subs [numChannels]subSet

	eventSeq uint64 // last event Seq seen, for gap detection

	l2      *book.Book // the live level2 stream's book
	l2Seq   uint64
	l2Ready bool   // a snapshot has been applied and no gap seen since
	l2Snap  []byte // cached snapshot frame of l2, nil when stale

	batch      *book.Book // the level2_batch stream's book, as of its last flush
	batchSeq   uint64
	batchDirty bool
	batchSnap  []byte
	lastTime   time.Time

	ticker      book.Ticker
	tickerSeq   int64
	tickerFrame []byte
	tickerDirty bool // changed since the last ticker_batch

	lastTrade     feed.Trade
	lastTradeSeq  int64
	lastTradeTime time.Time
	lastMatch     []byte
	trades        tradeRing

	upstreamSeq int64
	lastTradeID int64
}

func newTopic(idx int, p *feed.Product, tradesKept int, log *zap.Logger) *topic {
	return &topic{
		idx: int32(idx), p: p, log: log.With(zap.String("product", p.ID)),
		l2: book.New(p.ID), batch: book.New(p.ID),
		trades: newTradeRing(tradesKept),
	}
}

// handle applies one event of the product's stream and fans it out.
func (t *topic) handle(ev *book.Event, m *metrics) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.eventSeq != 0 && ev.Seq != t.eventSeq+1 && ev.Kind != book.EventSnapshot {
		m.streamGaps.Add(1)
		t.log.Warn("event stream gap; waiting for the next snapshot",
			zap.Uint64("expected", t.eventSeq+1), zap.Uint64("got", ev.Seq))
		t.l2Ready = false
	}
	t.eventSeq = ev.Seq
	if ev.UpstreamSeq != 0 {
		t.upstreamSeq = ev.UpstreamSeq
	}
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
	if err := t.l2.ApplySnapshot(ev.Bids, ev.Asks); err != nil {
		t.log.Error("snapshot rejected by the replica book", zap.Error(err))
		t.l2Ready = false
		return
	}
	t.l2Seq++
	t.l2Ready, t.l2Snap = true, nil
	t.batch = t.l2.Clone()
	t.batchSeq++
	t.batchSnap, t.batchDirty = nil, false
	if ev.Ticker.Valid() {
		t.ticker, t.tickerFrame = ev.Ticker, nil
	}
	if t.subs[chLevel2].len() > 0 {
		t.subs[chLevel2].send(t.conflated(chLevel2, t.snapshotFrame()))
	}
	if t.subs[chLevel2Batch].len() > 0 {
		t.subs[chLevel2Batch].send(t.conflated(chLevel2Batch, t.batchSnapshotFrame()))
	}
}

func (t *topic) onUpdate(ev *book.Event, m *metrics) {
	if !t.l2Ready {
		m.updatesDropped.Add(1)
		return
	}
	for _, c := range ev.Changes {
		if err := t.l2.Apply(c); err != nil {
			m.replicaErrors.Add(1)
			t.log.Error("change rejected by the replica book; waiting for a snapshot", zap.Error(err))
			t.l2Ready = false
			return
		}
	}
	t.l2Seq++
	t.l2Snap = nil
	t.batchDirty, t.lastTime = true, ev.Time
	if t.subs[chLevel2].len() > 0 {
		f := encodeL2Update(t.p, t.l2Seq, ev.Time, ev.Changes)
		t.subs[chLevel2].send(t.conflated(chLevel2, f))
	}
}

func (t *topic) onTrade(ev *book.Event) {
	t.ticker, t.tickerSeq, t.tickerFrame = ev.Ticker, ev.UpstreamSeq, nil
	t.tickerDirty = true
	t.lastTrade, t.lastTradeSeq, t.lastTradeTime, t.lastMatch = ev.Trade, ev.UpstreamSeq, ev.Time, nil
	t.lastTradeID = ev.Trade.TradeID
	t.trades.push(ev.Trade, ev.Time)
	if t.subs[chTicker].len() > 0 {
		t.subs[chTicker].send(t.conflated(chTicker, t.tickerBytes()))
	}
	if t.subs[chMatches].len() > 0 {
		f := encodeMatch(t.p, "match", ev.UpstreamSeq, ev.Time, &ev.Trade)
		t.subs[chMatches].send(outFrame{b: f, kind: kindKeep})
	}
}

// flushBatch sends the level2_batch stream the net change of every level since
// its last flush, computed by comparing its book with the live one.
func (t *topic) flushBatch() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.batchDirty || !t.l2Ready {
		return
	}
	t.batchDirty = false
	changes := diffBooks(t.batch, t.l2)
	if len(changes) == 0 {
		return
	}
	for _, c := range changes {
		if err := t.batch.Apply(c); err != nil {
			t.log.Error("batch book diverged; rebuilding it", zap.Error(err))
			t.batch = t.l2.Clone()
			break
		}
	}
	t.batchSeq++
	t.batchSnap = nil
	if t.subs[chLevel2Batch].len() > 0 {
		f := encodeL2Update(t.p, t.batchSeq, t.lastTime, changes)
		t.subs[chLevel2Batch].send(t.conflated(chLevel2Batch, f))
	}
}

// heartbeat sends the product's heartbeat to its subscribers.
func (t *topic) heartbeat(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.subs[chHeartbeat].len() == 0 {
		return
	}
	f := encodeHeartbeat(t.p, t.upstreamSeq, t.lastTradeID, now)
	t.subs[chHeartbeat].send(outFrame{b: f, kind: kindKeep, product: t.idx, ch: chHeartbeat})
}

// tickerBatch sends ticker_batch subscribers the ticker if it changed.
func (t *topic) tickerBatch() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.tickerDirty || !t.ticker.Valid() {
		return
	}
	t.tickerDirty = false
	if t.subs[chTickerBatch].len() > 0 {
		t.subs[chTickerBatch].send(t.conflated(chTickerBatch, t.tickerBytes()))
	}
}

func (t *topic) conflated(ch channel, b []byte) outFrame {
	return outFrame{b: b, kind: kindConflate, ch: ch, product: t.idx}
}

// The cached frames below are encoded on first use after a change. mu must be held.

func (t *topic) snapshotFrame() []byte {
	if t.l2Snap == nil {
		bids, asks := t.l2.Top(0, nil, nil)
		t.l2Snap = encodeSnapshot(t.p, t.l2Seq, bids, asks)
	}
	return t.l2Snap
}

func (t *topic) batchSnapshotFrame() []byte {
	if t.batchSnap == nil {
		bids, asks := t.batch.Top(0, nil, nil)
		t.batchSnap = encodeSnapshot(t.p, t.batchSeq, bids, asks)
	}
	return t.batchSnap
}

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

// current returns the frame that brings a new or lagging subscriber of ch up
// to date, or nil when there is nothing to send yet. mu must be held.
func (t *topic) current(ch channel) []byte {
	switch ch {
	case chLevel2:
		if t.l2Ready {
			return t.snapshotFrame()
		}
	case chLevel2Batch:
		if t.l2Ready {
			return t.batchSnapshotFrame()
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
