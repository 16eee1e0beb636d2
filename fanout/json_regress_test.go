package fanout

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// Issue 9, item 1: strings on the wire are JSON, not Go syntax, and error
// replies echo at most maxEcho bytes of what the client named.
func TestErrorReplyIsJSON(t *testing.T) {
	ts := startServer(t, Config{}, simOpts{updates: 10, trades: 1, products: []string{"BTC-USD"}})
	long := strings.Repeat("Z", 1000)
	for _, tc := range []struct {
		name, id, reason string
	}{
		{"control character", "A\u0007B", "A\u0007B is not a valid product"},
		{"invalid utf8 escaped by the client", `\udc00X`, "\ufffdX is not a valid product"},
		{"line separator", "A\u2028B", "A\u2028B is not a valid product"},
		{"long id echoed clipped", long, long[:maxEcho] + "… is not a valid product"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, ts.addr)
			id, _ := json.Marshal(tc.id)
			if strings.HasPrefix(tc.id, `\u`) {
				id = []byte(`"` + tc.id + `"`) // a lone surrogate, as a client may send it
			}
			c.send(`{"type":"subscribe","product_ids":[` + string(id) + `],"channels":["ticker"]}`)
			raw := c.nextRaw(5 * time.Second)
			var m struct{ Type, Message, Reason string }
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatalf("error reply is not JSON: %v: %q", err, raw)
			}
			if m.Type != "error" || m.Reason != tc.reason {
				t.Fatalf("got type %q reason %q, want error %q", m.Type, m.Reason, tc.reason)
			}
		})
	}
}
