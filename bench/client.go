package bench

import (
	"errors"
	"net"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"

	"github.com/tickerfan/tickerfan/internal/netpoll"
	"github.com/tickerfan/tickerfan/internal/wsframe"
)

// readRounds reads per turn before the reader serves other subscribers.
const readRounds = 4

// Sequenced streams of one product on one connection.
const (
	streamL2 = iota // snapshot and l2update (extension "sequence")
	streamTicker
	streamMatch
	streamHeartbeat
	numStreams
)

// stream is the last sequence seen on one (product, stream) of a connection.
type stream struct {
	last int64
	seen bool
}

// conn is one subscriber. Its read side is touched only by its reader, one
// turn at a time (one-shot poller registration): no lock is needed there.
type conn struct {
	sw     *Swarm
	r      *reader
	nc     net.Conn
	rc     syscall.RawConn
	fd     int
	group  int
	id     int // its number in the run, from 0
	onPoll func(fd int, ev netpoll.Event)

	products []int32 // subscribed product indices, ascending
	streams  []stream
	books    []l2Book // per product, as c.products; nil unless Swarm.trackBooks

	in   wsframe.Input     // unparsed input; holds no buffer when idle
	frag wsframe.Assembler // a fragmented message so far
	pong []byte            // a pong to send once the reader's lock is released

	subSentAt  int64 // unix nanos the subscribe was written
	subscribed bool
	sse        bool // an event stream (Profile.Transport sse), parsed by parseSSE
	sseOpen    bool // its HTTP head has been read
	// budget is what a slow subscriber may still read this tick; set by the
	// slow ticker before it re-arms the subscriber, so atomic (the poller's
	// wake-up is an ordering the race detector cannot see).
	budget atomic.Int64

	rbuf   []byte
	rn     int
	rerr   error
	readFn func(fd uintptr)
	ctlErr error
	ctlFn  func(fd uintptr)

	closed atomic.Bool
}

func newConn(sw *Swarm, nc net.Conn, rc syscall.RawConn, fd, group, id int, products []int32) *conn {
	c := &conn{sw: sw, nc: nc, rc: rc, fd: fd, group: group, id: id, products: products}
	c.in.Large = true // one read should take a burst of server messages
	c.streams = make([]stream, len(products)*numStreams)
	if sw.trackBooks {
		c.books = make([]l2Book, len(products))
	}
	c.r = sw.readers[fd%len(sw.readers)]
	c.readFn = func(fd uintptr) { c.rn, c.rerr = unix.Read(int(fd), c.rbuf) }
	c.ctlFn = func(fd uintptr) { c.ctlErr = sw.poller.Resume(int(fd)) }
	c.onPoll = func(int, netpoll.Event) { c.r.schedule(c) }
	return c
}

// read does one non-blocking read inside the RawConn's Control, which keeps
// the descriptor from being closed and reused meanwhile.
func (c *conn) read(p []byte) (int, error) {
	c.rbuf = p
	err := c.rc.Control(c.readFn)
	c.rbuf = nil
	if err != nil {
		return 0, err
	}
	return max(c.rn, 0), c.rerr
}

// resume re-arms the poller registration, inside Control for the same
// reason. The reader's own, allocation-free path.
func (c *conn) resume() {
	if err := c.rc.Control(c.ctlFn); err != nil || c.ctlErr != nil {
		c.close(closeLocal, "")
	}
}

// rearm is resume for the slow ticker: once re-armed the subscriber may fire
// and its reader call resume before rearm returns, so rearm keeps its result
// apart from c.ctlErr.
func (c *conn) rearm() {
	var rerr error
	err := c.rc.Control(func(fd uintptr) { rerr = c.sw.poller.Resume(int(fd)) })
	if err != nil || rerr != nil {
		c.close(closeLocal, "")
	}
}

// Why a connection ended.
const (
	closeLocal  = iota // we closed it: end of run
	closeServer        // the server sent a close frame
	closeEOF           // the server closed the socket without one
	closeProtocol
)

// close ends the connection once, from its reader or after the readers
// stopped. Remove comes before Close (see netpoll).
func (c *conn) close(why int, detail string) {
	if c.closed.Swap(true) {
		return
	}
	c.sw.poller.Remove(c.fd)
	c.nc.Close()
	c.in.Release()
	c.sw.open.Add(-1)
	if c.subscribed {
		c.sw.subscribed.Add(-1)
	}
	if why != closeLocal {
		c.sw.noteClose(why, detail)
	}
}

// parse handles every complete frame of the input and keeps the rest. recv
// is the wall time of the read that brought the bytes. The reader's mu must be
// held (t is its tally for c's group).
func (c *conn) parse(t *tally, live *liveStats, recv int64) error {
	if c.sse {
		return c.parseSSE(t, live, recv)
	}
	err := c.in.Parse(c.sw.cfg.MaxMessageBytes, false, func(f wsframe.Frame) error {
		return c.frame(t, live, recv, f)
	})
	if errors.Is(err, wsframe.ErrTooBig) || errors.Is(err, wsframe.ErrProtocol) {
		return frameError(err)
	}
	return err
}

// frameError maps a framing error to the package's own.
func frameError(err error) error {
	if errors.Is(err, wsframe.ErrTooBig) {
		return ErrTooBig
	}
	return ErrFrame
}

