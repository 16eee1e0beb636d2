package transport

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/tickerfan/tickerfan/internal/netpoll"
)

const (
	// maxIov frames go out in one writev; Linux allows 1024 (IOV_MAX).
	maxIov = 256
	// maxBatchBytes bounds one writev so one subscriber cannot hog a worker.
	maxBatchBytes = 256 << 10
	// flushRounds writevs per task before yielding the worker to others.
	flushRounds = 4
)

// flush writes queued frames with writev until the queue is empty, the socket
// would block, or flushRounds is used up. Runs on a pool worker; one flush per
// connection at a time (the flushing flag).
func (c *Conn) flush() {
	gather := c.gather
	if c.sse != nil {
		gather = c.gatherSSE
	}
	for round := 0; round < flushRounds; round++ {
		iov, ok := gather()
		if !ok {
			return
		}
		n, err := c.writev(iov)
		if !c.afterWrite(n, err) {
			return
		}
	}
	c.scheduleFlush() // still flushing (the flag stays set): yield, come back
}

// gather collects up to maxIov frames for one writev and marks them in flight.
// It reports false, and ends the flush, when there is nothing to write.
func (c *Conn) gather() ([][]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == stateClosed || len(c.out) == 0 {
		c.flushing = false
		if cap(c.iov) > 16 {
			c.iov = nil // a burst's scratch is not kept by an idle connection
		}
		if op, ok := c.afterDrainLocked(); ok {
			defer c.srv.pool.schedule(task{c: c, op: op}) // runs after mu is released
		}
		return nil, false
	}
	c.observeDelayLocked()
	iov := c.iov[:0]
	total := 0
	for i := 0; i < len(c.out) && i < maxIov && total < c.srv.batchBytes; i++ {
		b := c.out[i].b
		if i == 0 {
			b = b[c.off:]
		}
		iov = append(iov, b)
		total += len(b)
	}
	c.iov = iov
	c.inflight = len(iov)
	return iov, true
}

// observeDelayLocked counts how long the head of the queue has waited, as a
// write is about to start on it. A pong at the head is not counted: it jumps
// the queue and carries no queueing time. mu must be held.
func (c *Conn) observeDelayLocked() {
	if f := &c.out[0]; f.class() != Control {
		c.srv.stats.WriteDelay.ObserveMs(c.srv.clock.Load() - f.at)
	}
}

// writev writes iov without blocking. The syscall runs inside the RawConn's
// Control so the fd cannot be closed and reused meanwhile; the callback is
// built once per connection (c.writeFn) so a write allocates nothing.
func (c *Conn) writev(iov [][]byte) (int, error) {
	c.wiov = iov
	err := c.rc.Control(c.writeFn)
	c.wiov = nil
	if err != nil {
		return 0, errConnGone
	}
	return max(c.wn, 0), c.werr
}

// afterWrite accounts for n written bytes and decides what comes next. It
// reports true when the flush should write again at once.
func (c *Conn) afterWrite(n int, err error) bool {
	c.mu.Lock()
	c.inflight = 0
	var frames int
	if c.sse != nil {
		frames = c.advanceSSE(n)
	} else {
		frames = c.advance(n)
	}
	c.srv.stats.written(n, frames)
	switch {
	case err == unix.EAGAIN || (err == nil && n == 0):
		if c.stalled == 0 && n == 0 {
			c.stalled = time.Now().UnixNano()
		}
		c.flushing = false
		c.awaitWrite = true
		c.mu.Unlock()
		c.armWritable()
		return false
	case err != nil && err != unix.EINTR:
		c.flushing = false
		c.mu.Unlock()
		c.finalize()
		return false
	}
	c.stalled = 0
	if c.srv.cfg.KernelUnsentBytes > 0 && len(c.out) > 0 {
		// The kernel took a batch of about kernel_unsent_bytes: write more
		// only once it has sent most of it (TCP_NOTSENT_LOWAT makes the
		// socket writable then), so a backlog waits in the queue, where it
		// is seen, replaced and conflated, not in the kernel's buffer.
		c.flushing = false
		c.awaitWrite = true
		c.mu.Unlock()
		c.armWritable()
		return false
	}
	c.mu.Unlock()
	return true
}

// advance drops the n written bytes from the head of the queue and returns
// how many frames were completed. mu must be held.
func (c *Conn) advance(n int) int {
	c.outBytes -= n
	done := 0
	for n > 0 && done < len(c.out) {
		left := len(c.out[done].b) - c.off
		if n < left {
			c.off += n
			break
		}
		n -= left
		c.off = 0
		if !c.out[done].class().conflatable() {
			c.keepBytes -= len(c.out[done].b)
		}
		done++
	}
	if done > 0 {
		clear(c.out[:done])
		c.out = c.out[done:]
		if len(c.out) == 0 {
			c.out = nil // an idle subscriber keeps no queue memory
		}
	}
	c.syncQueued()
	return done
}

// afterDrainLocked runs when the queue is empty and says what task comes
// next: a closing connection is finalized, a lagging one gets its fresh
// state. mu must be held; the caller schedules the task after releasing it.
func (c *Conn) afterDrainLocked() (op, bool) {
	switch {
	case c.state == stateClosing:
		return opFinalize, true
	case len(c.lagging) > 0 && !c.resyncing && c.freshReady():
		c.resyncing = true
		return opResync, true
	}
	return 0, false
}

// resync runs the protocol's OnLagging on a pool worker.
func (c *Conn) resync() {
	if h := c.srv.handlers.OnLagging; h != nil {
		h(c)
	} else {
		c.mu.Lock()
		c.lagging = nil // no protocol to restore them: just let them flow again
		c.mu.Unlock()
	}
	c.mu.Lock()
	c.resyncing = false
	// Streams that lagged while OnLagging ran, on a queue that has drained
	// since: a flush finds the queue empty and comes back here.
	flush := len(c.lagging) > 0 && len(c.out) == 0 && c.state == stateOpen && c.wantFlushLocked()
	c.mu.Unlock()
	if flush {
		c.scheduleFlush()
	}
}

// armWritable asks the write poller to wake a flush when the socket drains.
func (c *Conn) armWritable() {
	c.mu.Lock()
	first := !c.writeArmed
	c.writeArmed = true
	c.mu.Unlock()
	var err error
	op := "write_poller_resume"
	ok := c.control(func(fd int) {
		if first {
			op, err = "write_poller_add", c.srv.writePoller.Add(fd, netpoll.EventWrite, c.onWritable)
			return
		}
		err = c.srv.writePoller.Resume(fd)
	})
	if ok && err != nil {
		// Unwatched, the socket would never be written again: close it.
		c.srv.check(op, err, c)
		c.finalize()
	}
}

// onWritable runs on the write poller goroutine: it only schedules.
func (c *Conn) onWritable(int, netpoll.Event) {
	c.mu.Lock()
	c.awaitWrite = false
	flush := c.state != stateClosed && c.wantFlushLocked()
	c.mu.Unlock()
	if flush {
		c.scheduleFlush()
	}
}
