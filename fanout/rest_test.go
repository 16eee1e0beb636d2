package fanout

import (
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"
)

func keys(m map[string]any) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

// The REST endpoints answer with the anchor's field names.
func TestRESTFieldNames(t *testing.T) {
	ts := startServer(t, Config{}, simOpts{updates: 100, trades: 50})
	waitTrades(t, ts.addr, "BTC-USD")
	base := "http://" + ts.addr
	var products []map[string]any
	if code := getJSON(t, base+"/products", &products); code != http.StatusOK || len(products) != 8 {
		t.Fatalf("/products: %d, %d products, want 200 and the 8 configured", code, len(products))
	}
	ids := []string{}
	for _, p := range products {
		ids = append(ids, p["id"].(string))
	}
	if got := strings.Join(ids, ","); got != "BTC-USD,ETH-USD,SOL-USD,ETH-BTC,DOGE-USD,AVAX-USD,LTC-USD,LINK-USD" {
		t.Fatalf("/products lists %s", got)
	}
	cases := []struct {
		path string
		keys string
	}{
		{
			path: "/products/BTC-USD",
			keys: "auction_mode,base_currency,base_increment,cancel_only,display_name,fx_stablecoin,id,limit_only," +
				"margin_enabled,min_market_funds,post_only,quote_currency,quote_increment,status,status_message,trading_disabled",
		},
		{path: "/products/BTC-USD/book?level=1", keys: "asks,auction,auction_mode,bids,sequence,time"},
		{path: "/products/BTC-USD/book?level=2", keys: "asks,auction,auction_mode,bids,sequence,time"},
		{path: "/products/BTC-USD/ticker", keys: "ask,bid,price,size,time,trade_id,volume"},
		{path: "/products/BTC-USD/stats", keys: "high,last,low,open,volume,volume_30day"},
		{path: "/time", keys: "epoch,iso"},
		{path: "/healthz", keys: "connections,products,products_online,status"},
	}
	for _, tc := range cases {
		var m map[string]any
		if code := getJSON(t, base+tc.path, &m); code != http.StatusOK {
			t.Errorf("%s: status %d", tc.path, code)
		}
		if got := keys(m); got != tc.keys {
			t.Errorf("%s keys:\n got %s\nwant %s", tc.path, got, tc.keys)
		}
	}
	var level1 map[string]any
	getJSON(t, base+"/products/BTC-USD/book?level=1", &level1)
	if n := len(level1["bids"].([]any)); n != 1 {
		t.Errorf("level 1 has %d bids, want 1", n)
	}
	var level2 map[string]any
	getJSON(t, base+"/products/BTC-USD/book?level=2", &level2)
	if n := len(level2["bids"].([]any)); n < 10 {
		t.Errorf("level 2 has %d bids, want the whole book", n)
	}
	var trades []map[string]any
	getJSON(t, base+"/products/BTC-USD/trades", &trades)
	if len(trades) == 0 || keys(trades[0]) != "price,side,size,time,trade_id" {
		t.Fatalf("/trades: %v", trades)
	}
	var currencies []map[string]any
	getJSON(t, base+"/currencies", &currencies)
	if len(currencies) == 0 || currencies[0]["id"] != "BTC" || currencies[0]["name"] != "Bitcoin" {
		t.Fatalf("/currencies: %v", currencies)
	}
	var nf map[string]any
	if code := getJSON(t, base+"/nothing/here", &nf); code != http.StatusNotFound || nf["message"] != "NotFound" {
		t.Fatalf("unknown path: %d %v", code, nf)
	}
	if code := getJSON(t, base+"/products/FOO-BAR", &nf); code != http.StatusNotFound {
		t.Fatalf("unknown product: %d", code)
	}
	if code := getJSON(t, base+"/products/BTC-USD/book?level=3", &nf); code != http.StatusBadRequest {
		t.Fatalf("level 3: %d %v", code, nf)
	}
}

// REST and /metrics never take a topic's lock: with the fan-out holding it,
// a deep book, the ticker, trades and a scrape are still answered (with the
// view the shard last copied).
func TestRESTDoesNotTakeTheTopicLock(t *testing.T) {
	ts := startServer(t, Config{}, simOpts{updates: 100, trades: 50, products: []string{"BTC-USD"}})
	waitTrades(t, ts.addr, "BTC-USD")
	restSequence(t, ts.addr, "BTC-USD") // REST is now asking: the shard keeps the view fresh
	topic := ts.srv.hub.topics[0]
	topic.mu.Lock()
	defer topic.mu.Unlock()
	client := http.Client{Timeout: 3 * time.Second}
	for _, path := range []string{"/products/BTC-USD/book?level=2", "/products/BTC-USD/ticker", "/products/BTC-USD/trades", "/products/BTC-USD/stats", "/metrics"} {
		resp, err := client.Get("http://" + ts.addr + path)
		if err != nil {
			t.Fatalf("GET %s with the topic locked: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s with the topic locked: %d", path, resp.StatusCode)
		}
	}
}
