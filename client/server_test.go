package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/client"
	"github.com/tickerfan/tickerfan/fanout"
	"github.com/tickerfan/tickerfan/feed/sim"
	"github.com/tickerfan/tickerfan/internal/testwait"
	"github.com/tickerfan/tickerfan/model"
)

// tickerfan is an in-process tickerfan wired as cmd/tickerfan wires it: the
// simulator feeds a book.Market that publishes to a fanout.Server on a real
// listener.
type tickerfan struct {
	t        testing.TB
	addr     string
	srv      *fanout.Server
	served   chan struct{}
	stopFeed context.CancelFunc
	feedDone chan struct{}
	feedOnce sync.Once
	downOnce sync.Once
}

// startTickerfan starts a server on addr ("127.0.0.1:0" for any port, or
// the address of one just shut down to restart it there).
func startTickerfan(t testing.TB, addr string, seed int64) *tickerfan {
	t.Helper()
	var ln net.Listener
	// a just-closed listener may still hold the port
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
	tf, err := serveTickerfan(zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)), ln, seed)
	if err != nil {
		t.Fatal(err)
	}
	tf.t = t
	t.Cleanup(tf.shutdown)
	return tf
}

// serveTickerfan serves on ln until shutdown.
func serveTickerfan(log *zap.Logger, ln net.Listener, seed int64) (*tickerfan, error) {
	products := model.DefaultProducts()
	srv, err := fanout.New(fanout.Config{}, products, log)
	if err != nil {
		return nil, err
	}
	market, err := book.NewMarket(book.Config{}, products, srv.Publish, log)
	if err != nil {
		return nil, err
	}
	src, err := sim.New("sim", sim.Config{Seed: seed, Tick: 10 * time.Millisecond, UpdatesPerSecond: 100}, products)
	if err != nil {
		return nil, err
	}
	tf := &tickerfan{addr: ln.Addr().String(), srv: srv, served: make(chan struct{}), feedDone: make(chan struct{})}
	go func() {
		defer close(tf.served)
		srv.Serve(ln)
	}()
	ctx, cancel := context.WithCancel(context.Background())
	tf.stopFeed = cancel
	go func() {
		defer close(tf.feedDone)
		src.Run(ctx, market.Apply)
	}()
	return tf, nil
}

func (tf *tickerfan) url() string { return "ws://" + tf.addr + "/" }

// quiet stops the simulator: from then on the books change no more.
func (tf *tickerfan) quiet() {
	tf.feedOnce.Do(func() {
		tf.stopFeed()
		<-tf.feedDone
	})
}

// shutdown stops the feed and the server (every connection gets 1001).
func (tf *tickerfan) shutdown() {
	tf.downOnce.Do(func() {
		tf.quiet()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		tf.srv.Shutdown(ctx)
		<-tf.served
	})
}

// restBook is GET /products/{id}/book?level=2, levels as [price, size].
type restBook struct {
	Bids     []client.Level `json:"bids"`
	Asks     []client.Level `json:"asks"`
	Sequence uint64         `json:"sequence"`
}

func (tf *tickerfan) book(product string) restBook {
	tf.t.Helper()
	resp, err := http.Get("http://" + tf.addr + "/products/" + product + "/book?level=2")
	if err != nil {
		tf.t.Fatalf("GET book: %v", err)
	}
	defer resp.Body.Close()
	var b restBook
	if err := json.NewDecoder(resp.Body).Decode(&b); err != nil {
		tf.t.Fatalf("GET book: %v", err)
	}
	return b
}

// checkFor polls cond until it returns "" or the deadline passes, then
// fails with what cond last said.
func checkFor(t testing.TB, d time.Duration, cond func() string) {
	t.Helper()
	testwait.For(t, d, "the condition", func() (string, bool) {
		msg := cond()
		return msg, msg == ""
	})
}

// dialClient connects a client and drains its messages in the background
// until the test ends.
func dialClient(t testing.TB, cfg client.Config) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for range c.Messages() {
		}
	}()
	t.Cleanup(func() { c.Close(); <-drained })
	return c
}

// proxy forwards TCP connections to an upstream until cut, which closes
// every connection it forwards.
type proxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func startProxy(t testing.TB, upstream string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln}
	go p.accept(upstream)
	t.Cleanup(func() { p.ln.Close(); p.cut() })
	return p
}

func (p *proxy) accept(upstream string) {
	for {
		down, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", upstream)
		if err != nil {
			down.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, down, up)
		p.mu.Unlock()
		go func() { io.Copy(up, down); up.Close() }()
		go func() { io.Copy(down, up); down.Close() }()
	}
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}
