package client_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/tickerfan/tickerfan/client"
	"github.com/tickerfan/tickerfan/feed/sim"
	"github.com/tickerfan/tickerfan/internal/testwait"
	"github.com/tickerfan/tickerfan/internal/tftest"
)

// tickerfan is an in-process tickerfan (internal/tftest) and the test that
// runs it.
type tickerfan struct {
	*tftest.Server
	t testing.TB
}

// startTickerfan starts a server on addr ("127.0.0.1:0" for any port, or
// the address of one just shut down to restart it there).
func startTickerfan(t testing.TB, addr string, seed int64) *tickerfan {
	t.Helper()
	return &tickerfan{Server: tftest.Start(t, tftest.Options{Addr: addr, Sim: market(seed)}), t: t}
}

// market is the simulated market of the client tests.
func market(seed int64) sim.Config { return sim.Config{Seed: seed, UpdatesPerSecond: 100} }

func (tf *tickerfan) url() string { return "ws://" + tf.Addr + "/" }

// restBook is GET /products/{id}/book?level=2, levels as [price, size].
type restBook struct {
	Bids     []client.Level `json:"bids"`
	Asks     []client.Level `json:"asks"`
	Sequence uint64         `json:"sequence"`
}

func (tf *tickerfan) book(product string) restBook {
	tf.t.Helper()
	resp, err := http.Get("http://" + tf.Addr + "/products/" + product + "/book?level=2")
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
