package dashboard

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// scripted stands in for tickerfan with a socket the test writes by hand, for
// what the simulator does not produce on demand: server errors, sequence
// gaps, resync snapshots, close codes. It serves the dashboard, a two-product
// catalog and /ws; each upgraded connection is handed to the test.
type scripted struct {
	t     *testing.T
	srv   *httptest.Server
	conns chan net.Conn
}

// scriptedProducts has a second product with other increments, to check
// formatting: prices to 3 places, sizes to 1.
const scriptedProducts = `[
 {"id":"BTC-USD","base_currency":"BTC","quote_currency":"USD","quote_increment":"0.01","base_increment":"0.00000001",
  "display_name":"BTC-USD","status":"online","status_message":""},
 {"id":"XYZ-USD","base_currency":"XYZ","quote_currency":"USD","quote_increment":"0.001","base_increment":"0.1",
  "display_name":"XYZ-USD","status":"online","status_message":""}]`

func startScripted(t *testing.T) *scripted {
	t.Helper()
	s := &scripted{t: t, conns: make(chan net.Conn, 4)}
	mux := http.NewServeMux()
	h := Handler()
	mux.Handle("GET /{$}", h)
	mux.Handle("GET "+AssetPrefix, h)
	mux.HandleFunc("GET /products", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, scriptedProducts)
	})
	mux.HandleFunc("GET /products/{id}/trades", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, "[]")
	})
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		conn, _, _, err := ws.UpgradeHTTP(r, w)
		if err != nil {
			return
		}
		s.conns <- conn
	})
	s.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		s.srv.CloseClientConnections()
		s.srv.Close()
	})
	return s
}

// accept waits for the page's next WebSocket connection.
func (s *scripted) accept() net.Conn {
	s.t.Helper()
	select {
	case c := <-s.conns:
		s.t.Cleanup(func() { c.Close() })
		return c
	case <-time.After(wait):
		s.t.Fatalf("the page did not connect within %s", wait)
		return nil
	}
}

// read reads the page's next message.
func (s *scripted) read(c net.Conn) map[string]any {
	s.t.Helper()
	c.SetReadDeadline(time.Now().Add(wait))
	data, err := wsutil.ReadClientText(c)
	if err != nil {
		s.t.Fatalf("read the page's message: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		s.t.Fatalf("the page sent %q: %v", data, err)
	}
	return m
}

// send writes one server message.
func (s *scripted) send(c net.Conn, msg string) {
	s.t.Helper()
	if err := wsutil.WriteServerText(c, []byte(msg)); err != nil {
		s.t.Fatalf("send: %v", err)
	}
}

func asJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// expectMessage fails unless msg, re-encoded, equals want (also JSON).
func expectMessage(t *testing.T, msg map[string]any, want string) {
	t.Helper()
	var w map[string]any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want %s: %v", want, err)
	}
	if asJSON(msg) != asJSON(w) {
		t.Errorf("the page sent\n %s\nwant\n %s", asJSON(msg), asJSON(w))
	}
}

