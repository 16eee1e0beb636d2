// Package fanout is tickerfan's WebSocket server: the Coinbase Exchange feed
// protocol (see shared PROTOCOL.md) on github.com/gobwas/ws, with REST, health
// and metrics on the same port.
//
// Connections are read and written without a goroutine each: an epoll poller
// reports readiness and a bounded pool of workers does non-blocking reads and
// writev writes. The book's event stream enters through Publish; every frame
// is encoded once per (product, channel) and queued, the same bytes, to each
// subscriber.
package fanout

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/internal/netpoll"
	"github.com/tickerfan/tickerfan/model"
)

// Server is the fan-out WebSocket server. Create it with New, feed it with
// Publish, run it with Serve, stop it with Shutdown.
type Server struct {
	cfg Config
	log *zap.Logger
	cat *catalog

	hub         *hub
	pool        *pool
	readPoller  *netpoll.Poller
	writePoller *netpoll.Poller
	registry    registry
	metrics     *metrics
	auth        *authenticator // nil when authentication is off
	born        time.Time
	clock       atomic.Uint32 // ms since born (wrapping), refreshed by the sweeper: a cheap "now" for the hot path

	mux     *http.ServeMux
	httpSrv *http.Server
	httpLn  *chanListener
	hsSem   chan struct{}

	ln        net.Listener
	closing   atomic.Bool
	wg        sync.WaitGroup // accept loop and sweeper
	hsWG      sync.WaitGroup // handshakes in progress
	stopSweep chan struct{}
	started   chan struct{}
	stopOnce  sync.Once
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
	s := &Server{
		cfg: cfg.withDefaults(), log: log.Named("fanout"), cat: cat,
		stopSweep: make(chan struct{}), started: make(chan struct{}),
	}
	s.born = time.Now()
	s.metrics = newMetrics(s)
	s.auth = newAuthenticator(s.cfg.Auth)
	s.hsSem = make(chan struct{}, s.cfg.MaxHandshakes)
	if s.readPoller, err = netpoll.New(netpoll.Config{OnError: s.pollError}); err != nil {
		return nil, err
	}
	if s.writePoller, err = netpoll.New(netpoll.Config{OnError: s.pollError}); err != nil {
		s.readPoller.Close()
		return nil, err
	}
	s.pool = newPool(s.cfg.Workers, s.run)
	s.hub = newHub(s)
	s.hub.start()
	s.mux = http.NewServeMux()
	s.routes()
	return s, nil
}

func (s *Server) pollError(err error) { s.log.Error("poller", zap.Error(err)) }

// run executes one pool task.
func (s *Server) run(t task) {
	switch t.op {
	case opRead:
		t.c.handleRead()
	case opFlush:
		t.c.flush()
	case opResync:
		s.hub.resync(t.c)
	case opFinalize:
		t.c.finalize()
	}
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
func (s *Server) Addr() net.Addr {
	select {
	case <-s.started:
		return s.ln.Addr()
	default:
		return nil
	}
}

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
	s.ln = ln
	s.httpLn = newChanListener(ln.Addr())
	s.httpSrv = &http.Server{
		Handler: s.mux, ReadHeaderTimeout: s.cfg.HandshakeTimeout, IdleTimeout: time.Minute,
		ErrorLog: zap.NewStdLog(s.log.Named("http")),
	}
	go s.httpSrv.Serve(s.httpLn)
	s.wg.Add(2)
	go s.sweep()
	close(s.started)
	s.log.Info("serving", zap.String("addr", ln.Addr().String()), zap.Int("products", len(s.cat.products)))
	s.acceptLoop()
	return ErrClosed
}

// Shutdown stops accepting, closes every connection with 1001 "server shutting
// down", waits for the close frames to go out (bounded by ctx and
// shutdown_timeout) and stops every goroutine the server started.
func (s *Server) Shutdown(ctx context.Context) error {
	var err error
	s.stopOnce.Do(func() { err = s.shutdown(ctx) })
	return err
}

func (s *Server) shutdown(ctx context.Context) error {
	s.closing.Store(true)
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ShutdownTimeout)
	defer cancel()
	if s.ln != nil {
		s.ln.Close()
		s.hsWG.Wait()
		s.httpSrv.Shutdown(ctx)
	}
	empty := s.registry.emptied()
	for _, c := range s.registry.all(nil) {
		c.closeWith(errShutdown)
	}
	select {
	case <-empty:
	case <-ctx.Done():
		s.log.Warn("shutdown timeout: closing the remaining connections", zap.Int("left", s.registry.len()))
		for _, c := range s.registry.all(nil) {
			c.finalize()
		}
	}
	close(s.stopSweep)
	s.wg.Wait()
	s.hub.stop()
	s.pool.close()
	s.readPoller.Close()
	s.writePoller.Close()
	s.log.Info("stopped")
	return ctx.Err()
}
