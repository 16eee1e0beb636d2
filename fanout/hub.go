package fanout

import (
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/fanout/transport"
	"github.com/tickerfan/tickerfan/internal/gate"
)

// hub routes the event stream to topics and owns the subscription index
// (product -> channel -> subscribers): a fan-out never scans all connections.
type hub struct {
	cat     *catalog
	cfg     *Config
	metrics *metrics
	log     *zap.Logger
	topics  []*topic
	inboxes []inbox // one per topic, guarded by the topic's shard's mu
	shards  []*shard
	status  statusBoard
}

func newHub(cat *catalog, cfg *Config, m *metrics, log *zap.Logger) *hub {
	h := &hub{cat: cat, cfg: cfg, metrics: m, log: log}
	start := uint64(time.Now().UnixMicro()) // see newL2Stream
	for i := range cat.products {
		h.topics = append(h.topics, newTopic(i, &cat.products[i], cfg, start, log))
	}
	h.status.init(cat)
	for range cfg.Shards {
		h.shards = append(h.shards, &shard{h: h, signal: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})})
	}
	h.inboxes = make([]inbox, len(h.topics))
	for i, t := range h.topics {
		sh := h.shards[i%len(h.shards)]
		sh.topics = append(sh.topics, t)
	}
	return h
}

// shard is one fan-out goroutine and the topics it owns. Events for a product
// always go to the same shard, so each product's stream is handled in order.
// The Server's gate starts the shard goroutines (hub.start) and waits for
// them; hub.stop tells them to return.
//
// The book publishes into the products' inboxes and never waits for the
// shard: an inbox that fills merges what it holds (inbox.go), so neither the
// ingest nor the staleness of what subscribers get depends on how far the
// fan-out is behind.
type shard struct {
	h      *hub
	topics []*topic
	mu     sync.Mutex // guards ready, closed and the inboxes of its topics
	ready  []int      // topics with events in their inbox, in arrival order
	closed bool

	batches []batch         // the round being handled; the shard goroutine's own
	round   transport.Round // holds the round's writes back until its end; the shard goroutine's own
	signal  chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

func (h *hub) start(g *gate.Gate) {
	for i, sh := range h.shards {
		statusTimer := i == 0
		if !g.Go(func() { sh.run(statusTimer) }) {
			close(sh.done)
		}
	}
}

func (h *hub) stop() {
	for _, sh := range h.shards {
		sh.mu.Lock()
		sh.closed = true
		sh.mu.Unlock()
		close(sh.stop)
		<-sh.done
	}
}

// publish hands an event to its product's inbox; it never waits for the
// fan-out.
func (h *hub) publish(ev book.Event) bool {
	idx, ok := h.cat.index[ev.Product]
	if !ok {
		return false
	}
	sh := h.shards[idx%len(h.shards)]
	sh.mu.Lock()
	if !sh.closed && h.inboxes[idx].push(ev) {
		sh.ready = append(sh.ready, idx)
	}
	sh.mu.Unlock()
	select {
	case sh.signal <- struct{}{}:
	default:
	}
	return true
}

// run is the shard goroutine: it drains the event queue and runs the timers.
// The status timer runs on the first shard only.
func (sh *shard) run(statusTimer bool) {
	defer close(sh.done)
	cfg := sh.h.cfg
	beat := time.NewTicker(time.Second)
	batch := time.NewTicker(cfg.BatchInterval)
	tickerBatch := time.NewTicker(cfg.TickerBatchInterval)
	status := time.NewTicker(cfg.StatusInterval)
	defer beat.Stop()
	defer batch.Stop()
	defer tickerBatch.Stop()
	defer status.Stop()
	var spare []int
	for {
		select {
		case <-sh.stop:
			return
		case <-sh.signal:
			spare = sh.drain(spare)
		case now := <-beat.C:
			sh.each(func(t *topic) { t.heartbeat(now) })
		case now := <-batch.C:
			sh.each(func(t *topic) { t.flushBatch(now) })
		case <-tickerBatch.C:
			sh.each((*topic).tickerBatch)
		case <-status.C:
			if statusTimer {
				sh.h.status.broadcast()
			}
		}
	}
}

// drain takes every ready product's events, one round each, and handles
// them; spare is the previous ready list, reused.
func (sh *shard) drain(spare []int) []int {
	h := sh.h
	sh.mu.Lock()
	ready := sh.ready
	sh.ready = spare[:0]
	batches := sh.batches[:0]
	for _, idx := range ready {
		in := &h.inboxes[idx]
		batches = append(batches, in.take(h.topics[idx].spare))
		h.metrics.eventsMerged.Add(in.merged)
		h.metrics.tradesDropped.Add(in.dropped)
		in.merged, in.dropped = 0, 0
	}
	sh.mu.Unlock()
	now := time.Now().UnixNano()
	for i, idx := range ready {
		b := &batches[i]
		h.metrics.fanoutDelay.Observe(time.Duration(now - b.firstAt))
		for j := range b.evs {
			switch ev := &b.evs[j]; ev.Kind {
			case book.EventStatus:
				h.status.set(idx, ev.Online, ev.Message)
			case book.EventSnapshot:
				h.status.sawData(idx)
			}
		}
		t := h.topics[idx]
		t.round = &sh.round
		t.handleBatch(b, h.metrics)
		t.round = nil
		h.metrics.eventsIn.Add(uint64(len(b.evs)))
		clear(b.evs)
		h.topics[idx].spare = b.evs[:0]
	}
	sh.round.End()
	clear(batches)
	sh.batches = batches[:0]
	return ready
}

func (sh *shard) each(f func(*topic)) {
	for _, t := range sh.topics {
		t.round = &sh.round
		f(t)
		t.round = nil
	}
	sh.round.End()
}

// subscription is what one request adds for one product.
type subscription struct {
	product  int
	channels channelMask
	checksum bool   // its level2 channels carry the checksum extension
	resume   bool   // resume extension: seen is the last level2 sequence the client has
	seen     uint64 // meaningful only with resume
}

// subscribe adds c to sub's channels and queues, under the topic lock, what
// brings it up to date (snapshot, ticker, last_match). With resume, a level2
// channel gets the updates after seen instead of a snapshot, when they are
// all still held.
func (h *hub) subscribe(c *transport.Conn, sub subscription) {
	t := h.topics[sub.product]
	t.mu.Lock()
	defer t.mu.Unlock()
	if !c.Open() {
		return // closed meanwhile: its OnClose unsubscribes what its session lists
	}
	for ch := channel(0); ch < numChannels; ch++ {
		if !sub.channels.has(ch) {
			continue
		}
		sum := sub.checksum && ch.isLevel2()
		if t.set(ch, sum).Add(c) {
			t.counts[ch].Add(1)
		}
		key, class := streamKey(t.idx, ch), classFor(ch)
		if sub.resume && !sum && ch.isLevel2() {
			if frames, ok := t.resume(ch, sub.seen); ok {
				c.Restore(key, class, frames...)
				h.metrics.resumes.Add(1)
				continue
			}
		}
		if f := t.current(ch, sum); f != nil {
			c.Restore(key, class, f)
		} else {
			c.Restore(key, class)
		}
	}
}

func classFor(ch channel) transport.Class {
	switch {
	case ch == chTicker || ch == chTickerBatch:
		return transport.Latest // a ticker carries the whole state: the newest is all that matters
	case ch.conflatable():
		return transport.Conflate
	}
	return transport.Keep
}

// unsubscribe removes c from the channels in drop of product idx.
func (h *hub) unsubscribe(c *transport.Conn, idx int, drop channelMask) {
	t := h.topics[idx]
	t.mu.Lock()
	defer t.mu.Unlock()
	for ch := channel(0); ch < numChannels; ch++ {
		if !drop.has(ch) {
			continue
		}
		removed := t.subs[ch].Remove(c)
		if s := t.stream(ch); s != nil && s.sums.Remove(c) {
			removed = true
		}
		if removed {
			t.counts[ch].Add(-1)
		}
		c.Forget(streamKey(t.idx, ch))
	}
}

// unsubscribeAll removes a closed connection from everything it subscribed.
func (h *hub) unsubscribeAll(c *transport.Conn, subs []channelMask, status bool) {
	for idx, m := range subs {
		if m != 0 {
			h.unsubscribe(c, idx, m)
		}
	}
	if status {
		h.status.remove(c)
	}
}

// resync sends a lagging connection fresh state for every conflated stream it
// still follows: the transport's OnLagging, on a pool worker.
func (h *hub) resync(c *transport.Conn) {
	for _, key := range c.Lagging(nil) {
		idx, ch := splitKey(key)
		t := h.topics[idx]
		t.mu.Lock()
		sum := false
		if s := t.stream(ch); s != nil {
			sum = s.sums.Has(c)
		}
		if f := t.current(ch, sum); f != nil && (sum || t.subs[ch].Has(c)) {
			c.Restore(key, classFor(ch), f)
		} else {
			c.Restore(key, classFor(ch)) // nothing to send, or no longer followed: clear the mark
		}
		t.mu.Unlock()
	}
	h.metrics.resyncs.Add(1)
	h.log.Debug("slow consumer resynced", zap.String("remote", c.Remote()))
}
