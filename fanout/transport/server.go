// Package transport is tickerfan's WebSocket transport: it accepts TCP
// connections, upgrades them zero-copy (gobwas/ws) or hands them to an HTTP
// handler, watches sockets with epoll pollers instead of a goroutine each,
// reads and writes them on a bounded worker pool (writev), queues each
// connection's outbound frames with a bound in bytes and in age, conflates
// frames by an opaque stream key for slow consumers, pings, rate-limits and
// closes with RFC 6455 codes. It knows nothing of products, channels or JSON:
// the protocol (package fanout) reaches a connection only through Conn's
// Send, Restore, Forget, Lagging, Ready and Close, and learns of it through
// the Handlers it registers.
//
// It lives under fanout/ because fanout is its one user today; it imports
// nothing of fanout, so a second protocol (an SSE or NATS edge) can use it
// as is.
//
// Lock order: a Conn's mu, the pool's mu, the registry's mu, the handshake
// table's and the per-address table's are leaves — nothing else is locked or
// called while one is held — so callers may Send holding any lock of their
// own.
//
// Goroutines: one gate (internal/gate) starts every goroutine the Server owns
// (accept loop, handshakes, sweeper, coarse clock, pool workers, the HTTP
// server's Serve)
// and refuses once Shutdown has begun; Shutdown waits for all of them. The
// pollers own their own event-loop goroutines and stop them in Close.
package transport

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/tickerfan/tickerfan/internal/gate"
	"github.com/tickerfan/tickerfan/internal/netpoll"
)

// Handlers are the protocol's callbacks. Each runs on a pool worker and may
// call any Conn method.
type Handlers struct {
	// OnMessage gets each complete text message a client sends. msg is valid
	// only during the call.
	OnMessage func(c *Conn, msg []byte)
	// OnLagging runs once a connection's queue has drained while some of its
	// streams are lagging (Conn.Lagging); it should Restore each of them.
	OnLagging func(c *Conn)
	// OnClose runs once when a connection is finalized; after it, Send does
	// nothing.
	OnClose func(c *Conn)
}

// Server owns the listener, the pollers, the pool, the sweeper and every
// connection. Create it with New, run it with Serve, stop it with Shutdown.
type Server struct {
	cfg      Config
	handlers Handlers
	log      *zap.Logger
	stats    Stats

	gate        gate.Gate
	pool        *pool
	readPoller  *netpoll.Poller
	writePoller *netpoll.Poller
	registry    registry
	origins     []originPattern // Config.AllowedOrigins, parsed
	slots       slots           // every open connection, by kind, against max_connections
	ips         ipTable         // the per-address limits
	hs          handshakes      // handshakes waiting for their head, oldest first
	hsSem       chan struct{}
	queued      atomic.Int64  // bytes queued by every connection (see Conn.syncQueued)
	overload    chan struct{} // capacity 1: the total passed max_total_queue_bytes
	born        time.Time
	clock       atomic.Uint32 // ms since born (wrapping), kept by tickClock: a cheap "now" for the hot path
	batchBytes  int           // bytes one writev gathers: maxBatchBytes, or kernel_unsent_bytes when set
	draining    atomic.Bool

	httpSrv *http.Server
	httpLn  *chanListener

	mu         sync.Mutex // guards ln
	ln         net.Listener
	stopAccept chan struct{} // closed by Shutdown: the accept loop returns
	stopSweep  chan struct{}
	stopOnce   sync.Once
}

// New builds a transport that serves plain HTTP requests with httpHandler.
// It starts the pollers and the worker pool; Serve starts accepting.
func New(cfg Config, h Handlers, httpHandler http.Handler, log *zap.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	s := &Server{cfg: cfg.withDefaults(), handlers: h, log: log, born: time.Now(),
		stopAccept: make(chan struct{}), stopSweep: make(chan struct{}), overload: make(chan struct{}, 1)}
	fitFileLimit(&s.cfg, log)
	s.slots.max = int64(s.cfg.MaxConnections)
	s.ips = ipTable{maxConns: s.cfg.MaxConnectionsPerIP, maxHandshakes: s.cfg.MaxHandshakesPerIP,
		rate: s.cfg.HandshakesPerIPPerSecond}
	s.hsSem = make(chan struct{}, s.cfg.MaxHandshakes)
	s.batchBytes = maxBatchBytes
	if n := s.cfg.KernelUnsentBytes; n > 0 {
		s.batchBytes = min(n, maxBatchBytes)
	}
	for _, p := range s.cfg.AllowedOrigins {
		op, _ := parseOriginPattern(p) // Validate checked it
		s.origins = append(s.origins, op)
	}
	var err error
	if s.readPoller, err = netpoll.New(netpoll.Config{OnError: s.pollError}); err != nil {
		return nil, err
	}
	if s.writePoller, err = netpoll.New(netpoll.Config{OnError: s.pollError}); err != nil {
		s.readPoller.Close()
		return nil, err
	}
	s.pool = newPool(s.cfg.Workers, s.run, &s.gate)
	s.httpLn = newChanListener()
	s.httpSrv = &http.Server{
		Handler: s.upgradeKeptAlive(httpHandler), ReadHeaderTimeout: s.cfg.HeadTimeout, IdleTimeout: s.cfg.HTTPIdleTimeout,
		MaxHeaderBytes: maxRequestHead, ErrorLog: zap.NewStdLog(s.log.Named("http")),
	}
	return s, nil
}

