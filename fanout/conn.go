package fanout

import (
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tickerfan/tickerfan/internal/wsframe"
)

// connState is where a connection is in its life.
type connState uint8

const (
	stateOpen    connState = iota
	stateClosing           // a close frame is queued; no more data frames
	stateClosed            // finalized: out of the pollers, the hub and the registry
)

// frameKind says what may happen to a queued frame when the queue overflows.
type frameKind uint8

const (
	// kindKeep frames (replies, matches, heartbeats, status) are never dropped.
	kindKeep frameKind = iota
	// kindControl frames (pong) jump ahead of queued data frames.
	kindControl
	// kindConflate frames (level2, ticker) may be dropped and replaced later by
	// fresh state for their (product, channel).
	kindConflate
)

// outFrame is one queued frame. The bytes are shared with every other
// subscriber that got the same message and are never modified.
//
// It is 32 bytes, kept so on purpose: every subscriber's queue holds one per
// message, and a 40-byte layout cost the fan-out a third more per subscriber
// (BenchmarkFanout).
type outFrame struct {
	b       []byte
	kind    frameKind
	ch      channel
	product productIndex
	at      uint32 // when it was queued: the server's coarse clock, in ms (see Server.clock)
}

// Conn is one WebSocket subscriber. An idle Conn holds no goroutine and no
// read buffer: the read poller wakes a pool worker when bytes arrive, and the
// hub queues frames that a pool worker writes.
//
// Locking: mu guards the write queue, the subscription state and the life
// state. Lock order: topic.mu, then Conn.mu; never the reverse. The read-side
// fields are touched only by the worker running opRead, and the pollers
// guarantee one such task at a time (one-shot registration).
type Conn struct {
	srv *Server

	// Guarded by mu. The fields every send touches come first, so the hub's
	// per-subscriber work reads two cache lines of the Conn, not four.
	mu         sync.Mutex
	state      connState
	flushing   bool
	awaitWrite bool // waiting for the write poller to report the socket writable
	resyncing  bool
	writeArmed bool // registered with the write poller
	out        []outFrame
	outBytes   int           // bytes queued, not yet written
	stateBytes int           // largest fresh-state frame pushed: allowed on top of the queue limit
	lagging    []channelMask // per product: conflated channels awaiting fresh state
	off        int           // bytes of out[0] already written
	inflight   int           // frames at the head of out being written by a flush
	stalled    int64         // unix nanos since no byte could be written, 0 if flowing
	closingAt  int64
	subs       []channelMask // per product index; nil until the first subscribe
	sums       []channelMask // per product: level2 channels carrying checksums
	status     bool          // subscribed to the status channel
	subscribed bool          // has ever subscribed
	iov        [][]byte      // flush scratch

	nc     net.Conn
	rc     syscall.RawConn
	fd     int
	remote string
	born   int64 // unix nanos

	// read side (opRead worker only)
	in       wsframe.Input     // unparsed input; holds no buffer when idle
	frag     wsframe.Assembler // a fragmented message so far
	tokens   float64
	tokensAt int64
	rbuf     []byte // argument and results of readFn
	rn       int
	rerr     error
	readFn   func(fd uintptr)
	resumeFn func(fd uintptr) // re-arms the read poller; built once, so a read allocates nothing

	// write syscall (the flush worker only)
	wiov    [][]byte
	wn      int
	werr    error
	writeFn func(fd uintptr)

	lastRead atomic.Int64 // unix nanos of the last byte read
	pingSent atomic.Int64 // unix nanos of the last unanswered ping, 0 if none
}

func newConn(s *Server, nc net.Conn, rc syscall.RawConn, fd int) *Conn {
	now := time.Now().UnixNano()
	c := &Conn{srv: s, nc: nc, rc: rc, fd: fd, born: now, remote: nc.RemoteAddr().String()}
	c.lastRead.Store(now)
	c.tokens = float64(s.cfg.MessageBurst)
	c.tokensAt = now
	c.readFn = func(fd uintptr) { c.rn, c.rerr = unix.Read(int(fd), c.rbuf) }
	c.resumeFn = func(fd uintptr) { s.readPoller.Resume(int(fd)) }
	c.writeFn = func(fd uintptr) { c.wn, c.werr = unix.Writev(int(fd), c.wiov) }
	return c
}

