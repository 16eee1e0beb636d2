package transport

import (
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/gobwas/ws"
)

// Server-sent events (WHATWG HTML, "Server-sent events"): an event-stream
// connection is an ordinary Conn with another framing. The protocol queues
// the same WebSocket frames it queues for everyone (encoded once, shared);
// the flush writes each text frame's payload, not its header, between a
// per-connection head ("id: ...\ndata: ") and "\n\n", as three iovecs of one
// writev: no payload is copied. A ping becomes a comment line (a keepalive
// for proxies); a pong writes nothing; the close frame becomes a comment
// naming the reason, then the socket closes and the browser reconnects.
// Nothing is read from the client after the request: bytes it sends are
// discarded, and end of file finalizes the connection.

// EventIDs gives an event-stream connection's events their ids. The flush
// calls AppendID for each text frame as it frames it, in queue order, one
// flush at a time per connection and without the connection's lock, with
// the frame's class, stream key and JSON payload; what it appends to dst is
// the event's id ("id: " and the line end are the transport's). Appending
// nothing writes no id line, and the browser keeps its last event id.
type EventIDs interface {
	AppendID(dst []byte, class Class, key StreamKey, payload []byte) []byte
}

// EventStreamHead is the HTTP response that opens an event stream, with the
// reconnection delay (retry, in ms) a browser should use, and the request's
// Origin (if any, and only once checked) allowed to read it (CORS). The body
// runs until the connection closes (RFC 9112, 6.3): no chunked coding, so
// the events go out as written.
func EventStreamHead(retryMillis int, origin string) []byte {
	h := "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n" +
		"X-Accel-Buffering: no\r\nConnection: close\r\n"
	if origin != "" && !strings.ContainsAny(origin, "\r\n") {
		h += "Access-Control-Allow-Origin: " + origin + "\r\nVary: Origin\r\n"
	}
	return []byte(h + "\r\nretry: " + itoa(retryMillis) + "\n\n")
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for ; n > 0; n /= 10 {
		i--
		b[i] = byte('0' + n%10)
	}
	return string(b[i:])
}

// ErrEventsRefused: TakeEvents could not take the request's connection (the
// server is draining or at max_connections, or the response writer cannot
// be hijacked). The caller has not written anything; it should answer 503.
var ErrEventsRefused = errors.New("transport: event stream refused")

// sseState is an event-stream connection's framing state; only its flush
// touches it.
type sseState struct {
	ids   EventIDs
	batch []frame  // the frames of the write in progress
	heads []byte   // their heads, back to back
	wire  []int    // each one's length on the wire
	spans []int    // where each one's head starts and ends in heads
	head0 []byte   // the head of out[0] when it is partly written: its id must not change
	iov   [][]byte // three per frame
}

var (
	sseData = []byte("data: ")
	sseEnd  = []byte("\n\n")
	ssePing = []byte(":\n\n")
)

// TakeEvents takes the connection of r, an event-stream request the
// protocol has accepted, away from the HTTP server (which then forgets it:
// no goroutine stays), writes head (EventStreamHead), and returns it as a
// Conn whose frames are written as events. The protocol then subscribes it.
func (s *Server) TakeEvents(w http.ResponseWriter, head []byte, ids EventIDs) (*Conn, error) {
	hj, ok := w.(http.Hijacker)
	if !ok || s.draining.Load() {
		s.stats.Rejected.Add(1)
		return nil, ErrEventsRefused
	}
	raw, _, err := hj.Hijack()
	if err != nil {
		return nil, errors.Join(ErrEventsRefused, err)
	}
	hc, ok := raw.(*httpConn)
	if !ok {
		raw.Close()
		return nil, ErrEventsRefused
	}
	hc.takeOver(s)           // the connection's slot of max_connections becomes a stream's
	nc, ip := hc.Conn, hc.ip // the raw TCP connection: its fd goes to the pollers
	s.check("set_deadline", nc.SetDeadline(time.Now().Add(s.cfg.HandshakeTimeout)), nil)
	if _, err := nc.Write(head); err != nil {
		nc.Close()
		s.slots.release(KindWebSocket)
		s.ips.closed(ip, false)
		return nil, errors.Join(ErrEventsRefused, err)
	}
	s.check("set_deadline", nc.SetDeadline(time.Time{}), nil)
	c := s.registerEvents(nc, ip, ids)
	if c == nil {
		return nil, ErrEventsRefused
	}
	return c, nil
}

