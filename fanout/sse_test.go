package fanout

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"

	"github.com/tickerfan/tickerfan/internal/testwait"
)

// sseClient reads an event stream as curl would: a plain net/http GET and
// the body read line by line.
type sseClient struct {
	t      *testing.T
	nc     net.Conn
	r      *bufio.Reader
	lastID string
	retry  string
}

// event is one dispatched event.
type event struct {
	id   string // the last event id after it (the browser's lastEventId)
	data []byte
}

// openSSE GETs /sse?query with the given headers; rcvbuf > 0 shrinks the
// socket's receive buffer (a slow reader backs the server up quickly).
func openSSE(t *testing.T, addr, query string, hdr http.Header, rcvbuf int) (*sseClient, *http.Response) {
	t.Helper()
	c := &sseClient{t: t}
	tr := &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
		d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
			if rcvbuf > 0 {
				rc.Control(func(fd uintptr) { unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, rcvbuf) })
			}
			return nil
		}}
		nc, err := d.DialContext(ctx, network, a)
		c.nc = nc
		return nc, err
	}}
	req, _ := http.NewRequest("GET", "http://"+addr+"/sse?"+query, nil)
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := (&http.Client{Transport: tr, Timeout: 0}).Do(req)
	if err != nil {
		t.Fatalf("GET /sse?%s: %v", query, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	c.r = bufio.NewReader(resp.Body)
	return c, resp
}

// next returns the next event within d, skipping comments.
func (c *sseClient) next(d time.Duration) event {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(d))
	var data []byte
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("reading the event stream: %v", err)
		}
		line = strings.TrimSuffix(line, "\n")
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch {
		case line == "":
			if data != nil {
				return event{id: c.lastID, data: data}
			}
		case field == "id":
			c.lastID = value
		case field == "data":
			data = append(data, value...)
		case field == "retry":
			c.retry = value
		}
	}
}

// nextMsg decodes the next event's JSON.
func (c *sseClient) nextMsg(d time.Duration) map[string]any {
	c.t.Helper()
	ev := c.next(d)
	var m map[string]any
	if err := json.Unmarshal(ev.data, &m); err != nil {
		c.t.Fatalf("event data is not JSON: %v: %s", err, ev.data)
	}
	return m
}

func (c *sseClient) until(typ string, d time.Duration) map[string]any {
	c.t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); {
		if m := c.nextMsg(d); m["type"] == typ {
			return m
		}
	}
	c.t.Fatalf("no %s event within %v", typ, d)
	return nil
}

// restBook reads the level2 book REST serves.
func restBook(t *testing.T, addr string) (bids, asks [][]any, seq float64) {
	t.Helper()
	var rest struct {
		Bids, Asks [][]any
		Sequence   float64
	}
	getJSON(t, "http://"+addr+"/products/BTC-USD/book?level=2", &rest)
	return rest.Bids, rest.Asks, rest.Sequence
}

// catchUp reads level2 events until cb is at REST's sequence (the feed must
// be stopped) and fails unless cb is REST's book.
func (c *sseClient) catchUp(t *testing.T, addr string, cb *clientBook) {
	t.Helper()
	bids, asks, seq := restBook(t, addr)
	for cb.seq < seq {
		m := c.nextMsg(5 * time.Second)
		switch m["type"] {
		case "snapshot":
			cb.snapshot(t, m)
		case "l2update":
			cb.update(t, m)
		}
	}
	got, gotAsks := cb.b.Top(0, nil, nil)
	if fmtLevels(got) != fmtRest(bids) || fmtLevels(gotAsks) != fmtRest(asks) {
		t.Fatalf("event-stream book differs from the server's at sequence %v", seq)
	}
}