// send queues a frame for the subscriber. It is called by the hub with the
// topic lock held; it never does I/O.
func (c *Conn) send(f outFrame) {
	c.mu.Lock()
	c.sendLocked(f)
	c.mu.Unlock()
}

// sendLocked queues f. mu must be held.
func (c *Conn) sendLocked(f outFrame) {
	if c.state != stateOpen {
		return
	}
	f.at = c.srv.clock.Load()
	if f.kind == kindConflate && c.lagging != nil && c.lagging[f.product].has(f.ch) {
		return
	}
	if limit := c.srv.cfg.MaxQueueBytes + c.stateBytes; c.outBytes+len(f.b) > limit {
		c.conflateLocked()
		if f.kind == kindConflate {
			c.markLagging(int(f.product), f.ch)
			c.scheduleFlushLocked() // its drain sends the fresh state
			return
		}
		if c.outBytes+len(f.b) > 4*limit {
			c.beginCloseLocked(errSlow)
			return
		}
	}
	if f.kind == kindControl {
		f.at = 0 // a pong jumps the queue; it never makes the queue look old
		c.insertControl(f)
	} else {
		c.out = append(c.out, f)
	}
	c.outBytes += len(f.b)
	c.scheduleFlushLocked()
}

// conflateIfBehind conflates the queue when the oldest frame no write has
// started on has waited longer than max_queue_delay. The sweeper calls it,
// at the granularity of the clock it stamps frames with, so the per-send
// path pays nothing for the bound. mu must be held.
func (c *Conn) conflateIfBehind(now uint32) {
	i := c.firstMovable()
	delay := c.srv.cfg.MaxQueueDelay
	if delay > 0 && i < len(c.out) && now-c.out[i].at > uint32(delay.Milliseconds()) {
		c.conflateLocked()
		c.scheduleFlushLocked() // its drain sends the fresh state
	}
}

// pushLocked queues fresh state (a snapshot, the current ticker) for a new or
// lagging subscriber. It goes out even when it alone is larger than the queue
// limit, and the subscriber may then hold max_queue_bytes on top of it: a
// deep book's snapshot must not make every following update overflow, which
// would send the subscriber snapshot after snapshot. mu must be held.
func (c *Conn) pushLocked(f outFrame) {
	if c.state != stateOpen {
		return
	}
	c.stateBytes = max(c.stateBytes, len(f.b))
	f.at = c.srv.clock.Load()
	c.out = append(c.out, f)
	c.outBytes += len(f.b)
	c.scheduleFlushLocked()
}

// pushAllLocked queues the updates a resuming subscriber missed, like fresh
// state: past the queue limit, and allowed on top of it. mu must be held.
func (c *Conn) pushAllLocked(frames [][]byte, ch channel, product productIndex) {
	if c.state != stateOpen || len(frames) == 0 {
		return
	}
	now, total := c.srv.clock.Load(), 0
	for _, b := range frames {
		c.out = append(c.out, outFrame{b: b, kind: kindConflate, ch: ch, product: product, at: now})
		total += len(b)
	}
	c.outBytes += total
	c.stateBytes = max(c.stateBytes, total)
	c.scheduleFlushLocked()
}

// insertControl puts a control frame right after the frames being written.
func (c *Conn) insertControl(f outFrame) {
	at := c.firstMovable()
	c.out = append(c.out, outFrame{})
	copy(c.out[at+1:], c.out[at:])
	c.out[at] = f
}

// firstMovable is the index of the first queued frame no write has started on.
func (c *Conn) firstMovable() int {
	if c.inflight > 0 {
		return c.inflight
	}
	if c.off > 0 {
		return 1
	}
	return 0
}

