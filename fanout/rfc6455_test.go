package fanout

import (
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// closeBody is a close frame payload with any code, even one ws refuses to build.
func closeBody(code uint16, reason string) []byte {
	return append([]byte{byte(code >> 8), byte(code)}, reason...)
}

// sendFrames writes client (masked) frames as they are, valid or not.
func (c *client) sendFrames(frames ...ws.Frame) {
	c.t.Helper()
	for _, f := range frames {
		if err := ws.WriteFrame(c.nc, ws.MaskFrame(f)); err != nil {
			c.t.Fatalf("write frame: %v", err)
		}
	}
}

// Issue 9, item 8: the server answers protocol and encoding errors with the
// close code RFC 6455 asks for, and echoes only the close codes a peer may send.
func TestRFC6455Close(t *testing.T) {
	ts := startServer(t, Config{}, simOpts{updates: 10, trades: 1, products: []string{"BTC-USD"}})
	text := func(fin bool, p string) ws.Frame { return ws.NewFrame(ws.OpText, fin, []byte(p)) }
	cont := func(fin bool, p string) ws.Frame { return ws.NewFrame(ws.OpContinuation, fin, []byte(p)) }
	closeWith := func(p []byte) ws.Frame { return ws.NewFrame(ws.OpClose, true, p) }
	cases := []struct {
		name   string
		frames []ws.Frame
		want   ws.StatusCode
	}{
		{"invalid utf8 text", []ws.Frame{text(true, "{\"type\":\"subscribe\",\"product_ids\":[\"\xff\"]}")}, ws.StatusInvalidFramePayloadData},
		{"invalid utf8 across fragments", []ws.Frame{text(false, "{\"type\":\"sub\xe2"), cont(true, "(scribe\"}")}, ws.StatusInvalidFramePayloadData},
		{"rune cut by the last fragment", []ws.Frame{text(false, `{"a":"`), cont(true, "\xe2\x82")}, ws.StatusInvalidFramePayloadData},
		{"one-byte close", []ws.Frame{closeWith([]byte{0x03})}, ws.StatusProtocolError},
		{"close 999", []ws.Frame{closeWith(closeBody(999, ""))}, ws.StatusProtocolError},
		{"close 1004", []ws.Frame{closeWith(closeBody(1004, ""))}, ws.StatusProtocolError},
		{"close 1005", []ws.Frame{closeWith(closeBody(1005, ""))}, ws.StatusProtocolError},
		{"close 1006", []ws.Frame{closeWith(closeBody(1006, ""))}, ws.StatusProtocolError},
		{"close 1015", []ws.Frame{closeWith(closeBody(1015, ""))}, ws.StatusProtocolError},
		{"close 1016", []ws.Frame{closeWith(closeBody(1016, ""))}, ws.StatusProtocolError},
		{"close 2999", []ws.Frame{closeWith(closeBody(2999, ""))}, ws.StatusProtocolError},
		{"close 5000", []ws.Frame{closeWith(closeBody(5000, ""))}, ws.StatusProtocolError},
		{"close 65535", []ws.Frame{closeWith(closeBody(65535, ""))}, ws.StatusProtocolError},
		{"close reason not utf8", []ws.Frame{closeWith(closeBody(1000, "bye\xff"))}, ws.StatusInvalidFramePayloadData},
		{"empty close answered 1000", []ws.Frame{closeWith(nil)}, ws.StatusNormalClosure},
		{"close 1000 echoed", []ws.Frame{closeWith(closeBody(1000, "bye"))}, ws.StatusNormalClosure},
		{"close 1001 echoed", []ws.Frame{closeWith(closeBody(1001, ""))}, ws.StatusGoingAway},
		{"close 4000 echoed", []ws.Frame{closeWith(closeBody(4000, "app"))}, 4000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, ts.addr)
			c.sendFrames(tc.frames...)
			if code, reason := c.closeCode(5 * time.Second); code != tc.want {
				t.Fatalf("closed with %d %q, want %d", code, reason, tc.want)
			}
		})
	}
}

// A rune split across fragments is valid text: the message is handled.
func TestRFC6455SplitRune(t *testing.T) {
	ts := startServer(t, Config{}, simOpts{updates: 10, trades: 1, products: []string{"BTC-USD"}})
	c := dial(t, ts.addr)
	c.sendFrames(
		ws.NewFrame(ws.OpText, false, []byte("{\"type\":\"subscribe\",\"product_ids\":[\"\xe2\x82")),
		ws.NewFrame(ws.OpContinuation, true, []byte("\xac\"],\"channels\":[\"ticker\"]}")),
	)
	if m := c.next(5 * time.Second); m["type"] != "error" || m["reason"] != "€ is not a valid product" {
		t.Fatalf("got %v, want an error naming €", m)
	}
}