// TestDashboardProtocol plays a script to the page and checks what it draws
// and what it sends back: exact book keeping from snapshot and l2update
// (prices keyed exactly, padded to the increment), a plain rendering of a
// server error, a resync after a sequence gap, a fresh snapshot replacing
// the book, the taker's side of a match, the reason of a close frame, a
// resubscription after reconnecting, and product choice by first letter.
func TestDashboardProtocol(t *testing.T) {
	s := startScripted(t)
	p := newPage(t, 1280, 900)
	p.do(chromedp.Navigate(s.srv.URL + "/"))
	c := s.accept()
	expectMessage(t, s.read(c), `{"type":"subscribe","product_ids":["BTC-USD"],"channels":["level2","matches","heartbeat",
		{"name":"ticker","product_ids":["BTC-USD","XYZ-USD"]},"status"]}`)
	s.send(c, `{"type":"subscriptions","channels":[{"name":"level2","product_ids":["BTC-USD"]}]}`)

	t.Log("ticker and status of another product: formatted to its increment, offline shown")
	s.send(c, `{"type":"ticker","product_id":"XYZ-USD","price":"1.5","open_24h":"1.25","volume_24h":"1234.56789","time":"2026-01-02T03:04:05.000001Z"}`)
	s.send(c, `{"type":"status","products":[{"id":"BTC-USD","status":"online"},{"id":"XYZ-USD","status":"offline","status_message":"upstream down"}]}`)
	p.waitFor(wait, "showing XYZ-USD's ticker and status", `(e => e.querySelector('[data-testid=product-price]').textContent === '1.500' &&
		e.querySelector('.change').textContent === '+20.00%' && e.classList.contains('offline'))(document.querySelector('[data-product-id="XYZ-USD"]')) &&
		document.querySelector('[data-testid=feed-status]').textContent.includes('XYZ-USD: upstream down')`,
		`document.querySelector('[data-product-id="XYZ-USD"]').textContent + ' / ' + document.querySelector('[data-testid=feed-status]').textContent`)

	t.Log("snapshot, then an l2update that removes a level spelled differently")
	s.send(c, `{"type":"snapshot","product_id":"BTC-USD","bids":[["100.5","1.5"],["100.4","2"]],"asks":[["100.60","0.25"],["100.7","1"]],"sequence":10}`)
	expectLadder(t, p, 10, [][2]string{{"100.50", "1.50000000"}, {"100.40", "2.00000000"}},
		[][2]string{{"100.60", "0.25000000"}, {"100.70", "1.00000000"}}, "Spread 0.10 ")
	s.send(c, `{"type":"l2update","product_id":"BTC-USD","changes":[["buy","100.45","3"],["sell","100.6","0"],["sell","100.80","0.5"]],"time":"2026-01-02T03:04:05.5Z","sequence":11}`)
	expectLadder(t, p, 11, [][2]string{{"100.50", "1.50000000"}, {"100.45", "3.00000000"}, {"100.40", "2.00000000"}},
		[][2]string{{"100.70", "1.00000000"}, {"100.80", "0.50000000"}}, "Spread 0.20 ")

	t.Log("a server error is shown as sent")
	s.send(c, `{"type":"error","message":"Failed to subscribe","reason":"FOO-USD is not a valid product"}`)
	p.waitFor(wait, "showing the error", `[...document.querySelectorAll('[data-testid=server-error]')].some(e =>
		e.textContent.includes('Failed to subscribe: FOO-USD is not a valid product'))`, `document.querySelector('[data-testid=server-errors]').textContent`)

	t.Log("a sequence gap: the page asks for a fresh snapshot")
	s.send(c, `{"type":"l2update","product_id":"BTC-USD","changes":[["buy","100.46","1"]],"time":"2026-01-02T03:04:06Z","sequence":13}`)
	expectMessage(t, s.read(c), `{"type":"unsubscribe","product_ids":["BTC-USD"],"channels":["level2"]}`)
	expectMessage(t, s.read(c), `{"type":"subscribe","product_ids":["BTC-USD"],"channels":["level2"]}`)
	p.waitFor(wait, "marking the book stale", `!__tickerfan.rendered.ready && __tickerfan.resyncs === 1 &&
		document.querySelector('[data-testid=book-state]').textContent.includes('stale')`, pageState)
	s.send(c, `{"type":"snapshot","product_id":"BTC-USD","bids":[["99.9","1"]],"asks":[["100.1","2"]],"sequence":20}`)
	expectLadder(t, p, 20, [][2]string{{"99.90", "1.00000000"}}, [][2]string{{"100.10", "2.00000000"}}, "Spread 0.20 ")

	t.Log("a match: the maker sold, so the taker bought")
	s.send(c, `{"type":"match","trade_id":7,"side":"sell","size":"0.5","price":"100.1","product_id":"BTC-USD","sequence":5,"time":"2026-01-02T03:04:07Z"}`)
	p.waitFor(wait, "showing trade 7", `(e => e && e.classList.contains('buy') && e.querySelector('[data-testid=trade-price]').textContent === '100.10' &&
		e.querySelector('.size').textContent === '0.50000000')(document.querySelector('[data-trade-id="7"]'))`,
		`document.querySelector('[data-testid=tape]').innerHTML`)

	t.Log("closed by the server: the reason is shown, the page reconnects and subscribes afresh")
	ws.WriteFrame(c, ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusPolicyViolation, "rate limit exceeded")))
	c.Close()
	p.waitFor(wait, "reconnecting with the reason", `__tickerfan.state === 'reconnecting' &&
		document.querySelector('[data-testid=conn-state]').textContent.includes('rate limit exceeded')`, pageState)
	c = s.accept()
	expectMessage(t, s.read(c), `{"type":"subscribe","product_ids":["BTC-USD"],"channels":["level2","matches","heartbeat",
		{"name":"ticker","product_ids":["BTC-USD","XYZ-USD"]},"status"]}`)
	p.waitFor(wait, "live again with a stale book", `__tickerfan.state === 'live' && !__tickerfan.rendered.ready`, pageState)
	s.send(c, `{"type":"status","products":[{"id":"BTC-USD","status":"online"},{"id":"XYZ-USD","status":"offline","status_message":"upstream down"}]}`)

	t.Log("typing a product's first letter switches to it")
	p.do(chromedp.Focus(chromedp.CSS(`[data-testid=product-list]`)), chromedp.KeyEvent("x"))
	expectMessage(t, s.read(c), `{"type":"unsubscribe","product_ids":["BTC-USD"],"channels":["level2","matches","heartbeat"]}`)
	expectMessage(t, s.read(c), `{"type":"subscribe","product_ids":["XYZ-USD"],"channels":["level2","matches","heartbeat"]}`)
	s.send(c, `{"type":"snapshot","product_id":"XYZ-USD","bids":[["1.49","10"]],"asks":[["1.5","2.25"]],"sequence":1}`)
	p.waitFor(wait, "showing XYZ-USD offline", `document.querySelector('[data-testid=product-status]').textContent === 'XYZ-USD is offline: upstream down'`, pageState)
	expectLadder(t, p, 1, [][2]string{{"1.490", "10.0"}}, [][2]string{{"1.500", "2.25"}}, "Spread 0.010 ")
	p.noExceptions()
}

// expectLadder waits until the page has drawn sequence seq and compares the
// ladder's levels and spread.
func expectLadder(t *testing.T, p *page, seq int, bids, asks [][2]string, spread string) {
	t.Helper()
	p.waitFor(wait, fmt.Sprintf("drawn at sequence %d", seq), fmt.Sprintf(`__tickerfan.rendered.seq === %d`, seq), pageState)
	shown := eval[shownBook](p, readLadder)
	if !slices.Equal(shown.Bids, bids) || !slices.Equal(shown.Asks, asks) || !strings.HasPrefix(shown.Spread, spread) {
		t.Errorf("at sequence %d the ladder shows bids %v asks %v %q;\nwant bids %v asks %v %q…",
			seq, shown.Bids, shown.Asks, shown.Spread, bids, asks, spread)
	}
}