// conflateLocked drops every queued level2 and ticker frame no write has
// started on, and marks its (product, channel) as lagging: once the queue
// drains the subscriber gets a fresh snapshot or ticker instead, so its state
// is exact again (PROTOCOL.md, slow consumers). mu must be held.
func (c *Conn) conflateLocked() {
	keep := c.out[:c.firstMovable()]
	dropped := 0
	for _, f := range c.out[len(keep):] {
		if f.kind == kindConflate {
			c.markLagging(int(f.product), f.ch)
			c.outBytes -= len(f.b)
			dropped++
			continue
		}
		keep = append(keep, f)
	}
	clear(c.out[len(keep):])
	c.out = keep
	if dropped > 0 {
		c.srv.metrics.conflated.Add(uint64(dropped))
	}
}

func (c *Conn) markLagging(product int, ch channel) {
	if c.lagging == nil {
		c.lagging = make([]channelMask, len(c.srv.cat.products))
	}
	c.lagging[product] |= maskOf(ch)
}

// markSum records that c's ch of product carries checksums. mu must be held.
func (c *Conn) markSum(product int, ch channel) {
	if c.sums == nil {
		c.sums = make([]channelMask, len(c.srv.cat.products))
	}
	c.sums[product] |= maskOf(ch)
}

// wantsSum reports whether c's ch of product carries checksums. mu must be held.
func (c *Conn) wantsSum(product int, ch channel) bool {
	return c.sums != nil && c.sums[product].has(ch)
}

func (c *Conn) scheduleFlushLocked() {
	if !c.flushing && !c.awaitWrite {
		c.flushing = true
		c.srv.pool.schedule(task{c: c, op: opFlush})
	}
}

// closeWith starts closing the connection with the reason in err.
func (c *Conn) closeWith(err *closeError) {
	c.mu.Lock()
	c.beginCloseLocked(err)
	c.mu.Unlock()
}

// beginCloseLocked drops what no write has started on, queues the close frame
// and lets the flush finalize the connection once it is out. The sweeper
// finalizes a connection whose close frame cannot be written. mu must be held.
func (c *Conn) beginCloseLocked(err *closeError) {
	if c.state != stateOpen {
		return
	}
	c.state = stateClosing
	c.closingAt = time.Now().UnixNano()
	for _, f := range c.out[c.firstMovable():] {
		c.outBytes -= len(f.b)
	}
	clear(c.out[c.firstMovable():])
	c.out = c.out[:c.firstMovable()]
	frame := closeFrame(err.code, err.reason)
	c.out = append(c.out, outFrame{b: frame, kind: kindKeep})
	c.outBytes += len(frame)
	c.srv.metrics.closes(err)
	c.scheduleFlushLocked()
}

// finalize ends the connection for good: out of the pollers, unsubscribed
// from the hub, socket closed. Safe to call more than once and from any
// goroutine that holds no topic or Conn lock.
func (c *Conn) finalize() {
	c.mu.Lock()
	if c.state == stateClosed {
		c.mu.Unlock()
		return
	}
	c.state = stateClosed
	subs, status := c.subs, c.status
	armed := c.writeArmed
	clear(c.out)
	c.out, c.outBytes = nil, 0
	c.mu.Unlock()

	c.control(func(fd int) {
		c.srv.readPoller.Remove(fd)
		if armed {
			c.srv.writePoller.Remove(fd)
		}
	})
	c.srv.hub.unsubscribeAll(c, subs, status)
	c.nc.Close()
	c.srv.registry.remove(c)
}

// control runs f with the connection's fd while the runtime guarantees the fd
// is neither closed nor reused; it reports false when the socket is closed.
func (c *Conn) control(f func(fd int)) bool {
	err := c.rc.Control(func(fd uintptr) { f(int(fd)) })
	return err == nil
}

// isOpen reports whether the connection still takes frames.
func (c *Conn) isOpen() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state == stateOpen
}
