package transport

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/tickerfan/tickerfan/internal/wsframe"
)

// connState is where a connection is in its life.
type connState uint8

const (
	stateOpen    connState = iota
	stateClosing           // a close frame is queued; no more data frames
	stateClosed            // finalized: out of the pollers and the registry
)

// Class says what may happen to a queued frame when the queue overflows.
type Class uint8

const (
	// Keep frames are never dropped.
	Keep Class = iota
	// Control frames (pong, ping) jump ahead of queued data frames.
	Control
	// Conflate frames may be dropped for a slow consumer; their stream is
	// then marked lagging, and the protocol replaces them with fresh state
	// once the queue drains (Handlers.OnLagging, Conn.Restore).
	Conflate
	// Latest frames are Conflate frames that each carry their stream's whole
	// state (a ticker), so once the connection is behind only the newest
	// matters: while its oldest unwritten frame has waited over latestAfter,
	// a queued one no write has started on is replaced in place by the next
	// of its stream. A subscriber that reads slower than its tickers change
	// gets the newest, not a backlog; one that keeps up gets every frame, in
	// batches as large as before.
	Latest
)

// conflatable reports whether frames of the class may be dropped for a slow
// consumer.
func (c Class) conflatable() bool { return c >= Conflate }

// latestScan bounds how far from the tail Send looks for the queued frame a
// Latest frame replaces: a subscriber's queue interleaves its streams, so
// the previous frame of a stream is near the tail; past the bound the frame
// is queued as a Conflate one would be.
const latestScan = 32

// latestAfter is how long, in ms, the oldest unwritten frame may wait before
// Latest frames replace each other: below it frames queue and go out
// together (fewer, larger writes); above it the connection is behind and
// what it is sent must be fresh. The overload run (README) measured it.
const latestAfter = 50

// StreamKey names, opaquely, the stream a Conflate frame belongs to: frames
// of one key replace each other. The protocol chooses the keys; the
// transport only compares them. Keys must be below MaxStreamKey.
type StreamKey uint32

// MaxStreamKey bounds stream keys: a frame packs its class into the key's
// top two bits so it stays 32 bytes.
const MaxStreamKey = 1 << 30

// frame is one queued frame. The bytes are shared with every other
// subscriber that got the same message and are never modified.
//
// It is 32 bytes, kept so on purpose: every subscriber's queue holds one per
// message, and a 40-byte layout cost the fan-out a third more per subscriber
// (BenchmarkFanout). Hence the class packed into tag's top bits.
type frame struct {
	b   []byte
	tag uint32 // class<<30 | stream key
	at  uint32 // when it was queued: the server's coarse clock, in ms (see Server.clock)
}

func tagOf(class Class, key StreamKey) uint32 { return uint32(class)<<30 | uint32(key) }

func (f *frame) class() Class   { return Class(f.tag >> 30) }
func (f *frame) key() StreamKey { return StreamKey(f.tag & (MaxStreamKey - 1)) }

// Conn is one WebSocket connection. An idle Conn holds no goroutine and no
// read buffer: the read poller wakes a pool worker when bytes arrive, and
// frames queued by Send are written by a pool worker.
//
// Locking: mu guards the write queue and the life state. It is a leaf: no
// other lock is taken and nothing is called out (the pool, the pollers, a
// handler) while it is held; methods that must schedule work decide under mu
// and act after releasing it. The read-side fields are touched only by the
// worker running the read task, and the pollers guarantee one such task at a
// time (one-shot registration).
type Conn struct {
	srv *Server

	// Guarded by mu. The fields every send touches come first, so the
	// per-subscriber work reads two cache lines of the Conn, not four.
	mu         sync.Mutex
	state      connState
	flushing   bool
	awaitWrite bool // waiting for the write poller to report the socket writable
	resyncing  bool
	writeArmed bool // registered with the write poller
	out        []frame
	outBytes   int                    // bytes queued, not yet written
	stateBytes int                    // largest fresh state pushed: allowed on top of the queue limit
	keepBytes  int                    // bytes of Keep and Control frames queued (max_reply_queue_bytes)
	accounted  int                    // outBytes as last added to the server's total (syncQueued)
	lagging    map[StreamKey]struct{} // conflated streams awaiting fresh state
	off        int                    // bytes of out[0] already written
	inflight   int                    // frames at the head of out being written by a flush
	stalled    int64                  // unix nanos since no byte could be written, 0 if flowing
	closingAt  int64
	ready      bool     // the protocol said the client is set up (see Config.ReadyTimeout)
	fresh      float64  // fresh-state bytes the connection may still be sent (FreshStateBytesPerSecond)
	freshAt    uint32   // when fresh was last refilled: the server's coarse clock, in ms
	iov        [][]byte // flush scratch

	sse *sseState // set for an event stream (TakeEvents): another framing

	nc     net.Conn
	rc     syscall.RawConn
	fd     int
	remote string
	ip     netip.Addr // for the per-address limits
	born   int64      // unix nanos

	// read side (read task only)
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

	// resumeErr is set by resumeFn when the re-arm failed. Atomic: once a
	// re-arm succeeds, the next read task may run before this one returns.
	resumeErr atomic.Pointer[error]

	lastRead     atomic.Int64 // unix nanos of the last byte read
	partialSince atomic.Int64 // unix nanos since the input holds an incomplete frame, 0 if none
	pingSent     atomic.Int64 // unix nanos of the last unanswered ping, 0 if none
}