func (s *Server) pollError(err error) { s.check("poller", err, nil) }

// run executes one pool task.
func (s *Server) run(t task) {
	switch t.op {
	case opRead:
		t.c.handleRead()
	case opFlush:
		t.c.flush()
	case opResync:
		t.c.resync()
	case opFinalize:
		t.c.finalize()
	}
}

// Stats are the transport's counters.
func (s *Server) Stats() *Stats { return &s.stats }

// Len is the number of open WebSocket connections.
func (s *Server) Len() int { return s.registry.len() }

// Queued is the bytes queued for every connection together, within 16 KiB
// per non-empty queue; QueueBudget is max_total_queue_bytes.
func (s *Server) Queued() int64 { return s.queued.Load() }

// QueueBudget is max_total_queue_bytes.
func (s *Server) QueueBudget() int64 { return s.cfg.MaxTotalQueueBytes }

// MaxConnections is the limit in force: the configured one, lowered to fit
// the open-file limit.
func (s *Server) MaxConnections() int { return s.cfg.MaxConnections }

// Draining reports whether Shutdown has begun: upgrades are refused, plain
// HTTP is still served until the connections are closed.
func (s *Server) Draining() bool { return s.draining.Load() }

// Addr is the listening address once Serve has started, nil before.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Serve accepts connections on ln until Shutdown; it then returns ErrClosed,
// at once if Shutdown began before it.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.gate.Closed() || s.ln != nil {
		s.mu.Unlock()
		ln.Close()
		return ErrClosed
	}
	s.ln = ln
	s.httpLn.setAddr(ln.Addr())
	accepting := make(chan struct{})
	ok := s.gate.Go(func() { s.serveHTTP() }) &&
		s.gate.Go(s.sweep) &&
		s.gate.Go(s.tickClock) &&
		s.gate.Go(func() { defer close(accepting); s.acceptLoop(ln) })
	s.mu.Unlock()
	if ok {
		<-accepting
	}
	return ErrClosed
}

func (s *Server) serveHTTP() {
	if err := s.httpSrv.Serve(s.httpLn); !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
		s.check("http_serve", err, nil)
	}
}

// Shutdown drains: it refuses new upgrades (503) while still answering plain
// HTTP, so /healthz can say 503; closes every connection with 1001 "server
// shutting down" and waits for the close frames to go out (bounded by ctx
// and shutdown_timeout); then closes the listener and stops and waits for
// every goroutine the Server started. Safe to call more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	var err error
	s.stopOnce.Do(func() { err = s.shutdown(ctx) })
	return err
}

func (s *Server) shutdown(ctx context.Context) error {
	s.draining.Store(true)
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ShutdownTimeout)
	defer cancel()
	s.drain(ctx)

	s.mu.Lock()
	s.gate.Close()
	ln := s.ln
	s.mu.Unlock()
	close(s.stopAccept)
	if ln != nil {
		ln.Close() // ends the accept loop; its error is the one Accept returns
	}
	s.waitHandshakes(ctx)
	s.drain(ctx) // what handshakes upgraded while the first drain ran
	if err := s.httpSrv.Shutdown(ctx); err != nil {
		s.check("http_shutdown", err, nil)
	}
	s.httpLn.Close()
	close(s.stopSweep)
	s.pool.close()
	s.gate.Wait()
	s.finalizeAll() // upgraded by handshakes that passed the draining check just before it
	s.check("read_poller_close", s.readPoller.Close(), nil)
	s.check("write_poller_close", s.writePoller.Close(), nil)
	return ctx.Err()
}

// drain closes every connection and waits until all are gone or ctx ends.
func (s *Server) drain(ctx context.Context) {
	empty := s.registry.emptied()
	for _, c := range s.registry.all(nil) {
		c.Close(ErrShutdown)
	}
	select {
	case <-empty:
	case <-ctx.Done():
		s.log.Warn("shutdown timeout: closing the remaining connections", zap.Int("left", s.registry.len()))
		s.finalizeAll()
	}
}

// waitHandshakes waits, bounded by ctx, until no handshake is in progress, by
// taking every handshake slot. Call it once the gate and the listener are
// closed: no slot is ever given back.
func (s *Server) waitHandshakes(ctx context.Context) {
	for i := 0; i < cap(s.hsSem); i++ {
		select {
		case s.hsSem <- struct{}{}:
		case <-ctx.Done():
			return
		}
	}
}

func (s *Server) finalizeAll() {
	for _, c := range s.registry.all(nil) {
		c.finalize()
	}
}
