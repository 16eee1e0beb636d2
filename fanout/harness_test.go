package fanout

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/feed/sim"
	"github.com/tickerfan/tickerfan/model"
)

// testServer is a real server on 127.0.0.1 fed by the simulator through a
// real book.Market.
type testServer struct {
	srv    *Server
	addr   string
	stop   context.CancelFunc // stops the feed
	feedWG sync.WaitGroup
}

type simOpts struct {
	updates, trades float64
	products        []string
	depth           int
}

func startServer(t *testing.T, cfg Config, so simOpts) *testServer {
	t.Helper()
	var products []model.Product
	for _, p := range model.DefaultProducts() {
		if len(so.products) == 0 || contains(so.products, p.ID) {
			products = append(products, p)
		}
	}
	srv, market, addr := startMarketServer(t, cfg, products)
	sim, err := sim.New("sim", sim.Config{
		Seed: 7, UpdatesPerSecond: so.updates, TradesPerSecond: so.trades, Tick: 5 * time.Millisecond, Depth: so.depth,
	}, products)
	if err != nil {
		t.Fatalf("NewSimulator: %v", err)
	}
	ts := &testServer{srv: srv, addr: addr}
	ctx, cancel := context.WithCancel(context.Background())
	ts.stop = func() { cancel(); ts.feedWG.Wait() }
	ts.feedWG.Add(1)
	go func() {
		defer ts.feedWG.Done()
		sim.Run(ctx, market.Apply)
	}()
	t.Cleanup(ts.stop) // cleanups run last first: the feed stops before the server
	return ts
}

// startMarketServer is a real server on 127.0.0.1 of products, fed by a
// book.Market the test drives itself. The server shuts down with the test.
func startMarketServer(t *testing.T, cfg Config, products []model.Product) (*Server, *book.Market, string) {
	t.Helper()
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	srv, err := New(cfg, products, log)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	market, err := book.NewMarket(book.Config{}, products, srv.Publish, log)
	if err != nil {
		t.Fatalf("NewMarket: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	return srv, market, ln.Addr().String()
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// client is a plain WebSocket client for tests.
type client struct {
	t  *testing.T
	nc net.Conn
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	return dialWith(t, ws.Dialer{}, addr)
}

func dialWith(t *testing.T, d ws.Dialer, addr string) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	nc, _, _, err := d.Dial(ctx, "ws://"+addr+"/")
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { nc.Close() })
	return &client{t: t, nc: nc}
}

func (c *client) send(msg string) {
	c.t.Helper()
	if err := wsutil.WriteClientText(c.nc, []byte(msg)); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// next reads the next text message within d and decodes it.
func (c *client) next(d time.Duration) map[string]any {
	c.t.Helper()
	raw := c.nextRaw(d)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		c.t.Fatalf("message is not JSON: %v: %s", err, raw)
	}
	return m
}

func (c *client) nextRaw(d time.Duration) []byte {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(d))
	defer c.nc.SetReadDeadline(time.Time{})
	for {
		data, op, err := wsutil.ReadServerData(c.nc)
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		if op == ws.OpText {
			return data
		}
	}
}

// until reads messages until one has the given type, returning it.
func (c *client) until(typ string, d time.Duration) map[string]any {
	c.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		m := c.next(time.Until(deadline))
		if m["type"] == typ {
			return m
		}
	}
	c.t.Fatalf("no %q message within %s", typ, d)
	return nil
}

// closeCode reads until the server's close frame and returns its code and reason.
func (c *client) closeCode(d time.Duration) (ws.StatusCode, string) {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(d))
	for {
		h, err := ws.ReadHeader(c.nc)
		if err != nil {
			c.t.Fatalf("no close frame: %v", err)
		}
		payload := make([]byte, h.Length)
		if _, err := io.ReadFull(c.nc, payload); err != nil {
			c.t.Fatalf("read payload: %v", err)
		}
		if h.OpCode == ws.OpClose {
			code, reason := ws.ParseCloseFrameData(payload)
			return code, reason
		}
	}
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: body is not JSON: %v", url, err)
	}
	return resp.StatusCode
}

func sprint(v any) string { return fmt.Sprint(v) }

// restSequence is a product's level2 sequence as REST's book reports it.
func restSequence(t *testing.T, addr, id string) float64 {
	t.Helper()
	var b struct{ Sequence float64 }
	getJSON(t, "http://"+addr+"/products/"+id+"/book?level=1", &b)
	return b.Sequence
}

// metricValue is the value of an unlabelled metric on /metrics, 0 if absent.
func metricValue(t *testing.T, addr, name string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("/metrics %s: %v", name, err)
			}
			return f
		}
	}
	return 0
}