func newConn(s *Server, nc net.Conn, rc syscall.RawConn, fd int) *Conn {
	now := time.Now().UnixNano()
	c := &Conn{srv: s, nc: nc, rc: rc, fd: fd, born: now, remote: nc.RemoteAddr().String()}
	c.lastRead.Store(now)
	c.in.NoReserve = true
	c.tokens = float64(s.cfg.MessageBurst)
	c.fresh, c.freshAt = float64(s.cfg.FreshStateBurstBytes), s.clock.Load()
	c.tokensAt = now
	c.readFn = func(fd uintptr) { c.rn, c.rerr = unix.Read(int(fd), c.rbuf) }
	c.resumeFn = func(fd uintptr) {
		if err := s.readPoller.Resume(int(fd)); err != nil {
			failed := err // declared here, so only a failure allocates
			c.resumeErr.Store(&failed)
		}
	}
	c.writeFn = func(fd uintptr) { c.wn, c.werr = unix.Writev(int(fd), c.wiov) }
	return c
}

// Remote is the client's address.
func (c *Conn) Remote() string { return c.remote }

// Send queues b, a complete frame, for the client. It never does I/O and may
// be called with the caller's own locks held (the Conn's lock is a leaf).
// key names b's stream when class is Conflate; it is ignored otherwise.
func (c *Conn) Send(b []byte, class Class, key StreamKey) { c.SendIn(nil, b, class, key) }

// sendLocked queues f and reports whether a flush must be scheduled. mu must
// be held.
func (c *Conn) sendLocked(f frame) bool {
	if c.state != stateOpen {
		return false
	}
	f.at = c.srv.clock.Load()
	class := f.class()
	if class == Latest && c.behindLocked(f.at) && c.replaceLocked(f) {
		return false // the replaced frame's flush is already claimed or scheduled
	}
	if class.conflatable() && c.lagging != nil {
		if _, lag := c.lagging[f.key()]; lag {
			return false
		}
	}
	if !class.conflatable() && c.keepBytes+len(f.b) > c.srv.cfg.MaxReplyQueueBytes {
		return c.beginCloseLocked(ErrSlow) // never dropped, so bounded by closing
	}
	if limit := c.srv.cfg.MaxQueueBytes + c.stateBytes; c.outBytes+len(f.b) > limit {
		c.conflateLocked()
		if class.conflatable() {
			c.markLagging(f.key())
			return c.wantFlushLocked() // its drain sends the fresh state
		}
	}
	switch {
	case class.conflatable(): // the fan-out's case first
		c.out = append(c.out, f)
	case class == Control:
		f.at = 0 // a pong jumps the queue; it never makes the queue look old
		c.insertControl(f)
		c.keepBytes += len(f.b)
	default:
		c.out = append(c.out, f)
		c.keepBytes += len(f.b)
	}
	c.outBytes += len(f.b)
	c.syncQueued()
	return c.wantFlushLocked()
}

// behindLocked reports whether the oldest frame no write has started on has
// waited longer than latestAfter at now. mu must be held.
func (c *Conn) behindLocked(now uint32) bool {
	i := c.firstMovable()
	return i < len(c.out) && now-c.out[i].at > latestAfter
}

// replaceLocked puts f in place of the queued frame of its stream that no
// write has started on, if one is near the tail, and reports whether it did.
// mu must be held.
func (c *Conn) replaceLocked(f frame) bool {
	stop := max(c.firstMovable(), len(c.out)-latestScan)
	for i := len(c.out) - 1; i >= stop; i-- {
		if c.out[i].tag == f.tag {
			c.outBytes += len(f.b) - len(c.out[i].b)
			c.out[i] = f
			c.srv.stats.Replaced.Add(1)
			return true
		}
	}
	return false
}

// acctStep is how far a queue may drift from what the server's total
// counts of it: syncing on every send would make every subscriber's send
// touch one shared counter (BenchmarkFanout). The total is exact for empty
// queues and within acctStep per connection otherwise.
const acctStep = 16 << 10

