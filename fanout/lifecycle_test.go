package fanout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/tickerfan/tickerfan/internal/testwait"
	"github.com/tickerfan/tickerfan/model"
)

// newIdleServer is a server with no feed, for lifecycle tests.
func newIdleServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	srv, err := New(cfg, model.DefaultProducts()[:1], nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return srv
}

// Serve and Shutdown called at once: on the old code Serve wrote s.ln and
// s.httpSrv while shutdown read them (-race reports it), and a Serve that
// lost the race accepted forever.
func TestServeRacingShutdown(t *testing.T) {
	for i := 0; i < 20; i++ {
		srv := newIdleServer(t, Config{})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		served := make(chan error, 1)
		go func() { served <- srv.Serve(ln) }()
		if err := srv.Shutdown(context.Background()); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		select {
		case err := <-served:
			if !errors.Is(err, ErrClosed) {
				t.Fatalf("Serve returned %v, want ErrClosed", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("round %d: Serve still running 5s after Shutdown returned", i)
		}
	}
}

// Connections arriving while Shutdown runs: on the old code a handshake's
// hsWG.Add(1) could run after hsWG.Wait() began (-race reports it), and
// the handshake went on after Shutdown returned.
func TestShutdownDuringConnectionStorm(t *testing.T) {
	for i := 0; i < 10; i++ {
		srv := newIdleServer(t, Config{})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go srv.Serve(ln)
		addr := ln.Addr().String()
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					if c, err := net.Dial("tcp", addr); err == nil {
						fmt.Fprintf(c, "GET /time HTTP/1.1\r\nHost: x\r\n\r\n")
						c.Close()
					}
				}
			}()
		}
		testwait.For(t, 5*time.Second, "the listener to take connections", func() (string, bool) {
			return "", srv.Addr() != nil
		})
		if err := srv.Shutdown(context.Background()); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		close(stop)
		wg.Wait()
	}
}

// While Shutdown drains subscribers, /healthz answers 503 as the README says
// (on the old code the listener was already closed: connection refused), and
// GET /ws without an upgrade answers as GET / does.
func TestHealthDuringDrain(t *testing.T) {
	cfg := Config{MaxQueueBytes: 64 << 10, SendBufferBytes: 8 << 10, WriteTimeout: time.Minute, ShutdownTimeout: 3 * time.Second}
	ts := startServer(t, cfg, simOpts{updates: 4000, trades: 50, products: []string{"BTC-USD"}})
	c := dialSmall(t, ts.addr)
	c.send(`{"type":"subscribe","product_ids":["BTC-USD"],"channels":["level2"]}`)
	waitConflated(t, ts, 5*time.Second, "the subscriber that never reads was not conflated")

	go ts.srv.Shutdown(context.Background())
	testwait.For(t, 2*time.Second, "GET /healthz to answer 503 during the drain", func() (string, bool) {
		resp, err := http.Get("http://" + ts.addr + "/healthz")
		if err != nil {
			return err.Error(), false
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return fmt.Sprintf("%d %s", resp.StatusCode, body), resp.StatusCode == http.StatusServiceUnavailable
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, _, _, err := ws.Dial(ctx, "ws://"+ts.addr+"/")
	var status ws.StatusError
	if !errors.As(err, &status) || int(status) != http.StatusServiceUnavailable {
		t.Fatalf("an upgrade during the drain got %v, want HTTP 503", err)
	}
}

func TestWSPathWithoutUpgradeIsRoot(t *testing.T) {
	ts := startServer(t, Config{}, simOpts{updates: 10, trades: 1})
	ts.srv.Handle("GET /{$}", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "root page") }))
	for _, path := range []string{"/", "/ws"} {
		resp, err := http.Get("http://" + ts.addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(body) != "root page" {
			t.Errorf("GET %s: %d %q, want 200 \"root page\"", path, resp.StatusCode, body)
		}
	}
}
