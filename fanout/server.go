// Package fanout is tickerfan's WebSocket protocol layer: the Coinbase
// Exchange feed protocol (see shared PROTOCOL.md), with REST, health and
// metrics on the same port. The transport underneath (package
// fanout/transport: accept, upgrade, pollers, worker pool, per-connection
// queues, conflation, close codes) knows nothing of products or channels;
// fanout reaches a connection only through transport.Conn's narrow methods
// and learns of it through the transport's OnMessage, OnLagging and OnClose.
//
// The book's event stream enters through Publish; shards own the products'
// topics, and every frame is encoded once per (product, channel) and queued,
// the same bytes, to each subscriber. What a connection subscribed is kept in
// its session, here, not in the connection.
//
// Lock order: a topic's mu, the status board's mu, a session's mu and the
// sessions map's mu are never held two at a time, and any of them may be held
// while calling a transport.Conn, whose lock is a leaf.
//
// Goroutines: the Server's gate starts the shards (in New) and waits for them
// in Shutdown; the transport's own gate owns the rest.
package fanout

import (
	"context"
	"net"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/fanout/transport"
	"github.com/tickerfan/tickerfan/internal/gate"
	"github.com/tickerfan/tickerfan/model"
)

// Server is the fan-out WebSocket server. Create it with New, feed it with
// Publish, run it with Serve, stop it with Shutdown.
type Server struct {
	cfg Config
	log *zap.Logger
	cat *catalog

	tr       *transport.Server
	hub      *hub
	sessions sessions
	metrics  *metrics
	auth     *authenticator // nil when authentication is off
	gate     gate.Gate      // the shards
	mux      *http.ServeMux
}

// New builds a server for products. It starts the worker pool, the pollers
// and the fan-out shards; Serve starts accepting.
func New(cfg Config, products []model.Product, log *zap.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cat, err := newCatalog(products)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	s := &Server{cfg: cfg.withDefaults(), log: log.Named("fanout"), cat: cat}
	s.auth = newAuthenticator(s.cfg.Auth)
	s.mux = http.NewServeMux()
	s.tr, err = transport.New(s.transportConfig(), transport.Handlers{
		OnMessage: s.handleMessage, OnLagging: func(c *transport.Conn) { s.hub.resync(c) }, OnClose: s.closed,
	}, http.HandlerFunc(s.serveHTTP), s.log.Named("transport"))
	if err != nil {
		return nil, err
	}
	s.metrics = newMetrics(s)
	s.hub = newHub(cat, &s.cfg, s.metrics, s.log)
	s.hub.start(&s.gate)
	s.routes()
	return s, nil
}

// transportConfig maps the YAML configuration onto the transport's.
func (s *Server) transportConfig() transport.Config {
	c := &s.cfg
	return transport.Config{
		Paths:          []string{"/", "/ws"},
		MaxConnections: c.MaxConnections, MaxHandshakes: c.MaxHandshakes, HandshakeTimeout: c.HandshakeTimeout,
		MaxConnectionsPerIP: c.MaxConnectionsPerIP, MaxHandshakesPerIP: c.MaxHandshakesPerIP,
		HandshakesPerIPPerSecond: c.MaxHandshakesPerIPPerSecond, HeadTimeout: c.HeadTimeout,
		HTTPIdleTimeout: c.HTTPIdleTimeout, FrameTimeout: c.FrameTimeout,
		MaxReplyQueueBytes: c.MaxReplyQueueBytes, MaxTotalQueueBytes: c.MaxTotalQueueBytes,
		FreshStateBytesPerSecond: c.SnapshotBytesPerSecond, FreshStateBurstBytes: c.SnapshotBurstBytes,
		ReadyTimeout: c.SubscribeTimeout, ReadyError: errNoSubscribe,
		PingInterval: c.PingInterval, PongTimeout: c.PongTimeout, WriteTimeout: c.WriteTimeout,
		MaxMessageBytes: c.MaxMessageBytes, MaxQueueBytes: c.MaxQueueBytes, MaxQueueDelay: c.MaxQueueDelay,
		KernelUnsentBytes: c.KernelUnsentBytes, SendBufferBytes: c.SendBufferBytes,
		MessagesPerSecond: c.MessagesPerSecond, MessageBurst: c.MessageBurst, Workers: c.Workers,
		ShutdownTimeout: c.ShutdownTimeout, AllowedOrigins: c.AllowedOrigins,
	}
}

// serveHTTP serves every plain HTTP request. /ws without an upgrade is
// answered as / is: the README lists both as the feed's address.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/ws" {
		r2 := r.Clone(r.Context())
		r2.URL.Path, r2.URL.RawPath = "/", ""
		r = r2
	}
	s.mux.ServeHTTP(w, r)
}

// Publish takes one event of the book's stream: the boundary between book and
// fanout. It may block briefly when the fan-out falls far behind. Events of
// one product must be published in order, from one goroutine at a time.
func (s *Server) Publish(ev book.Event) {
	if !s.hub.publish(ev) {
		s.log.Warn("event for an unknown product dropped", zap.String("product", ev.Product))
	}
}

// Handle adds an HTTP route on the server's port (for /feeds, the dashboard).
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// Registry is the Prometheus registry served on /metrics; other packages add
// their collectors to it.
func (s *Server) Registry() *prometheus.Registry { return s.metrics.reg }

// Addr is the listening address once Serve has started, nil before.
func (s *Server) Addr() net.Addr { return s.tr.Addr() }

// ListenAndServe listens on the configured address and serves.
func (s *Server) ListenAndServe() error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return err
	}
	return s.Serve(ln)
}

// Serve accepts connections on ln until Shutdown; it then returns ErrClosed.
func (s *Server) Serve(ln net.Listener) error {
	s.log.Info("serving", zap.String("addr", ln.Addr().String()), zap.Int("products", len(s.cat.products)))
	s.tr.Serve(ln)
	return ErrClosed
}

// Shutdown drains: new upgrades get 503 and /healthz answers 503 while every
// connection is closed with 1001 "server shutting down" and its close frame
// goes out (bounded by ctx and shutdown_timeout); then the listener closes
// and every goroutine the server started is stopped and waited for.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.tr.Shutdown(ctx)
	if s.gate.Close() {
		s.hub.stop()
		s.gate.Wait()
		s.log.Info("stopped")
	}
	return err
}

// draining reports whether Shutdown has begun.
func (s *Server) draining() bool { return s.tr.Draining() }