// syncQueued brings the server's total of queued bytes up to date with this
// queue when they differ by more than acctStep or the queue emptied, and
// wakes the sweeper when the total passes max_total_queue_bytes. mu must be
// held.
func (c *Conn) syncQueued() {
	d := c.outBytes - c.accounted
	if d <= acctStep && d >= -acctStep && (c.outBytes != 0 || d == 0) {
		return
	}
	c.accounted = c.outBytes
	if c.srv.queued.Add(int64(d)) > c.srv.cfg.MaxTotalQueueBytes && d > 0 {
		select {
		case c.srv.overload <- struct{}{}:
		default:
		}
	}
}

// Restore clears key's lagging mark and queues frames, the stream's fresh
// state (a snapshot, a ticker, or the updates a resuming client missed), in
// one step: nothing of key can be queued between the two. Fresh state goes
// out even when it alone is larger than the queue limit, and the client may
// then hold max_queue_bytes on top of it: a deep book's snapshot must not
// make every following update overflow, which would send snapshot after
// snapshot.
func (c *Conn) Restore(key StreamKey, class Class, frames ...[]byte) {
	c.mu.Lock()
	flush := c.restoreLocked(key, class, frames)
	c.mu.Unlock()
	if flush {
		c.scheduleFlush()
	}
}

func (c *Conn) restoreLocked(key StreamKey, class Class, frames [][]byte) bool {
	if c.state != stateOpen {
		return false
	}
	total := 0
	for _, b := range frames {
		total += len(b)
	}
	if class.conflatable() && total > 0 && !c.chargeFresh(total) {
		c.markLagging(key) // its fresh state goes out once the bucket has refilled (checkTimes)
		c.srv.stats.FreshDeferred.Add(1)
		return false
	}
	c.forgetLocked(key)
	if len(frames) == 0 {
		return false
	}
	now := c.srv.clock.Load()
	for _, b := range frames {
		c.out = append(c.out, frame{b: b, tag: tagOf(class, key), at: now})
	}
	c.outBytes += total
	if !class.conflatable() {
		c.keepBytes += total
	}
	c.stateBytes = max(c.stateBytes, total)
	c.syncQueued()
	return c.wantFlushLocked()
}

// freshReady refills the fresh-state bucket and reports whether it may send
// fresh state. mu must be held.
func (c *Conn) freshReady() bool {
	rate := c.srv.cfg.FreshStateBytesPerSecond
	if rate < 0 {
		return true
	}
	now := c.srv.clock.Load()
	burst := float64(c.srv.cfg.FreshStateBurstBytes)
	c.fresh = min(burst, c.fresh+float64(now-c.freshAt)/1000*float64(rate))
	c.freshAt = now
	return c.fresh > 0
}

// chargeFresh takes n bytes from the fresh-state bucket, into debt if need
// be, or reports false when it is empty. mu must be held.
func (c *Conn) chargeFresh(n int) bool {
	if !c.freshReady() {
		return false
	}
	c.fresh -= float64(n)
	return true
}

// resyncDue claims a flush for a connection whose lagging streams wait only
// for the fresh-state bucket: the flush finds the queue empty and resyncs.
// mu must be held.
func (c *Conn) resyncDue() bool {
	return len(c.lagging) > 0 && len(c.out) == 0 && !c.resyncing && c.freshReady() && c.wantFlushLocked()
}

// Forget clears key's lagging mark: the client no longer follows the stream.
func (c *Conn) Forget(key StreamKey) {
	c.mu.Lock()
	c.forgetLocked(key)
	c.mu.Unlock()
}

// forgetLocked clears key's lagging mark, and the map once empty. mu must be
// held.
func (c *Conn) forgetLocked(key StreamKey) {
	delete(c.lagging, key)
	if len(c.lagging) == 0 {
		c.lagging = nil
	}
}

// Lagging appends to dst the streams conflated for this connection and not
// yet restored.
func (c *Conn) Lagging(dst []StreamKey) []StreamKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != stateOpen {
		return dst
	}
	for k := range c.lagging {
		dst = append(dst, k)
	}
	return dst
}

// Ready marks the connection as set up by its protocol: Config.ReadyTimeout
// no longer applies.
func (c *Conn) Ready() {
	c.mu.Lock()
	c.ready = true
	c.mu.Unlock()
}

// Open reports whether the connection still takes frames.
func (c *Conn) Open() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state == stateOpen
}