// An event stream carries the subscriptions reply first, then the snapshot,
// then updates, with ids naming the stream's sequence; reconnecting with
// Last-Event-ID resumes from history (no snapshot), or gets a snapshot once
// history no longer reaches back; the book stays exact throughout.
func TestSSEResume(t *testing.T) {
	ts := startServer(t, Config{ResumeHistory: 100}, simOpts{updates: 200, trades: 5, products: []string{"BTC-USD"}})
	const query = "product_ids=BTC-USD&channels=level2,matches"
	c, resp := openSSE(t, ts.addr, query, nil, 0)
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("GET /sse: %d %q, want 200 text/event-stream", resp.StatusCode, ct)
	}
	if m := c.nextMsg(2 * time.Second); m["type"] != "subscriptions" || c.retry != "1000" {
		t.Fatalf("first event %v (retry %q), want the subscriptions reply after retry: 1000", m["type"], c.retry)
	}
	cb := &clientBook{}
	cb.snapshot(t, c.until("snapshot", 2*time.Second))
	if want := fmt.Sprintf("BTC-USD/level2:%d", uint64(cb.seq)); c.lastID != want {
		t.Fatalf("snapshot id %q, want %q", c.lastID, want)
	}
	for i := 0; i < 20; i++ {
		cb.update(t, c.until("l2update", 2*time.Second))
	}
	id := c.lastID
	c.nc.Close() // the connection drops
	waitSequence(t, ts, cb.seq+40)

	c, _ = openSSE(t, ts.addr, query, http.Header{"Last-Event-ID": {id}}, 0)
	c.until("subscriptions", time.Second)
	first := c.until("l2update", 2*time.Second) // no snapshot first: guarantee checked by cb.update
	if first["sequence"].(float64) != cb.seq+1 {
		t.Fatalf("resumed at sequence %v, want %v", first["sequence"], cb.seq+1)
	}
	cb.update(t, first)
	for i := 0; i < 10; i++ {
		cb.update(t, c.until("l2update", 2*time.Second))
	}
	if ts.srv.metrics.resumes.Load() != 1 {
		t.Fatalf("resumes counter %d, want 1", ts.srv.metrics.resumes.Load())
	}
	id = c.lastID
	c.nc.Close()
	waitSequence(t, ts, cb.seq+150) // beyond resume_history: the missed updates are gone

	c, _ = openSSE(t, ts.addr, query, http.Header{"Last-Event-ID": {id}}, 0)
	c.until("subscriptions", time.Second)
	if m := c.until("snapshot", 2*time.Second); m["sequence"].(float64) < cb.seq+150 {
		t.Fatalf("fresh snapshot at %v, want at least %v", m["sequence"], cb.seq+150)
	} else {
		cb.snapshot(t, m)
	}
	ts.stop()
	c.catchUp(t, ts.addr, cb)
}

// waitSequence waits until BTC-USD's level2 stream reaches seq.
func waitSequence(t *testing.T, ts *testServer, seq float64) {
	t.Helper()
	testwait.For(t, 5*time.Second, "the level2 stream to move on", func() (string, bool) {
		got := restSequence(t, ts.addr, "BTC-USD")
		return fmt.Sprintf("sequence %v, want %v", got, seq), got >= seq
	})
}

// A bad query is answered 400 with a JSON error, as a bad subscribe is.
func TestSSEBadQuery(t *testing.T) {
	ts := startServer(t, Config{}, simOpts{updates: 10, products: []string{"BTC-USD"}})
	for _, tc := range []struct{ query, reason string }{
		{"product_ids=FOO-USD&channels=level2", "FOO-USD is not a valid product"},
		{"product_ids=BTC-USD&channels=tickers", "tickers is not a valid channel"},
		{"product_ids=BTC-USD", "No channels provided"},
		{"channels=ticker", "ticker requires product_ids"},
		{"product_ids=BTC-USD&channels=full", "channel full is not supported"},
		{"product_ids=BTC-USD&channels=level2&checksum=yes", "checksum must be 1 or true (got yes)"},
		{"product_id=BTC-USD&channels=level2", "unknown query parameter product_id"},
		{"channels=level2&ticker=FOO-USD", "level2 requires product_ids"},
	} {
		resp, err := http.Get("http://" + ts.addr + "/sse?" + tc.query)
		if err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		var body struct{ Message, Reason string }
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != 400 || err != nil || body.Message != "Failed to subscribe" || !strings.HasPrefix(body.Reason, tc.reason) {
			t.Errorf("%s: %d %+v (%v), want 400 Failed to subscribe %q", tc.query, resp.StatusCode, body, err, tc.reason)
		}
	}
}

