package fanout

import (
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tickerfan/tickerfan/internal/testwait"
	"github.com/tickerfan/tickerfan/model"
)

// TestRoundSendsNewestTicker holds a product's fan-out while ten trades
// queue: when it resumes, matches subscribers get every match, in order,
// and ticker subscribers the newest ticker only, not ten. A round of a few
// trades (here: one) still sends its ticker.
func TestRoundSendsNewestTicker(t *testing.T) {
	products := []model.Product{model.DefaultProducts()[0]}
	id := products[0].ID
	srv, market, addr := startMarketServer(t, Config{}, products)
	trade := func(n int64) {
		market.Apply(model.Update{Kind: model.KindTrade, Product: id, Time: time.Now(), Sequence: n,
			Trade: model.Trade{TradeID: n, Side: model.Sell, Price: decimal.New(4_000_000+n, -2), Size: decimal.New(n, -3)}})
	}
	c := dial(t, addr)
	c.send(`{"type":"subscribe","product_ids":["` + id + `"],"channels":["ticker","matches"]}`)
	c.until("subscriptions", 5*time.Second)

	top, sh := srv.hub.topics[0], srv.hub.shards[0]
	inboxLen := func() int {
		sh.mu.Lock()
		defer sh.mu.Unlock()
		return len(srv.hub.inboxes[0].evs)
	}
	top.mu.Lock() // the fan-out stalls on trade 1's round
	trade(1)
	testwait.For(t, 5*time.Second, "the fan-out to take trade 1", func() (string, bool) {
		n := inboxLen()
		return fmt.Sprintf("inbox holds %d", n), n == 0
	})
	const last = 11
	for n := int64(2); n <= last; n++ {
		trade(n) // queue behind the stalled round: the next round holds ten trades
	}
	top.mu.Unlock()

	var matches, tickers []int64
	testwait.For(t, 10*time.Second, "the ticker of the last trade", func() (string, bool) {
		m := c.next(5 * time.Second)
		switch m["type"] {
		case "match":
			matches = append(matches, int64(m["trade_id"].(float64)))
		case "ticker":
			tickers = append(tickers, int64(m["trade_id"].(float64)))
		}
		return fmt.Sprintf("matches %v, tickers %v", matches, tickers), len(tickers) > 0 && tickers[len(tickers)-1] == last
	})
	if fmt.Sprint(tickers) != "[1 11]" {
		t.Errorf("tickers %v; want trade 1's (a round of one) and then only the newest, 11", tickers)
	}
	// Matches go out before their round's ticker, on the same connection.
	for i, id := range matches {
		if len(matches) != last || id != int64(i+1) {
			t.Fatalf("matches %v; want 1 to %d in order", matches, last)
		}
	}
	if n := metricValue(t, addr, "tickerfan_tickers_superseded_total"); n != last-2 {
		t.Errorf("tickers_superseded_total %v, want %d", n, last-2)
	}
}
