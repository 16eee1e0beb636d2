package coinbase_test

import (
	"context"
	"testing"
	"time"

	"github.com/tickerfan/tickerfan/feed/coinbase"
	"github.com/tickerfan/tickerfan/feed/feedtest"
	"github.com/tickerfan/tickerfan/model"
)

// BenchmarkCoinbaseAdapter measures the whole adapter: WebSocket frames off
// a local socket, decoded and normalized into Updates, one l2update (two
// changes) per message. go test ./feed/coinbase -bench Adapter -run ^$
func BenchmarkCoinbaseAdapter(b *testing.B) {
	snapshot := []byte(`{"type":"snapshot","product_id":"BTC-USD","bids":[["43000.00","1"],["42999.99","1"]],"asks":[["43000.01","1"]]}`)
	update := []byte(`{"type":"l2update","product_id":"BTC-USD","changes":[["buy","43000.00","1.5"],["buy","42999.99","0.25"]],"time":"2026-11-21T12:00:00.123456Z"}`)
	n := b.N
	up := feedtest.NewServer(b, func(c *feedtest.Conn) {
		if _, err := c.Next(5 * time.Second); err != nil {
			return
		}
		c.Send(snapshot)
		for range n {
			if c.Send(update) != nil {
				return
			}
		}
		<-c.Closed()
	})
	src, err := coinbase.New("bench", coinbase.Config{URL: up.URL(), Channels: []string{"level2"}},
		model.DefaultProducts()[:1], nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	got := 0
	b.ReportAllocs()
	b.SetBytes(int64(len(update)))
	b.ResetTimer()
	go func() {
		defer close(done)
		src.Run(ctx, func(u model.Update) {
			if u.Kind == model.KindChanges {
				if got++; got == n {
					cancel()
				}
			}
		})
	}()
	<-done
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
}