// conflateIfBehind conflates the queue when the oldest frame no write has
// started on has waited longer than max_queue_delay. The sweeper calls it,
// at the granularity of the clock it stamps frames with, so the per-send
// path pays nothing for the bound. It reports whether a flush must be
// scheduled. mu must be held.
func (c *Conn) conflateIfBehind(now uint32) bool {
	i := c.firstMovable()
	delay := c.srv.cfg.MaxQueueDelay
	if delay > 0 && i < len(c.out) && now-c.out[i].at > uint32(delay.Milliseconds()) {
		c.conflateLocked()
		return c.wantFlushLocked() // its drain sends the fresh state
	}
	return false
}

// insertControl puts a control frame right after the frames being written.
func (c *Conn) insertControl(f frame) {
	at := c.firstMovable()
	c.out = append(c.out, frame{})
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

// conflateLocked drops every queued Conflate frame no write has started on,
// and marks its stream as lagging: once the queue drains the protocol sends
// fresh state instead (README, slow consumers). mu must be held.
func (c *Conn) conflateLocked() {
	keep := c.out[:c.firstMovable()]
	dropped := 0
	for _, f := range c.out[len(keep):] {
		if f.class().conflatable() {
			c.markLagging(f.key())
			c.outBytes -= len(f.b)
			dropped++
			continue
		}
		keep = append(keep, f)
	}
	clear(c.out[len(keep):])
	c.out = keep
	c.syncQueued()
	if dropped > 0 {
		c.srv.stats.Conflated.Add(uint64(dropped))
	}
}

func (c *Conn) markLagging(key StreamKey) {
	if c.lagging == nil {
		c.lagging = make(map[StreamKey]struct{})
	}
	c.lagging[key] = struct{}{}
}

// wantFlushLocked claims the flush for the caller, who must then call
// scheduleFlush after releasing mu. mu must be held.
func (c *Conn) wantFlushLocked() bool {
	if c.flushing || c.awaitWrite {
		return false
	}
	c.flushing = true
	return true
}

func (c *Conn) scheduleFlush() { c.srv.pool.schedule(task{c: c, op: opFlush}) }

// Close starts closing the connection with err's code and reason: what no
// write has started on is dropped, the close frame is queued, and the
// connection is finalized once it is out.
func (c *Conn) Close(err *CloseError) {
	c.mu.Lock()
	flush := c.beginCloseLocked(err)
	c.mu.Unlock()
	if flush {
		c.scheduleFlush()
	}
}

// beginCloseLocked queues the close frame and reports whether a flush must be
// scheduled. The sweeper finalizes a connection whose close frame cannot be
// written. mu must be held.
func (c *Conn) beginCloseLocked(err *CloseError) bool {
	if c.state != stateOpen {
		return false
	}
	c.state = stateClosing
	c.closingAt = time.Now().UnixNano()
	for _, f := range c.out[c.firstMovable():] {
		c.outBytes -= len(f.b)
		if !f.class().conflatable() {
			c.keepBytes -= len(f.b)
		}
	}
	clear(c.out[c.firstMovable():])
	c.out = c.out[:c.firstMovable()]
	b := closeFrame(err.Code, err.Reason)
	c.out = append(c.out, frame{b: b, tag: tagOf(Keep, 0)})
	c.outBytes += len(b)
	c.keepBytes += len(b)
	c.syncQueued()
	c.srv.stats.closed(err.Reason)
	return c.wantFlushLocked()
}

// finalize ends the connection for good: out of the pollers, socket closed,
// the protocol told (OnClose), out of the registry. Safe to call more than
// once and from any goroutine that holds no lock the protocol's OnClose takes.
func (c *Conn) finalize() {
	c.mu.Lock()
	if c.state == stateClosed {
		c.mu.Unlock()
		return
	}
	c.state = stateClosed
	armed := c.writeArmed
	clear(c.out)
	c.out, c.outBytes, c.keepBytes, c.lagging = nil, 0, 0, nil
	c.syncQueued()
	c.mu.Unlock()

	c.control(func(fd int) {
		c.srv.check("read_poller_remove", c.srv.readPoller.Remove(fd), c)
		if armed {
			c.srv.check("write_poller_remove", c.srv.writePoller.Remove(fd), c)
		}
	})
	if h := c.srv.handlers.OnClose; h != nil {
		h(c)
	}
	c.nc.Close() // the peer may have closed first; nothing to learn from the error
	c.srv.registry.remove(c)
	c.srv.slots.release(KindWebSocket)
	c.srv.ips.closed(c.ip, false)
}

// control runs f with the connection's fd while the runtime guarantees the fd
// is neither closed nor reused; it reports false when the socket is closed.
func (c *Conn) control(f func(fd int)) bool {
	err := c.rc.Control(func(fd uintptr) { f(int(fd)) })
	return err == nil
}

// logField names the connection in log lines.
func (c *Conn) logField() zap.Field { return zap.String("remote", c.remote) }
