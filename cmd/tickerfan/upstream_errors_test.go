package main

import (
	"net/http"
	"testing"

	"github.com/tickerfan/tickerfan/feed"
	"github.com/tickerfan/tickerfan/feed/feedtest"
)

// A scripted upstream sends garbage, a wrong type, a negative size, an
// unknown product and has a sequence gap: each is counted in /metrics, the
// service keeps serving, and the books stay exact.
func TestUpstreamMalformedCounted(t *testing.T) {
	inject := map[int][]string{
		100: {`{"type":"l2update","product_id":"BTC-USD",` + "\x00garbage"},
		200: {`{"type":"l2update","product_id":"BTC-USD","changes":[["buy",100.5,"1"]]}`},
		300: {`{"type":"l2update","product_id":"ETH-USD","changes":[["sell","2400.00","-3"]],"time":"2026-01-01T00:00:06.000000Z"}`},
		400: {`{"type":"match","product_id":"FOO-USD","trade_id":1,"side":"buy","size":"1","price":"1"}`},
		500: {`{"type":"auction","product_id":"BTC-USD"}`},
	}
	ex, _, up := scripted(t, feedtest.ExchangeConfig{L2Sequence: true}, 1000, func(s *feedtest.Script) {
		s.BeforeStep = func(step int, c *feedtest.Conn) {
			for _, m := range inject[step] {
				c.Send([]byte(m))
			}
		}
		// A real gap: the exchange applies this l2update, the relay never sees it.
		s.Drop = func(step int, m feedtest.Message) bool {
			return step == 600 && m.Product == "BTC-USD" && m.Channel == feedtest.ChannelLevel2
		}
	})
	p := startProcess(t, "-config", relayConfig(t, up.URL(), ""))
	waitExact(t, ex, 1000, p.addr)
	for _, id := range upstreamProducts {
		waitTrade(t, ex, p.addr, id)
	}
	malformed := func(reason string) string {
		return `tickerfan_feed_malformed_total{feed="up",reason="` + reason + `"}`
	}
	want := map[string]float64{
		malformed(feed.ReasonBadJSON): 1, malformed(feed.ReasonBadField): 1, malformed(feed.ReasonNegativeSize): 1,
		malformed(feed.ReasonUnknownProduct): 1, malformed(feed.ReasonUnknownType): 1,
		`tickerfan_feed_gaps_total{feed="up"}`: 1, `tickerfan_feed_resyncs_total{feed="up"}`: 2,
		`tickerfan_feed_reconnects_total{feed="up"}`: 0, `tickerfan_feed_state{feed="up",state="live"}`: 1,
	}
	var names []string
	for n := range want {
		names = append(names, n)
	}
	got := scrape(t, p.addr, names...)
	for n, v := range want {
		if got[n] != v {
			t.Errorf("%s = %v, want %v", n, got[n], v)
		}
	}
	resp, err := http.Get("http://" + p.addr + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	f := feeds(t, p.addr)[0]["malformed"].(map[string]any)
	if f[feed.ReasonNegativeSize] != 1.0 || f[feed.ReasonUnknownProduct] != 1.0 {
		t.Errorf("/feeds malformed %v", f)
	}
}
