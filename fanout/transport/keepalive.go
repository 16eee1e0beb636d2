package transport

import (
	"bufio"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gobwas/ws"
	"go.uber.org/zap"
)

// httpConn is a plain HTTP connection: its slot of max_connections is given
// back when the HTTP server closes it (the idle timeout included), unless an
// upgrade on it took the slot over (takeOver).
type httpConn struct {
	peekedConn
	ip      netip.Addr
	once    sync.Once
	release func()
}

func (c *httpConn) Close() error {
	c.once.Do(c.release)
	return c.peekedConn.Close()
}

// takeOver turns the connection's HTTP slot into a WebSocket one: closing it
// no longer gives the slot back (the Conn's finalize does).
func (c *httpConn) takeOver(s *Server) {
	c.once.Do(func() {
		s.slots.open[KindHTTP].Add(-1)
		s.slots.open[KindWebSocket].Add(1)
	})
}

// upgradeKeptAlive serves a WebSocket upgrade that reaches the HTTP server:
// one sent as a later request on a kept-alive connection (the first request
// is classified before net/http sees it). It is upgraded like a first one, on
// the slot the connection already holds. Everything else goes to h.
func (s *Server) upgradeKeptAlive(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(strings.ToLower(r.Header.Get("Upgrade")), "websocket") {
			h.ServeHTTP(w, r)
			return
		}
		switch {
		case s.draining.Load():
			w.Header().Set("Retry-After", "1")
			http.Error(w, "server shutting down", http.StatusServiceUnavailable)
			return
		case !slices.Contains(s.cfg.Paths, r.URL.Path):
			http.Error(w, "websocket is served on "+strings.Join(s.cfg.Paths, " and "), http.StatusNotFound)
			return
		case !s.CheckOrigin(r.Header.Get("Origin")):
			http.Error(w, "origin not allowed", http.StatusForbidden)
			return
		}
		nc, rw, _, err := ws.HTTPUpgrader{Timeout: s.cfg.HandshakeTimeout}.Upgrade(r, w)
		if err != nil {
			s.log.Debug("upgrade failed", zap.Error(err), zap.String("remote", r.RemoteAddr))
			return // answered by the upgrader, or the connection is gone
		}
		s.adopt(nc, rw.Reader)
	})
}

// adopt registers a connection upgraded by the HTTP server. The bytes the
// client sent behind its request sit first in net/http's reader, then in the
// one the accept loop peeked with.
func (s *Server) adopt(nc net.Conn, br *bufio.Reader) {
	hc, ok := nc.(*httpConn)
	if !ok {
		nc.Close()
		return
	}
	hc.takeOver(s)
	s.check("set_deadline", hc.Conn.SetDeadline(time.Time{}), nil)
	leftover, _ := br.Peek(br.Buffered()) // Peek of what is buffered cannot fail
	more, _ := hc.r.Peek(hc.r.Buffered())
	s.register(hc.Conn, hc.ip, append(slices.Clip(leftover), more...), nil)
}
