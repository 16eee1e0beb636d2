package fanout

import (
	"bytes"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/tickerfan/tickerfan/internal/testwait"
)

func TestBadRequestsGetErrorsAndKeepTheConnection(t *testing.T) {
	ts := startServer(t, Config{}, simOpts{updates: 50, trades: 5})
	c := dial(t, ts.addr)
	cases := []struct {
		name    string
		msg     string
		message string
		reason  string
	}{
		{
			name:    "unknown product",
			msg:     `{"type":"subscribe","product_ids":["FOO-USD"],"channels":["ticker"]}`,
			message: "Failed to subscribe",
			reason:  "FOO-USD is not a valid product",
		},
		{
			name:    "unknown channel",
			msg:     `{"type":"subscribe","product_ids":["BTC-USD"],"channels":["tickers"]}`,
			message: "Failed to subscribe",
			reason:  "tickers is not a valid channel",
		},
		{
			name:    "invalid JSON",
			msg:     `{"type":"subscribe","product_ids":[`,
			message: "Malformed JSON",
			reason:  "unexpected end of JSON input",
		},
		{
			name:    "level3",
			msg:     `{"type":"subscribe","product_ids":["BTC-USD"],"channels":["level3"]}`,
			message: "Failed to subscribe",
			reason:  "channel level3 is not supported",
		},
		{
			name:    "full",
			msg:     `{"type":"subscribe","product_ids":["BTC-USD"],"channels":["full"]}`,
			message: "Failed to subscribe",
			reason:  "channel full is not supported",
		},
		{
			name:    "user",
			msg:     `{"type":"subscribe","product_ids":["BTC-USD"],"channels":[{"name":"user","product_ids":["BTC-USD"]}]}`,
			message: "Failed to subscribe",
			reason:  "channel user is not supported",
		},
		{
			name:    "bad type",
			msg:     `{"type":"subscrib","product_ids":["BTC-USD"],"channels":["ticker"]}`,
			message: "Failed to subscribe",
			reason:  "type has to be either subscribe or unsubscribe",
		},
		{
			name:    "no channels",
			msg:     `{"type":"subscribe","product_ids":["BTC-USD"]}`,
			message: "Failed to subscribe",
			reason:  "No channels provided",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c.t = t
			c.send(tc.msg)
			m := c.next(2 * time.Second)
			if m["type"] != "error" || m["message"] != tc.message || !strings.HasPrefix(m["reason"].(string), tc.reason) {
				t.Fatalf("got %v, want error %q reason %q", m, tc.message, tc.reason)
			}
		})
	}
	c.t = t
	// Still usable, and nothing of the failed requests was subscribed.
	c.send(`{"type":"subscribe","product_ids":["SOL-USD"],"channels":["heartbeat"],"key":"k","timestamp":1700000000.5,"signature":"s","passphrase":"p"}`)
	m := c.next(2 * time.Second)
	if m["type"] != "subscriptions" {
		t.Fatalf("after errors got %v, want subscriptions", m)
	}
	if got := m["channels"].([]any); len(got) != 1 {
		t.Fatalf("subscriptions %v: failed requests leaked into the state", got)
	}
	if m := c.until("heartbeat", 3*time.Second); m["product_id"] != "SOL-USD" {
		t.Fatalf("heartbeat for %v", m["product_id"])
	}
}

func TestUnsubscribe(t *testing.T) {
	ts := startServer(t, Config{}, simOpts{updates: 50, trades: 5})
	c := dial(t, ts.addr)
	c.send(`{"type":"subscribe","product_ids":["BTC-USD","ETH-USD"],"channels":["heartbeat",{"name":"ticker","product_ids":["ETH-BTC"]},"status"]}`)
	c.until("subscriptions", time.Second)
	c.send(`{"type":"unsubscribe","product_ids":["ETH-USD"],"channels":["heartbeat"]}`)
	m := c.until("subscriptions", time.Second)
	want := "[map[name:heartbeat product_ids:[BTC-USD]] map[name:status product_ids:[]] map[name:ticker product_ids:[ETH-BTC]]]"
	if got := sprint(m["channels"]); got != want {
		t.Fatalf("after unsubscribe:\n got %s\nwant %s", got, want)
	}
	c.send(`{"type":"unsubscribe","channels":["heartbeat","status"]}`)
	m = c.until("subscriptions", time.Second)
	if got := sprint(m["channels"]); got != "[map[name:ticker product_ids:[ETH-BTC]]]" {
		t.Fatalf("after dropping whole channels: %s", got)
	}
}

func TestOversizedFrameClosesWith1009(t *testing.T) {
	ts := startServer(t, Config{}, simOpts{updates: 10, trades: 1})
	c := dial(t, ts.addr)
	big := bytes.Repeat([]byte("a"), 1<<20)
	// The server may close before the whole frame is written; that is fine.
	go wsutil.WriteClientText(c.nc, big)
	code, reason := c.closeCode(5 * time.Second)
	if code != ws.StatusMessageTooBig {
		t.Fatalf("close code %d (%q), want 1009", code, reason)
	}
}

