// Package tftest runs an in-process tickerfan for the tests of the packages
// that drive one from outside (the Go client, the dashboard, the TLS front),
// wired as cmd/tickerfan wires it: the simulator feeds a book.Market that
// publishes to a fanout.Server on a real listener on 127.0.0.1.
package tftest

import (
	"context"
	"errors"
	"net"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/fanout"
	"github.com/tickerfan/tickerfan/feed/sim"
	"github.com/tickerfan/tickerfan/internal/testwait"
	"github.com/tickerfan/tickerfan/model"
)

// Options say what to run. The zero value is the default catalog, the
// simulator's defaults with a 10 ms tick, on a free port.
type Options struct {
	// Addr is where to listen; default 127.0.0.1:0. The address of a server
	// just shut down restarts one there (Listen waits for the port).
	Addr string
	// Server configures the fan-out.
	Server fanout.Config
	// Products is the catalog; default model.DefaultProducts().
	Products []model.Product
	// Sim configures the simulator; Tick defaults to 10 ms.
	Sim sim.Config
	// Simulated names the products the simulator drives (a fast feed for one
	// product without the cost of all); default every product.
	Simulated []string
	// Routes adds routes (the dashboard) before the server starts.
	Routes func(*fanout.Server)
}

// Server is a running in-process tickerfan.
type Server struct {
	Addr string
	Srv  *fanout.Server

	served    chan struct{}
	stopFeed  context.CancelFunc
	feedDone  chan struct{}
	quietOnce sync.Once
	downOnce  sync.Once
}

// Start listens on o.Addr and serves until the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	addr := o.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	s, err := Serve(Listen(t, addr), zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

// Serve serves on ln until Shutdown; for callers without a testing.T (examples).
func Serve(ln net.Listener, log *zap.Logger, o Options) (*Server, error) {
	products := o.Products
	if len(products) == 0 {
		products = model.DefaultProducts()
	}
	simulated := products
	if len(o.Simulated) > 0 {
		simulated = slices.DeleteFunc(slices.Clone(products), func(p model.Product) bool { return !slices.Contains(o.Simulated, p.ID) })
	}
	srv, err := fanout.New(o.Server, products, log)
	if err != nil {
		return nil, err
	}
	if o.Routes != nil {
		o.Routes(srv)
	}
	market, err := book.NewMarket(book.Config{}, products, srv.Publish, log)
	if err != nil {
		return nil, err
	}
	cfg := o.Sim
	if cfg.Tick == 0 {
		cfg.Tick = 10 * time.Millisecond
	}
	src, err := sim.New("sim", cfg, simulated)
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: ln.Addr().String(), Srv: srv, served: make(chan struct{}), feedDone: make(chan struct{})}
	go func() {
		defer close(s.served)
		srv.Serve(ln)
	}()
	ctx, cancel := context.WithCancel(context.Background())
	s.stopFeed = cancel
	go func() {
		defer close(s.feedDone)
		src.Run(ctx, market.Apply)
	}()
	return s, nil
}

// Listen listens on addr, waiting while a just-closed listener still holds
// the port.
func Listen(t testing.TB, addr string) net.Listener {
	t.Helper()
	var ln net.Listener
	testwait.For(t, 5*time.Second, "listen "+addr, func() (string, bool) {
		var err error
		if ln, err = net.Listen("tcp", addr); err == nil {
			return "", true
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			t.Fatalf("listen %s: %v", addr, err)
		}
		return err.Error(), false
	})
	return ln
}

// Quiet stops the simulator and waits for it: from then on the books change
// no more (the fan-out may still be applying what was published).
func (s *Server) Quiet() {
	s.quietOnce.Do(func() {
		s.stopFeed()
		<-s.feedDone
	})
}

// Shutdown stops the feed and the server, closing every connection with 1001.
func (s *Server) Shutdown() {
	s.downOnce.Do(func() {
		s.Quiet()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Srv.Shutdown(ctx)
		<-s.served
	})
}
