package fanout

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
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

// acceptLoop accepts until the listener closes. A connection's handshake runs
// in its own short-lived goroutine, at most max_handshakes at once: accept
// waits for a slot, which is how it backs off under a connection storm.
func (s *Server) acceptLoop() {
	defer s.wg.Done()
	backoff := 5 * time.Millisecond
	for {
		s.hsSem <- struct{}{}
		nc, err := s.ln.Accept()
		if err != nil {
			<-s.hsSem
			if s.closing.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("accept failed; backing off", zap.Error(err), zap.Duration("backoff", backoff))
			time.Sleep(backoff)
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 5 * time.Millisecond
		s.hsWG.Add(1)
		go s.handshake(nc)
	}
}

// handshake reads the request head within handshake_timeout and either
// upgrades the connection (zero-copy, gobwas/ws) or hands it to the HTTP
// server for REST, health and metrics.
func (s *Server) handshake(nc net.Conn) {
	defer s.hsWG.Done()
	defer func() { <-s.hsSem }()
	nc.SetDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	br := headReaders.Get().(*bufio.Reader)
	br.Reset(nc)
	head, err := peekHead(br)
	if err != nil {
		s.log.Debug("bad request head", zap.Error(err), zap.String("remote", nc.RemoteAddr().String()))
		if errors.Is(err, errHeadTooLarge) {
			io.WriteString(nc, "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n")
		}
		nc.Close()
		s.putReader(br)
		return
	}
	if !isUpgrade(head) {
		nc.SetDeadline(time.Time{})
		if !s.httpLn.push(&peekedConn{Conn: nc, r: br}) {
			nc.Close()
		}
		return
	}
	if s.registry.len() >= s.cfg.MaxConnections {
		s.metrics.rejected.Add(1)
		io.WriteString(nc, "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\n"+
			"Content-Length: 26\r\n\r\nconnection limit reached\r\n")
		nc.Close()
		s.putReader(br)
		return
	}
	if _, err := s.upgrader().Upgrade(struct {
		io.Reader
		io.Writer
	}{br, nc}); err != nil {
		s.log.Debug("upgrade failed", zap.Error(err), zap.String("remote", nc.RemoteAddr().String()))
		nc.Close()
		s.putReader(br)
		return
	}
	nc.SetDeadline(time.Time{})
	leftover, _ := br.Peek(br.Buffered())
	s.register(nc, leftover)
	s.putReader(br)
}

func (s *Server) putReader(br *bufio.Reader) {
	br.Reset(nil)
	headReaders.Put(br)
}

// upgrader accepts WebSocket upgrades on "/" and "/ws".
func (s *Server) upgrader() ws.Upgrader {
	return ws.Upgrader{
		OnRequest: func(uri []byte) error {
			path, _, _ := bytes.Cut(uri, []byte("?"))
			if string(path) != "/" && string(path) != "/ws" {
				return ws.RejectConnectionError(ws.RejectionStatus(404), ws.RejectionReason("websocket is served on / and /ws"))
			}
			return nil
		},
	}
}

var errHeadTooLarge = errors.New("fanout: request head larger than 4096 bytes")

// peekHead returns the request line and headers without consuming them.
func peekHead(br *bufio.Reader) ([]byte, error) {
	for {
		buf, _ := br.Peek(br.Buffered())
		if i := bytes.Index(buf, []byte("\r\n\r\n")); i >= 0 {
			return buf[:i+4], nil
		}
		if br.Buffered() == br.Size() {
			return nil, errHeadTooLarge
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
func (s *Server) register(nc net.Conn, leftover []byte) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		nc.Close()
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		nc.Close()
		return
	}
	fd, err := netpoll.FD(sc)
	if err != nil {
		nc.Close()
		return
	}
	c := newConn(s, nc, rc, fd)
	s.registry.add(c)
	s.metrics.accepted.Add(1)
	if len(leftover) > 0 {
		c.in.Append(leftover)
		if ce := c.parseFrames(); ce != nil {
			c.closeWith(ce)
		}
	}
	onRead := func(int, netpoll.Event) { s.pool.schedule(task{c: c, op: opRead}) }
	if !c.control(func(fd int) {
		if n := s.cfg.SendBufferBytes; n > 0 {
			unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, n)
		}
		if n := s.cfg.KernelUnsentBytes; n > 0 {
			unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NOTSENT_LOWAT, n)
		}
		err = s.readPoller.Add(fd, netpoll.EventRead, onRead)
	}) || err != nil {
		s.log.Error("cannot watch connection", zap.Error(err))
		c.finalize()
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
	addr  net.Addr
	conns chan net.Conn
	once  sync.Once
	done  chan struct{}
}

func newChanListener(addr net.Addr) *chanListener {
	return &chanListener{addr: addr, conns: make(chan net.Conn), done: make(chan struct{})}
}

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

func (l *chanListener) Addr() net.Addr { return l.addr }