// frame acts on one server frame.
func (c *conn) frame(t *tally, live *liveStats, recv int64, f wsframe.Frame) error {
	switch f.Op {
	case ws.OpPing:
		c.pong = clientFrame(ws.OpPong, f.Payload)
	case ws.OpClose:
		code, reason := ws.ParseCloseFrameData(f.Payload)
		return &serverClose{code: code, reason: reason}
	case ws.OpText, ws.OpBinary, ws.OpContinuation:
		msg, done, err := c.frag.Add(f, c.sw.cfg.MaxMessageBytes)
		if err != nil {
			return frameError(err)
		}
		if done {
			c.message(t, live, recv, msg)
		}
	}
	return nil
}

// serverClose is a close frame from the server.
type serverClose struct {
	code   ws.StatusCode
	reason string
}

// Error says the server ended the connection; code and reason are in the fields.
func (e *serverClose) Error() string { return "bench: server closed the connection" }

// message accounts for one server message. Hot path: no allocation.
func (c *conn) message(t *tally, live *liveStats, recv int64, payload []byte) {
	t.bytes += int64(len(payload))
	live.msgs++
	live.bytes += int64(len(payload))
	f, err := Scan(payload)
	if err != nil {
		t.msgs[kindOther]++
		c.sw.noteProtocolError("unparsable message", payload)
		return
	}
	k := kindOf(f.Type)
	t.msgs[k]++
	switch k {
	case kindSubscriptions:
		if !c.subscribed {
			c.subscribed = true
			c.sw.subscribed.Add(1)
			record(&c.r.subscribeHist, recv-c.subSentAt)
		}
		return
	case kindError:
		c.sw.noteProtocolError("error message", payload)
		return
	}
	pi := c.sw.productIndex(f.Product)
	if pi < 0 {
		return
	}
	if (k == kindL2Update || k == kindMatch || k == kindTicker) && c.sw.inSendWindow(f.Time) {
		c.r.bySend[c.group]++
	}
	t.products[pi].msgs++
	liveMsg := k == kindL2Update || k == kindTicker || k == kindMatch || k == kindHeartbeat
	if f.HasSeq {
		if s := c.slot(pi); s >= 0 {
			liveMsg = c.sequence(t, k, pi, s, f.Seq, payload)
		}
	}
	if c.books != nil && (k == kindSnapshot || k == kindL2Update) {
		if s := c.slot(pi); s >= 0 {
			c.books[s].apply(k == kindSnapshot, payload, &c.r.intern)
		}
	}
	if f.Time != 0 {
		// Staleness is the age of whatever arrives, news or state (a resync
		// snapshot, the current ticker): what a user under overload sees.
		record(&t.stale, max(recv-f.Time, 0))
	}
	if liveMsg && f.Time != 0 {
		lat := recv - f.Time
		if lat < 0 {
			t.negLatency++
			lat = 0
		}
		record(&t.lat[k], lat)
		record(&t.latAll, lat)
		record(&live.lat, lat)
	}
}

// slot returns the position of product pi in c.products, -1 if not there.
func (c *conn) slot(pi int) int {
	for i, p := range c.products {
		if int(p) == pi {
			return i
		}
	}
	return -1
}

// sequence checks a sequenced message against the last of its stream. It
// reports whether the message is live news, whose "time" measures latency;
// the current state a server sends on subscribe or resync (the first ticker
// of a product, a ticker repeated, last_match) is not.
//
// Level 2: "sequence" increases by exactly 1 per update (PROTOCOL.md,
// extensions). A jump between updates is a gap; a snapshot that jumps is a
// resync after conflation, and what it skipped is counted as conflated. Every
// other stream only has to increase (ticker, match) or not decrease
// (heartbeat).
func (c *conn) sequence(t *tally, k msgKind, pi, slot int, seq int64, payload []byte) bool {
	st := c.streams[slot*numStreams : (slot+1)*numStreams]
	switch k {
	case kindSnapshot, kindL2Update:
		s := &st[streamL2]
		t.l2.Delivered++
		switch {
		case !s.seen:
		case k == kindSnapshot:
			t.l2.Resyncs++
			if seq > s.last+1 {
				t.l2.Conflated += seq - s.last - 1
			}
		case seq > s.last+1:
			t.l2.Gaps++
			t.l2.GapMessages += seq - s.last - 1
			t.products[pi].gaps++
			c.sw.noteGap(payload)
		case seq <= s.last:
			t.l2.OutOfOrder++
			t.products[pi].outOfOrder++
			return true
		}
		s.last, s.seen = seq, true
		return k == kindL2Update
	case kindTicker: // the first is the current ticker; a repeat is a resync
		s := &st[streamTicker]
		news := s.seen && seq > s.last
		c.advance(t, s, pi, seq, false)
		return news
	case kindLastMatch: // the current state, not news
		st[streamMatch].last, st[streamMatch].seen = seq, true
		return false
	case kindMatch:
		return c.advance(t, &st[streamMatch], pi, seq, true)
	case kindHeartbeat:
		return c.advance(t, &st[streamHeartbeat], pi, seq, false)
	}
	return false
}

// advance moves a stream to seq, counting a step back (or, when strict, a
// repeat) as out of order. It reports whether seq was in order.
func (c *conn) advance(t *tally, s *stream, pi int, seq int64, strict bool) bool {
	if s.seen && (seq < s.last || (strict && seq == s.last)) {
		t.outOfOrder++
		t.products[pi].outOfOrder++
		return false
	}
	s.last, s.seen = seq, true
	return true
}

// sendPong writes a pong owed to a ping; called without the reader's lock.
func (c *conn) sendPong() {
	p := c.pong
	c.pong = nil
	c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	if _, err := c.nc.Write(p); err != nil {
		c.close(closeProtocol, "pong write failed")
	}
}
