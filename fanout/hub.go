package fanout

import (
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/tickerfan/tickerfan/book"
)

// maxShardQueue bounds the events waiting for a shard; Publish blocks past it,
// which slows the feed instead of growing memory without bound.
const maxShardQueue = 65536

// hub routes the event stream to topics and owns the subscription index
// (product -> channel -> subscribers): a fan-out never scans all connections.
type hub struct {
	srv    *Server
	topics []*topic
	shards []*shard
	status statusBoard
}

func newHub(s *Server) *hub {
	h := &hub{srv: s}
	start := uint64(time.Now().UnixMicro()) // see newL2Stream
	for i := range s.cat.products {
		h.topics = append(h.topics, newTopic(i, &s.cat.products[i], &s.cfg, start, s.log))
	}
	h.status.init(s.cat)
	for i := 0; i < s.cfg.Shards; i++ {
		h.shards = append(h.shards, &shard{h: h, signal: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})})
		h.shards[i].cond = sync.NewCond(&h.shards[i].mu)
	}
	for i, t := range h.topics {
		sh := h.shards[i%len(h.shards)]
		sh.topics = append(sh.topics, t)
	}
	return h
}

// shard is one fan-out goroutine and the topics it owns. Events for a product
// always go to the same shard, so each product's stream is handled in order.
// The hub starts the shard goroutines in start and stops them in stop.
type shard struct {
	h      *hub
	topics []*topic
	mu     sync.Mutex
	cond   *sync.Cond // signalled when the queue has room again
	queue  []book.Event
	closed bool
	signal chan struct{}
	stop   chan struct{}
	done   chan struct{}
}

func (h *hub) start() {
	for i, sh := range h.shards {
		go sh.run(i == 0)
	}
}

func (h *hub) stop() {
	for _, sh := range h.shards {
		sh.mu.Lock()
		sh.closed = true
		sh.cond.Broadcast()
		sh.mu.Unlock()
		close(sh.stop)
		<-sh.done
	}
}

// publish hands an event to its product's shard.
func (h *hub) publish(ev book.Event) bool {
	idx, ok := h.srv.cat.index[ev.Product]
	if !ok {
		return false
	}
	sh := h.shards[idx%len(h.shards)]
	sh.mu.Lock()
	for len(sh.queue) >= maxShardQueue && !sh.closed {
		sh.cond.Wait()
	}
	if !sh.closed {
		sh.queue = append(sh.queue, ev)
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
	cfg := &sh.h.srv.cfg
	beat := time.NewTicker(time.Second)
	batch := time.NewTicker(cfg.BatchInterval)
	tickerBatch := time.NewTicker(cfg.TickerBatchInterval)
	status := time.NewTicker(cfg.StatusInterval)
	defer beat.Stop()
	defer batch.Stop()
	defer tickerBatch.Stop()
	defer status.Stop()
	var spare []book.Event
	for {
		select {
		case <-sh.stop:
			return
		case <-sh.signal:
			spare = sh.drain(spare)
		case now := <-beat.C:
			sh.each(func(t *topic) { t.heartbeat(now) })
		case <-batch.C:
			sh.each((*topic).flushBatch)
		case <-tickerBatch.C:
			sh.each((*topic).tickerBatch)
		case <-status.C:
			if statusTimer {
				sh.h.status.broadcast()
			}
		}
	}
}

// drain handles every queued event; spare is the previous queue, reused.
func (sh *shard) drain(spare []book.Event) []book.Event {
	sh.mu.Lock()
	evs := sh.queue
	sh.queue = spare[:0]
	sh.cond.Broadcast()
	sh.mu.Unlock()
	h := sh.h
	for i := range evs {
		ev := &evs[i]
		idx := h.srv.cat.index[ev.Product]
		switch ev.Kind {
		case book.EventStatus:
			h.status.set(idx, ev.Online, ev.Message)
		case book.EventSnapshot:
			h.status.sawData(idx)
		}
		h.topics[idx].handle(ev, h.srv.metrics)
		h.srv.metrics.eventsIn.Add(1)
	}
	clear(evs)
	return evs
}

func (sh *shard) each(f func(*topic)) {
	for _, t := range sh.topics {
		f(t)
	}
}

// subscribe adds c to the channels in add of product idx and queues, under
// the topic lock, what brings it up to date (snapshot, ticker, last_match).
// With sum, c's level2 channels carry the checksum extension. With resume,
// a level2 channel gets the updates after sequence seen instead of a
// snapshot, when they are all still held (resume extension).
func (h *hub) subscribe(c *Conn, idx int, add channelMask, sum bool, seen uint64, resume bool) {
	t := h.topics[idx]
	t.mu.Lock()
	defer t.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != stateOpen {
		return
	}
	for ch := channel(0); ch < numChannels; ch++ {
		if !add.has(ch) {
			continue
		}
		t.set(ch, c, sum && ch.isLevel2()).add(c)
		if sum && ch.isLevel2() {
			c.markSum(idx, ch)
		}
		if c.lagging != nil {
			c.lagging[idx] &^= maskOf(ch)
		}
		if resume && !sum && ch.isLevel2() {
			if frames, ok := t.resume(ch, seen); ok {
				c.pushAllLocked(frames, ch, t.idx)
				h.srv.metrics.resumes.Add(1)
				continue
			}
		}
		if f := t.current(ch, c.wantsSum(idx, ch)); f != nil {
			c.pushLocked(outFrame{b: f, kind: kindForChannel(ch), ch: ch, product: t.idx})
		}
	}
}

func kindForChannel(ch channel) frameKind {
	if ch.conflatable() {
		return kindConflate
	}
	return kindKeep
}

// unsubscribe removes c from the channels in drop of product idx.
func (h *hub) unsubscribe(c *Conn, idx int, drop channelMask) {
	t := h.topics[idx]
	t.mu.Lock()
	defer t.mu.Unlock()
	for ch := channel(0); ch < numChannels; ch++ {
		if drop.has(ch) {
			t.subs[ch].remove(c)
			if s := t.stream(ch); s != nil {
				s.sums.remove(c)
			}
		}
	}
	c.mu.Lock()
	if c.lagging != nil {
		c.lagging[idx] &^= drop
	}
	if c.sums != nil {
		c.sums[idx] &^= drop
	}
	c.mu.Unlock()
}

// unsubscribeAll removes a closed connection from everything it subscribed.
func (h *hub) unsubscribeAll(c *Conn, subs []channelMask, status bool) {
	for idx, m := range subs {
		if m != 0 {
			h.unsubscribe(c, idx, m)
		}
	}
	if status {
		h.status.remove(c)
	}
}

// resync sends a lagging connection fresh state for every conflated channel.
func (h *hub) resync(c *Conn) {
	for idx, t := range h.topics {
		t.mu.Lock()
		c.mu.Lock()
		var lag channelMask
		if c.lagging != nil && c.state == stateOpen {
			lag, c.lagging[idx] = c.lagging[idx], 0
		}
		for ch := channel(0); ch < numChannels; ch++ {
			if !lag.has(ch) {
				continue
			}
			if f := t.current(ch, c.wantsSum(idx, ch)); f != nil {
				c.pushLocked(outFrame{b: f, kind: kindConflate, ch: ch, product: t.idx})
			}
		}
		c.mu.Unlock()
		t.mu.Unlock()
	}
	c.mu.Lock()
	c.resyncing = false
	c.mu.Unlock()
	h.srv.metrics.resyncs.Add(1)
	h.srv.log.Debug("slow consumer resynced", zap.String("remote", c.remote))
}
