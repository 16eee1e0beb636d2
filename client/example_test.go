package client_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"time"

	"go.uber.org/zap"

	"github.com/tickerfan/tickerfan/client"
	"github.com/tickerfan/tickerfan/internal/tftest"
)

// Subscribe to tickers and keep an exact book, verified by checksum, while
// printing each trade price.
func Example() {
	tf := exampleServer() // an in-process tickerfan on 127.0.0.1
	defer tf.Shutdown()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Config{URL: tf.url(), Checksum: true})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if err := c.Subscribe(ctx, []string{"BTC-USD"}, "ticker", "level2"); err != nil {
		log.Fatal(err)
	}
	for m := range c.Messages() {
		switch m := m.(type) {
		case *client.Ticker:
			_ = m.Price // an exact decimal.Decimal
		case *client.L2Update:
			b, _ := c.Book(m.ProductID)
			bid, ask, _ := b.Best()
			fmt.Println("spread positive:", ask.Price.GreaterThan(bid.Price))
			return
		}
	}
	// Output: spread positive: true
}

// Decode parses a message by its type; Raw keeps the JSON as received.
func ExampleDecode() {
	m, err := client.Decode([]byte(`{"type":"heartbeat","last_trade_id":17,"product_id":"BTC-USD","sequence":1240,"time":"2026-11-21T12:00:01.000001Z"}`))
	if err != nil {
		log.Fatal(err)
	}
	hb := m.(*client.Heartbeat)
	fmt.Println(hb.ProductID, hb.LastTradeID, hb.Time.Format(time.RFC3339))
	// Output: BTC-USD 17 2026-11-21T12:00:01Z
}

func exampleServer() *tickerfan {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	s, err := tftest.Serve(ln, zap.NewNop(), tftest.Options{Sim: market(1)})
	if err != nil {
		log.Fatal(err)
	}
	return &tickerfan{Server: s}
}