// registerEvents registers nc as an event-stream Conn, ready at once (its
// request was its subscription).
func (s *Server) registerEvents(nc net.Conn, ip netip.Addr, ids EventIDs) *Conn {
	var c *Conn
	s.register(nc, ip, nil, func(nc *Conn) {
		nc.sse = &sseState{ids: ids}
		nc.ready = true
		c = nc
	})
	if c != nil {
		s.stats.EventStreams.Add(1)
	}
	return c
}

// gatherSSE is gather for an event stream: it takes up to maxIov/3 frames in
// flight under the lock, then frames them outside it (EventIDs is the
// protocol's code).
func (c *Conn) gatherSSE() ([][]byte, bool) {
	st := c.sse
	c.mu.Lock()
	if c.state == stateClosed || len(c.out) == 0 {
		c.flushing = false
		op, ok := c.afterDrainLocked()
		c.mu.Unlock()
		if ok {
			c.srv.pool.schedule(task{c: c, op: op})
		}
		return nil, false
	}
	c.observeDelayLocked()
	st.batch = st.batch[:0]
	total := 0
	for i := 0; i < len(c.out) && i < maxIov/3 && total < c.srv.batchBytes; i++ {
		st.batch = append(st.batch, c.out[i])
		total += len(c.out[i].b)
	}
	c.inflight = len(st.batch)
	off := c.off
	c.mu.Unlock()
	return st.frame(off), true
}

// frame builds the iovecs of the batch, skipping off bytes already written
// of the first frame.
func (st *sseState) frame(off int) [][]byte {
	st.heads, st.wire, st.spans = st.heads[:0], st.wire[:0], st.spans[:0]
	for i, f := range st.batch {
		start := len(st.heads)
		payload := wsPayload(f.b)
		switch {
		case i == 0 && off > 0:
			st.heads = append(st.heads, st.head0...)
		case opOf(f.b) == ws.OpText:
			if id := st.ids.AppendID(append(st.heads, "id: "...), f.class(), f.key(), payload); len(id) > len(st.heads)+4 {
				st.heads = append(id, '\n')
			}
			st.heads = append(st.heads, sseData...)
		}
		st.spans = append(st.spans, start, len(st.heads))
	}
	st.iov = st.iov[:0]
	for i, f := range st.batch {
		h := st.heads[st.spans[2*i]:st.spans[2*i+1]]
		var body, end []byte
		switch opOf(f.b) {
		case ws.OpText:
			body, end = wsPayload(f.b), sseEnd
		case ws.OpPing:
			body = ssePing
		case ws.OpClose:
			body = closeComment(f.b)
		}
		st.wire = append(st.wire, len(h)+len(body)+len(end))
		for _, b := range [3][]byte{h, body, end} {
			if off >= len(b) {
				off -= len(b)
				continue
			}
			st.iov = append(st.iov, b[off:])
			off = 0
		}
	}
	return st.iov
}

// advanceSSE is advance for an event stream: n counts wire bytes, queue
// bytes are counted off as frames complete. mu must be held.
func (c *Conn) advanceSSE(n int) int {
	st := c.sse
	done := 0
	for done < len(c.out) && done < len(st.wire) {
		left := st.wire[done] - c.off
		if n < left {
			c.off += n
			break
		}
		n -= left
		c.off = 0
		c.outBytes -= len(c.out[done].b)
		done++
	}
	if c.off > 0 && done < len(st.batch) {
		// out[0] is now batch[done], partly written: keep its head as written.
		st.head0 = append(st.head0[:0], st.heads[st.spans[2*done]:st.spans[2*done+1]]...)
	}
	if done > 0 {
		clear(c.out[:done])
		c.out = c.out[done:]
		if len(c.out) == 0 {
			c.out = nil
		}
	}
	return done
}

// closeComment turns a close frame into an event-stream comment.
func closeComment(b []byte) []byte {
	p := wsPayload(b)
	out := []byte(": close")
	if len(p) >= 2 {
		out = append(out, ' ')
		out = append(out, itoa(int(p[0])<<8|int(p[1]))...)
		out = append(out, ' ')
		out = append(out, p[2:]...)
	}
	return append(out, '\n', '\n')
}

func opOf(b []byte) ws.OpCode { return ws.OpCode(b[0] & 0x0f) }

// wsPayload is the payload of an unmasked frame built by Finish.
func wsPayload(b []byte) []byte {
	switch b[1] & 0x7f {
	case 126:
		return b[4:]
	case 127:
		return b[10:]
	}
	return b[2:]
}

// discardInput drops what an event-stream client sent after its request.
func (c *Conn) discardInput() { c.in.Release() }
