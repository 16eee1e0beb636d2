package fanout

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tickerfan/tickerfan/model"
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

// Issue 9, item 1: a match whose order ids hold a control character or
// invalid UTF-8 from the upstream reaches matches subscribers as JSON.
func TestMatchWithControlCharacterIsJSON(t *testing.T) {
	addr, market := startBareServer(t)
	c := dial(t, addr)
	c.send(`{"type":"subscribe","product_ids":["BTC-USD"],"channels":["matches"]}`)
	c.until("subscriptions", 5*time.Second)
	market.Apply(model.Update{Kind: model.KindTrade, Product: "BTC-USD", Time: time.Now(), Trade: model.Trade{
		TradeID: 1, MakerOrderID: "A\u0007B", TakerOrderID: "t-\xff", Side: model.Sell,
		Price: decimal.RequireFromString("101"), Size: decimal.New(1, 0),
	}})
	m := c.until("match", 5*time.Second) // fails on a message that is not JSON
	if m["maker_order_id"] != "A\u0007B" || m["taker_order_id"] != "t-\ufffd" {
		t.Fatalf("got %v, want order ids A\\aB and t-\\ufffd", m)
	}
}
