package transport

import (
	"errors"
	"time"

	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"

	"github.com/tickerfan/tickerfan/internal/wsframe"
)

// readRounds reads per task before yielding the worker to others.
const readRounds = 4

// handleRead reads what the socket holds without blocking, handles every
// complete frame and keeps the rest for the next readiness event: a client
// that sends half a frame holds a buffer, never a worker. Runs on a pool
// worker, one at a time per connection (one-shot read registration).
func (c *Conn) handleRead() {
	for round := 0; round < readRounds; round++ {
		if !c.Open() {
			c.in.Release()
			return
		}
		n, err := c.read(c.in.Free(wsframe.Chunk / 2))
		if err == unix.EAGAIN {
			break
		}
		if err != nil || n == 0 {
			c.in.Release()
			c.finalize()
			return
		}
		c.in.Commit(n)
		now := time.Now().UnixNano()
		c.lastRead.Store(now)
		c.pingSent.Store(0)
		if c.sse != nil {
			c.discardInput()
			continue
		}
		frames, ce := c.parseFrames()
		if ce != nil {
			c.in.Release()
			c.Close(ce)
			return
		}
		c.notePartial(frames, now)
	}
	if len(c.in.Bytes()) == 0 {
		c.in.Release() // an idle connection holds no buffer, even after a spurious wakeup
	}
	// The re-arm below orders this task before the next read task through
	// the kernel (epoll_ctl, then epoll_wait), which the race detector cannot
	// see; releasing mu, which the next task's Open takes first, says it.
	c.mu.Lock()
	c.mu.Unlock()
	// Re-armed inside Control, the fd cannot be reused meanwhile. Once
	// re-armed, the next read task may start: touch nothing but resumeErr.
	err := c.rc.Control(c.resumeFn)
	if failed := c.resumeErr.Swap(nil); err != nil || failed != nil {
		// Not re-armed, the socket would go unread until the ping timeout:
		// close it now.
		if failed != nil {
			c.srv.check("read_poller_resume", *failed, c)
		}
		c.finalize()
	}
}

// notePartial records since when the input has held an incomplete frame,
// for frame_timeout (the sweeper): the clock starts when a read completes no
// frame and leaves bytes over, and stops when the input empties.
func (c *Conn) notePartial(frames int, now int64) {
	switch {
	case len(c.in.Bytes()) == 0:
		c.partialSince.Store(0)
	case frames > 0 || c.partialSince.Load() == 0:
		c.partialSince.Store(now)
	}
}

// read does one non-blocking read inside the RawConn's Control (see writev).
func (c *Conn) read(p []byte) (int, error) {
	c.rbuf = p
	err := c.rc.Control(c.readFn)
	c.rbuf = nil
	if err != nil {
		return 0, errConnGone
	}
	return max(c.rn, 0), c.rerr
}

// parseFrames handles every complete frame of the input and keeps the rest.
// It returns how many frames it handled and the reason to close the
// connection, if any.
func (c *Conn) parseFrames() (int, *CloseError) {
	frames := 0
	err := c.in.Parse(c.srv.cfg.MaxMessageBytes, true, func(f wsframe.Frame) error {
		frames++
		if ce := c.handleFrame(f); ce != nil {
			return ce
		}
		return nil
	})
	if err == nil {
		return frames, nil
	}
	var ce *CloseError
	if errors.As(err, &ce) {
		return frames, ce
	}
	return frames, frameError(err)
}

// frameError maps a framing error to the close it earns.
func frameError(err error) *CloseError {
	if errors.Is(err, wsframe.ErrTooBig) {
		return ErrTooBig
	}
	if errors.Is(err, wsframe.ErrInvalidUTF8) {
		return ErrInvalidUTF8
	}
	return ErrProtocol
}

// handleFrame acts on one unmasked frame.
func (c *Conn) handleFrame(f wsframe.Frame) *CloseError {
	if !c.allow() {
		return ErrRate
	}
	switch f.Op {
	case ws.OpPing:
		c.Send(controlFrame(ws.OpPong, f.Payload), Control, 0)
	case ws.OpPong:
	case ws.OpClose:
		code, _, err := wsframe.CheckClose(f.Payload)
		if err != nil {
			return frameError(err)
		}
		if code == ws.StatusNoStatusRcvd {
			code = ws.StatusNormalClosure
		}
		c.Close(&CloseError{Code: code})
	case ws.OpBinary:
		return ErrBinary
	case ws.OpText, ws.OpContinuation:
		msg, done, err := c.frag.Add(f, c.srv.cfg.MaxMessageBytes)
		if err != nil {
			return frameError(err)
		}
		if done && c.srv.handlers.OnMessage != nil {
			c.srv.handlers.OnMessage(c, msg)
		}
	}
	return nil
}

// allow takes one token from the connection's message bucket.
func (c *Conn) allow() bool {
	now := time.Now().UnixNano()
	cfg := &c.srv.cfg
	c.tokens += float64(now-c.tokensAt) / 1e9 * cfg.MessagesPerSecond
	c.tokensAt = now
	if burst := float64(cfg.MessageBurst); c.tokens > burst {
		c.tokens = burst
	}
	if c.tokens < 1 {
		return false
	}
	c.tokens--
	return true
}
