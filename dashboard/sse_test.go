package dashboard

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tickerfan/tickerfan/fanout"
)

// With WebSocket upgrades refused (allowed_origins names another site: a
// browser always sends Origin on an upgrade, never on a same-origin
// EventSource), the dashboard falls back to server-sent events by itself,
// says so, switches products by reopening the stream, and its ladder equals
// the REST book.
func TestDashboardFallsBackToSSE(t *testing.T) {
	cfg := fanout.Config{StatusInterval: time.Second, AllowedOrigins: []string{"https://elsewhere.example"}}
	tf := startTickerfanWith(t, "127.0.0.1:0", cfg, busyMarket(13), nil)
	p := newPage(t, 1280, 900)
	p.do(chromedp.Navigate(tf.url()))

	p.waitFor(wait, "live over SSE", `__tickerfan.state === 'live' && __tickerfan.transport === 'SSE'`, pageState)
	if shown := eval[string](p, `document.querySelector('[data-ref=conn-text]').textContent`); shown != "live · SSE" {
		t.Errorf("the page shows %q, want \"live · SSE\"", shown)
	}
	if n := refusedOrigins(t, tf); n < 2 {
		t.Errorf("%v upgrades refused for their origin, want the 2 attempts before the fallback", n)
	}
	waitProduct(p, "BTC-USD")
	checkSubscriptions(t, p, "BTC-USD")

	t.Log("switching product reopens the stream with the new query")
	p.do(chromedp.Click(chromedp.CSS(`[data-product-id="ETH-USD"]`)))
	waitProduct(p, "ETH-USD")
	checkSubscriptions(t, p, "ETH-USD")
	checkLadderMatchesREST(t, p, tf, "ETH-USD")
	if tr := eval[string](p, `__tickerfan.transport`); tr != "SSE" {
		t.Errorf("transport %q after the switch, want SSE", tr)
	}
	p.noExceptions()
}

func refusedOrigins(t *testing.T, tf *tickerfan) float64 {
	t.Helper()
	resp, err := http.Get("http://" + tf.Addr + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, `tickerfan_handshakes_refused_total{reason="origin"} `); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("/metrics: %q: %v", line, err)
			}
			return f
		}
	}
	return 0
}