// With allowed_origins set, a page of another origin can open neither the
// WebSocket nor the event stream (403, counted); allowed origins, wildcard
// subdomains and requests without Origin connect; a canary subscriber of an
// allowed origin sees every update meanwhile.
func TestAllowedOrigins(t *testing.T) {
	cfg := Config{AllowedOrigins: []string{"https://good.example", "*.example.com"}}
	ts := startServer(t, cfg, simOpts{updates: 200, trades: 5, products: []string{"BTC-USD"}})
	origin := func(o string) ws.Dialer {
		return ws.Dialer{Header: ws.HandshakeHeaderHTTP(http.Header{"Origin": {o}})}
	}
	canary := dialWith(t, origin("https://good.example"), ts.addr)
	canary.send(`{"type":"subscribe","product_ids":["BTC-USD"],"channels":["level2"]}`)
	cb := &clientBook{}
	cb.snapshot(t, canary.until("snapshot", 2*time.Second))

	for _, o := range []string{"https://evil.example", "http://good.example", "https://example.com.evil.net", "null"} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, _, _, err := origin(o).Dial(ctx, "ws://"+ts.addr+"/")
		cancel()
		if se, ok := err.(ws.StatusError); !ok || int(se) != 403 {
			t.Errorf("upgrade with Origin %s: %v, want HTTP 403", o, err)
		}
		_, resp := openSSE(t, ts.addr, "product_ids=BTC-USD&channels=level2", http.Header{"Origin": {o}}, 0)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 403 || !strings.Contains(string(body), "origin not allowed") {
			t.Errorf("/sse with Origin %s: %d %s, want 403", o, resp.StatusCode, body)
		}
	}
	for _, o := range []string{"https://good.example", "https://a.example.com", "http://b.c.example.com:8080", ""} {
		hdr := http.Header{}
		if o != "" {
			hdr.Set("Origin", o)
		}
		c, resp := openSSE(t, ts.addr, "product_ids=BTC-USD&channels=level2", hdr, 0)
		if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != o {
			t.Fatalf("/sse with Origin %q: %d (Access-Control-Allow-Origin %q), want 200 and the origin allowed",
				o, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
		c.until("snapshot", 2*time.Second)
		dialWith(t, origin(o), ts.addr) // fails the test unless upgraded
	}
	if n := refusedOrigin(t, ts.addr); n != 8 {
		t.Fatalf(`tickerfan_handshakes_refused_total{reason="origin"} = %v, want 8`, n)
	}
	for i := 0; i < 50; i++ { // checked update by update: no gap, no error
		cb.update(t, canary.until("l2update", 2*time.Second))
	}
}

func refusedOrigin(t *testing.T, addr string) float64 {
	t.Helper()
	return metricValue(t, addr, `tickerfan_handshakes_refused_total{reason="origin"}`)
}

// An event-stream reader that falls behind is conflated like a WebSocket
// one, and its book is exact once it reads again.
func TestSSESlowConsumer(t *testing.T) {
	cfg := Config{MaxQueueBytes: 64 << 10, SendBufferBytes: 8 << 10, WriteTimeout: time.Minute}
	ts := startServer(t, cfg, simOpts{updates: 4000, trades: 50, products: []string{"BTC-USD"}})
	c, _ := openSSE(t, ts.addr, "product_ids=BTC-USD&channels=level2,ticker,matches", nil, 4096)
	waitConflated(t, ts, 20*time.Second, "no conflation within 20s of not reading the event stream")
	if n := ts.srv.tr.Len(); n != 1 {
		t.Fatalf("slow event stream was disconnected (%d connections)", n)
	}
	cb := &clientBook{}
	snapshots := 0
	for end := time.Now().Add(1500 * time.Millisecond); time.Now().Before(end); {
		m := c.nextMsg(5 * time.Second)
		switch m["type"] {
		case "snapshot":
			snapshots++
			cb.snapshot(t, m)
		case "l2update":
			if cb.b != nil {
				cb.update(t, m)
			}
		}
	}
	if snapshots < 2 {
		t.Fatalf("%d snapshots: a conflated event stream must get a fresh one", snapshots)
	}
	ts.stop()
	c.catchUp(t, ts.addr, cb)
}
