package transport

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gobwas/ws"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/tickerfan/tickerfan/internal/netpoll"
)

// maxRequestHead bounds the HTTP request line and headers of any request.
const maxRequestHead = 4096

var headReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, maxRequestHead) }}

// acceptLoop accepts on ln until it closes. A connection's handshake runs
// in its own short-lived goroutine, started by the gate, at most
// max_handshakes at once. When every slot is taken, accept closes the
// stalest handshake still waiting for its head (slowloris) and waits only
// when none is stale, which is how it backs off under a storm of honest
// clients. The gate runs acceptLoop for Serve.
func (s *Server) acceptLoop(ln net.Listener) {
	backoff := 5 * time.Millisecond
	for {
		if !s.takeHandshakeSlot() {
			return
		}
		nc, err := ln.Accept()
		if err != nil {
			<-s.hsSem
			if s.gate.Closed() || errors.Is(err, net.ErrClosed) {
				return
			}
			s.check("accept", err, nil)
			time.Sleep(backoff) // backs off a failing accept (EMFILE), not a test wait
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 5 * time.Millisecond
		ip := addrOf(nc)
		if !s.ips.admit(ip, time.Now()) {
			<-s.hsSem
			s.stats.RejectedPerIP.Add(1)
			nc.Close() // no answer: an address over its limits gets nothing to read
			continue
		}
		s.slots.open[KindHandshake].Add(1)
		p := &pending{nc: nc, since: time.Now()}
		s.hs.add(p)
		if !s.gate.Go(func() { s.handshake(p, ip) }) {
			s.headDone(p, ip)
			<-s.hsSem
			nc.Close()
			s.ips.closed(ip, false)
			return
		}
	}
}

// takeHandshakeSlot takes a handshake slot. When all are taken it closes
// the stalest handshake to free one, and retries every evictAge while every
// waiting handshake is too young to close; it reports false once Shutdown
// began.
func (s *Server) takeHandshakeSlot() bool {
	var retry *time.Timer
	for {
		select {
		case s.hsSem <- struct{}{}:
			return true
		default:
		}
		if s.hs.evictStalest(time.Now()) {
			s.stats.HandshakesEvicted.Add(1)
		}
		if retry == nil {
			retry = time.NewTimer(evictAge)
			defer retry.Stop()
		} else {
			retry.Reset(evictAge)
		}
		select {
		case s.hsSem <- struct{}{}:
			return true
		case <-retry.C:
		case <-s.stopAccept: // Shutdown is taking every slot
			return false
		}
	}
}

// headDone ends p's wait for its head: out of the table (no longer to be
// evicted), the address's handshake count down. Its slot of max_handshakes
// stays taken until the handshake ends, so Shutdown's waitHandshakes also
// waits for upgrades in progress.
func (s *Server) headDone(p *pending, ip netip.Addr) {
	s.hs.remove(p)
	s.slots.open[KindHandshake].Add(-1)
	s.ips.handshakeDone(ip)
}

// handshake reads the request head within head_timeout and either upgrades
// the connection (zero-copy, gobwas/ws), within handshake_timeout, or hands
// it to the HTTP server. Either takes a slot of max_connections first:
// without one it gets 503. Upgrades are refused with 503 while draining.
func (s *Server) handshake(p *pending, ip netip.Addr) {
	defer func() { <-s.hsSem }()
	nc := p.nc
	start := time.Now()
	s.check("set_deadline", nc.SetDeadline(start.Add(s.cfg.HeadTimeout)), nil)
	br := headReaders.Get().(*bufio.Reader)
	br.Reset(nc)
	head, err := peekHead(br, &p.partial)
	s.headDone(p, ip)
	if err != nil {
		s.log.Debug("bad request head", zap.Error(err), zap.String("remote", nc.RemoteAddr().String()))
		if errors.Is(err, errHeadTooLarge) {
			s.reject(nc, "431 Request Header Fields Too Large", "")
		}
		nc.Close()
		s.ips.closed(ip, false)
		s.putReader(br)
		return
	}
	s.check("set_deadline", nc.SetDeadline(start.Add(s.cfg.HandshakeTimeout)), nil)
	if !s.upgradeOrHand(nc, br, head, ip) {
		s.putReader(br)
	}
}

// upgradeOrHand does the handshake's work on the peeked request head; it
// reports whether br went to the HTTP server with the connection (and must
// not be reused).
func (s *Server) upgradeOrHand(nc net.Conn, br *bufio.Reader, head []byte, ip netip.Addr) bool {
	if !isUpgrade(head) {
		if !s.slots.reserve(KindHTTP) {
			s.refuse(nc, ip, "connection limit reached")
			return false
		}
		s.check("set_deadline", nc.SetDeadline(time.Time{}), nil)
		hc := &httpConn{peekedConn: peekedConn{Conn: nc, r: br}, ip: ip, release: func() {
			s.slots.release(KindHTTP)
			s.ips.closed(ip, false)
		}}
		if !s.httpLn.push(hc) {
			hc.Close()
		}
		return true
	}
	switch {
	case s.draining.Load():
		s.refuse(nc, ip, "server shutting down")
		return false
	case !s.slots.reserve(KindWebSocket):
		s.refuse(nc, ip, "connection limit reached")
		return false
	}
	if _, err := s.upgrader().Upgrade(struct {
		io.Reader
		io.Writer
	}{br, nc}); err != nil {
		s.log.Debug("upgrade failed", zap.Error(err), zap.String("remote", nc.RemoteAddr().String()))
		nc.Close()
		s.slots.release(KindWebSocket)
		s.ips.closed(ip, false)
		return false
	}
	s.check("set_deadline", nc.SetDeadline(time.Time{}), nil)
	leftover, _ := br.Peek(br.Buffered()) // Peek of what is buffered cannot fail
	s.register(nc, ip, leftover, nil)
	return false
}

// refuse answers 503 with reason and closes.
func (s *Server) refuse(nc net.Conn, ip netip.Addr, reason string) {
	s.stats.Rejected.Add(1)
	s.reject(nc, "503 Service Unavailable", reason)
	s.ips.closed(ip, false)
}

// reject answers an HTTP status (with Retry-After when there is a body)
// and closes. The client may already be gone: nothing to count.
func (s *Server) reject(nc net.Conn, status, body string) {
	resp := "HTTP/1.1 " + status + "\r\nConnection: close\r\n"
	if body != "" {
		resp += "Retry-After: 1\r\nContent-Length: " + strconv.Itoa(len(body)+2) + "\r\n\r\n" + body + "\r\n"
	} else {
		resp += "\r\n"
	}
	io.WriteString(nc, resp)
	nc.Close()
}

func (s *Server) putReader(br *bufio.Reader) {
	br.Reset(nil)
	headReaders.Put(br)
}

// upgrader accepts WebSocket upgrades on the configured paths.
func (s *Server) upgrader() ws.Upgrader {
	return ws.Upgrader{
		OnRequest: func(uri []byte) error {
			path, _, _ := bytes.Cut(uri, []byte("?"))
			if !slices.Contains(s.cfg.Paths, string(path)) {
				return ws.RejectConnectionError(ws.RejectionStatus(404),
					ws.RejectionReason("websocket is served on "+strings.Join(s.cfg.Paths, " and ")))
			}
			return nil
		},
		OnHeader: s.checkOriginHeader,
	}
}

// peekHead returns the request line and headers without consuming them.
// It sets partial once a read has returned part of the head but not all.
func peekHead(br *bufio.Reader, partial *atomic.Bool) ([]byte, error) {
	for {
		buf, _ := br.Peek(br.Buffered())
		if i := bytes.Index(buf, []byte("\r\n\r\n")); i >= 0 {
			return buf[:i+4], nil
		}
		if br.Buffered() == br.Size() {
			return nil, errHeadTooLarge
		}
		if br.Buffered() > 0 {
			partial.Store(true)
		}
		if _, err := br.Peek(br.Buffered() + 1); err != nil {
			return nil, err
		}
	}
}

// isUpgrade reports whether the head asks for a WebSocket upgrade.
func isUpgrade(head []byte) bool {
	for _, line := range bytes.Split(head, []byte("\r\n")) {
		k, v, ok := bytes.Cut(line, []byte(":"))
		if ok && bytes.EqualFold(bytes.TrimSpace(k), []byte("upgrade")) {
			return bytes.Contains(bytes.ToLower(v), []byte("websocket"))
		}
	}
	return false
}

// register turns an upgraded connection into a Conn watched by the read
// poller. Bytes the client sent right behind the handshake are handled first.
// setup, if not nil, sees the Conn before anything else does (TakeEvents).
func (s *Server) register(nc net.Conn, ip netip.Addr, leftover []byte, setup func(*Conn)) {
	fail := func() {
		nc.Close()
		s.slots.release(KindWebSocket)
		s.ips.closed(ip, false)
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		fail()
		return
	}
	rc, err := sc.SyscallConn()
	if !s.check("syscall_conn", err, nil) {
		fail()
		return
	}
	fd, err := netpoll.FD(sc)
	if !s.check("fd", err, nil) {
		fail()
		return
	}
	c := newConn(s, nc, rc, fd)
	c.ip = ip
	if setup != nil {
		setup(c)
	}
	s.registry.add(c)
	s.stats.Accepted.Add(1)
	if s.draining.Load() {
		c.Close(ErrShutdown) // upgraded just as Shutdown began: drain missed it
	}
	if len(leftover) > 0 {
		c.in.Append(leftover)
		frames, ce := c.parseFrames()
		if ce != nil {
			c.Close(ce)
		}
		c.notePartial(frames, time.Now().UnixNano())
	}
	onRead := func(int, netpoll.Event) { s.pool.schedule(task{c: c, op: opRead}) }
	if !c.control(func(fd int) {
		s.setSockopts(c, fd)
		err = s.readPoller.Add(fd, netpoll.EventRead, onRead)
	}) || !s.check("read_poller_add", err, c) {
		c.finalize()
	}
}

// setSockopts applies send_buffer_bytes and kernel_unsent_bytes. A failure
// is counted and logged; the connection stays (without its backlog bound).
func (s *Server) setSockopts(c *Conn, fd int) {
	if n := s.cfg.SendBufferBytes; n > 0 {
		s.check("set_sndbuf", unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, n), c)
	}
	if n := s.cfg.KernelUnsentBytes; n > 0 {
		s.check("set_notsent_lowat", unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NOTSENT_LOWAT, n), c)
	}
}

// peekedConn is a connection whose first bytes sit in a bufio.Reader.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *peekedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// chanListener hands connections the accept loop classified as plain HTTP to
// the http.Server.
type chanListener struct {
	addr  atomic.Value // net.Addr, set by Serve
	conns chan net.Conn
	once  sync.Once
	done  chan struct{}
}

func newChanListener() *chanListener {
	return &chanListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *chanListener) setAddr(a net.Addr) { l.addr.Store(a) }

func (l *chanListener) push(c net.Conn) bool {
	select {
	case l.conns <- c:
		return true
	case <-l.done:
		return false
	}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *chanListener) Addr() net.Addr {
	a, _ := l.addr.Load().(net.Addr)
	return a
}
