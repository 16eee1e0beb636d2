package fanout

import (
	"encoding/binary"
	"sync"
	"time"

	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"
)

const (
	// readChunk is the pooled read buffer size: a subscribe message fits many
	// times over. Only a connection with unparsed bytes holds one.
	readChunk = 4 << 10
	// readRounds reads per task before yielding the worker to others.
	readRounds = 4
)

var readBufs = sync.Pool{New: func() any { b := make([]byte, 0, readChunk); return &b }}

// handleRead reads what the socket holds without blocking, handles every
// complete frame and keeps the rest for the next readiness event: a client
// that sends half a frame holds a buffer, never a worker. Runs on a pool
// worker, one at a time per connection (one-shot read registration).
func (c *Conn) handleRead() {
	for round := 0; round < readRounds; round++ {
		if !c.isOpen() {
			c.releaseIn()
			return
		}
		c.growIn(readChunk)
		n, err := c.read(c.in[len(c.in):cap(c.in)])
		if err == unix.EAGAIN {
			break
		}
		if err != nil || n == 0 {
			c.releaseIn()
			c.finalize()
			return
		}
		c.in = c.in[:len(c.in)+n]
		c.lastRead.Store(time.Now().UnixNano())
		c.pingSent.Store(0)
		if ce := c.parseFrames(); ce != nil {
			c.releaseIn()
			c.closeWith(ce)
			return
		}
		if len(c.in) == 0 {
			c.releaseIn()
		}
	}
	if len(c.in) == 0 {
		c.releaseIn()
	}
	c.control(func(fd int) { c.srv.readPoller.Resume(fd) })
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

// growIn makes room for at least n more bytes in c.in.
func (c *Conn) growIn(n int) {
	if c.in == nil {
		c.in = (*readBufs.Get().(*[]byte))[:0]
		c.inPooled = true
	}
	if cap(c.in)-len(c.in) >= n {
		return
	}
	bigger := make([]byte, len(c.in), len(c.in)+n)
	copy(bigger, c.in)
	c.releaseIn()
	c.in, c.inPooled = bigger, false
}

// releaseIn returns the read buffer: an idle connection holds none.
func (c *Conn) releaseIn() {
	if c.in != nil && c.inPooled {
		b := c.in[:0]
		readBufs.Put(&b)
	}
	c.in, c.inPooled = nil, false
}

// parseFrames handles every complete frame in c.in and compacts the rest to
// the front. It returns the reason to close the connection, if any.
func (c *Conn) parseFrames() *closeError {
	buf := c.in
	need := 0
	for len(buf) > 0 {
		h, hlen, ce := parseHeader(buf, c.srv.cfg.MaxMessageBytes)
		if ce != nil {
			return ce
		}
		if hlen == 0 || len(buf) < hlen+int(h.Length) {
			if hlen > 0 {
				need = hlen + int(h.Length)
			}
			break
		}
		payload := buf[hlen : hlen+int(h.Length)]
		ws.Cipher(payload, h.Mask, 0)
		buf = buf[hlen+int(h.Length):]
		if ce := c.handleFrame(h, payload); ce != nil {
			return ce
		}
	}
	n := copy(c.in, buf)
	c.in = c.in[:n]
	if need > cap(c.in) {
		c.growIn(need - n)
	}
	return nil
}

// parseHeader reads a client frame header from b (RFC 6455, 5.2). hlen is 0
// when b does not hold a whole header yet.
func parseHeader(b []byte, maxLen int) (h ws.Header, hlen int, ce *closeError) {
	if len(b) < 2 {
		return h, 0, nil
	}
	h.Fin = b[0]&0x80 != 0
	h.Rsv = (b[0] & 0x70) >> 4
	h.OpCode = ws.OpCode(b[0] & 0x0f)
	h.Masked = b[1]&0x80 != 0
	hlen = 2
	switch l := b[1] & 0x7f; l {
	case 126:
		if len(b) < 4 {
			return h, 0, nil
		}
		h.Length = int64(binary.BigEndian.Uint16(b[2:]))
		hlen = 4
	case 127:
		if len(b) < 10 {
			return h, 0, nil
		}
		v := binary.BigEndian.Uint64(b[2:])
		if v > uint64(maxLen) {
			return h, 0, errTooBig
		}
		h.Length = int64(v)
		hlen = 10
	default:
		h.Length = int64(l)
	}
	switch {
	case h.Length > int64(maxLen):
		return h, 0, errTooBig
	case !h.Masked || h.Rsv != 0 || h.OpCode.IsReserved():
		return h, 0, errProtocol
	case h.OpCode.IsControl() && (!h.Fin || h.Length > 125):
		return h, 0, errProtocol
	}
	if len(b) < hlen+4 {
		return h, 0, nil
	}
	copy(h.Mask[:], b[hlen:hlen+4])
	return h, hlen + 4, nil
}

// handleFrame acts on one unmasked frame.
func (c *Conn) handleFrame(h ws.Header, payload []byte) *closeError {
	if !c.allow() {
		return errRate
	}
	switch h.OpCode {
	case ws.OpPing:
		c.send(outFrame{b: controlFrame(ws.OpPong, payload), kind: kindControl})
	case ws.OpPong:
	case ws.OpClose:
		code, _ := ws.ParseCloseFrameData(payload)
		if code.Empty() {
			code = ws.StatusNormalClosure
		}
		c.closeWith(&closeError{code: code, reason: ""})
	case ws.OpBinary:
		return errBinary
	case ws.OpText, ws.OpContinuation:
		return c.handleData(h, payload)
	}
	return nil
}

// handleData assembles fragmented messages and hands complete ones on.
func (c *Conn) handleData(h ws.Header, payload []byte) *closeError {
	if (h.OpCode == ws.OpContinuation) != c.fragging {
		return errProtocol
	}
	if !h.Fin || c.fragging {
		if len(c.frag)+len(payload) > c.srv.cfg.MaxMessageBytes {
			return errTooBig
		}
		c.frag = append(c.frag, payload...)
		c.fragging = !h.Fin
		if !h.Fin {
			return nil
		}
		payload, c.frag = c.frag, nil
	}
	c.srv.handleMessage(c, payload)
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