func TestBinaryFrameCloses(t *testing.T) {
	ts := startServer(t, Config{}, simOpts{updates: 10, trades: 1})
	c := dial(t, ts.addr)
	wsutil.WriteClientBinary(c.nc, []byte{0xde, 0xad})
	if code, _ := c.closeCode(5 * time.Second); code != ws.StatusUnsupportedData {
		t.Fatalf("close code %d, want 1003", code)
	}
}

func TestFloodClosesWith1008(t *testing.T) {
	ts := startServer(t, Config{MessagesPerSecond: 5, MessageBurst: 10}, simOpts{updates: 10, trades: 1})
	c := dial(t, ts.addr)
	go func() {
		for i := 0; i < 50; i++ {
			if wsutil.WriteClientText(c.nc, []byte(`{"type":"subscribe","product_ids":["BTC-USD"],"channels":["heartbeat"]}`)) != nil {
				return
			}
		}
	}()
	code, reason := c.closeCode(5 * time.Second)
	if code != ws.StatusPolicyViolation || reason != "rate limit exceeded" {
		t.Fatalf("close %d %q, want 1008 rate limit exceeded", code, reason)
	}
}

func TestPingAnsweredAtOnce(t *testing.T) {
	ts := startServer(t, Config{}, simOpts{updates: 10, trades: 1})
	c := dial(t, ts.addr)
	if err := wsutil.WriteClientMessage(c.nc, ws.OpPing, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	c.nc.SetReadDeadline(time.Now().Add(2 * time.Second))
	h, err := ws.ReadHeader(c.nc)
	if err != nil || h.OpCode != ws.OpPong {
		t.Fatalf("got %v %v, want pong", h.OpCode, err)
	}
	payload := make([]byte, h.Length)
	c.nc.Read(payload)
	if string(payload) != "hi" {
		t.Fatalf("pong payload %q, want the ping's", payload)
	}
}

// A client that sends half a frame must not hold a worker: with one worker,
// another client is still served.
func TestHalfFrameDoesNotStallWorkers(t *testing.T) {
	ts := startServer(t, Config{Workers: 1}, simOpts{updates: 10, trades: 1})
	slow := dial(t, ts.addr)
	frame := ws.MaskFrameInPlace(ws.NewTextFrame([]byte(`{"type":"subscribe","product_ids":["BTC-USD"],"channels":["heartbeat"]}`)))
	raw, _ := ws.CompileFrame(frame)
	slow.nc.Write(raw[:len(raw)/2])
	// No wait for the server to read the half frame: nothing on the wire
	// shows it, and the test needs none. With one worker, the other client's
	// answer shows the half frame did not keep the worker, whenever it was read.

	other := dial(t, ts.addr)
	other.send(`{"type":"subscribe","product_ids":["ETH-USD"],"channels":["heartbeat"]}`)
	if m := other.next(2 * time.Second); m["type"] != "subscriptions" {
		t.Fatalf("other client got %v", m)
	}
	slow.nc.Write(raw[len(raw)/2:])
	if m := slow.next(2 * time.Second); m["type"] != "subscriptions" {
		t.Fatalf("the half frame, completed, was not handled: %v", m)
	}
}

func TestFragmentedMessage(t *testing.T) {
	ts := startServer(t, Config{}, simOpts{updates: 10, trades: 1})
	c := dial(t, ts.addr)
	msg := []byte(`{"type":"subscribe","product_ids":["BTC-USD"],"channels":["heartbeat"]}`)
	parts := []ws.Frame{
		ws.NewFrame(ws.OpText, false, msg[:10]),
		ws.NewFrame(ws.OpContinuation, false, msg[10:30]),
		ws.NewFrame(ws.OpContinuation, true, msg[30:]),
	}
	for _, f := range parts {
		if err := ws.WriteFrame(c.nc, ws.MaskFrame(f)); err != nil {
			t.Fatal(err)
		}
	}
	if m := c.next(2 * time.Second); m["type"] != "subscriptions" {
		t.Fatalf("fragmented subscribe answered with %v", m)
	}
}

func TestShutdownSendsGoingAway(t *testing.T) {
	ts := startServer(t, Config{}, simOpts{updates: 10, trades: 1})
	c := dial(t, ts.addr)
	c.send(`{"type":"subscribe","product_ids":["BTC-USD"],"channels":["heartbeat"]}`)
	c.until("subscriptions", time.Second)
	go ts.srv.Shutdown(t.Context())
	code, reason := c.closeCode(5 * time.Second)
	if code != ws.StatusGoingAway || reason != "server shutting down" {
		t.Fatalf("close %d %q, want 1001 server shutting down", code, reason)
	}
	testwait.For(t, 3*time.Second, "the listener to close after Shutdown", func() (string, bool) {
		conn, err := net.DialTimeout("tcp", ts.addr, 200*time.Millisecond)
		if err != nil {
			return err.Error(), true
		}
		conn.Close()
		return "still accepting", false
	})
}

func TestNoSubscribeTimeout(t *testing.T) {
	ts := startServer(t, Config{SubscribeTimeout: 300 * time.Millisecond}, simOpts{updates: 10, trades: 1})
	c := dial(t, ts.addr)
	code, reason := c.closeCode(5 * time.Second)
	if code != ws.StatusPolicyViolation || reason != "no subscription received in time" {
		t.Fatalf("close %d %q", code, reason)
	}
}
