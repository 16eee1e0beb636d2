package fanout

import (
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/fanout/transport"
	"github.com/tickerfan/tickerfan/model"
)

// benchTopic builds a server whose BTC-USD topic has n level2 subscribers that
// never flush (their flush is marked in progress), so the benchmark measures
// exactly the hub's work per event: apply to the replica, encode once, queue
// to every subscriber.
func benchTopic(b *testing.B, n int) (*Server, *topic, []*transport.Conn) {
	b.Helper()
	s, err := New(Config{MaxQueueBytes: 1 << 30}, model.DefaultProducts()[:1], nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Shutdown(b.Context()) })
	t := s.hub.topics[0]
	bids := []model.Level{{Price: decimal.RequireFromString("100.00"), Size: decimal.RequireFromString("1")}}
	asks := []model.Level{{Price: decimal.RequireFromString("101.00"), Size: decimal.RequireFromString("1")}}
	t.handle(&book.Event{Kind: book.EventSnapshot, Product: "BTC-USD", Seq: 1, Bids: bids, Asks: asks}, s.metrics)
	conns := make([]*transport.Conn, n)
	for i := range conns {
		conns[i] = s.tr.NewDetached()
		t.subs[chLevel2].Add(conns[i])
	}
	return s, t, conns
}

// BenchmarkFanout is the cost of one level2 event for n subscribers. The
// allocations per event stay constant as n grows: the frame is encoded once.
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{1, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			s, t, conns := benchTopic(b, n)
			sizes := []decimal.Decimal{decimal.RequireFromString("1.5"), decimal.RequireFromString("2.25")}
			ev := book.Event{Kind: book.EventUpdate, Product: "BTC-USD", Time: time.Now()}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if i%256 == 255 {
					b.StopTimer()
					for _, c := range conns {
						c.Discard()
					}
					b.StartTimer()
				}
				ev.Seq = uint64(i + 2)
				ev.Changes = []model.Change{{Side: model.Buy, Price: decimal.RequireFromString("100.00"), Size: sizes[i%2]}}
				t.handle(&ev, s.metrics)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/subscriber")
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}

// BenchmarkEncodeL2Update is the one-time encoding of a 10-change l2update.
func BenchmarkEncodeL2Update(b *testing.B) {
	p := model.DefaultProducts()[0]
	changes := make([]model.Change, 10)
	for i := range changes {
		changes[i] = model.Change{Side: model.Buy, Price: decimal.New(4300000+int64(i), -2), Size: decimal.New(12345678, -8)}
	}
	now := time.Now()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		encodeL2Update(&p, uint64(i), now, changes, bookSum{})
	}
}

// BenchmarkPublishView is what a shard adds per batch of events that changed
// a product: copying its book for REST (view.go), by book depth per side.
func BenchmarkPublishView(b *testing.B) {
	for _, depth := range []int{50, 1000, 10000} {
		b.Run(fmt.Sprintf("levels=%d", depth), func(b *testing.B) {
			s, err := New(Config{}, model.DefaultProducts()[:1], nil)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Shutdown(b.Context()) })
			t := s.hub.topics[0]
			var bids, asks []model.Level
			for i := 0; i < depth; i++ {
				bids = append(bids, model.Level{Price: decimal.New(int64(100000-i), -2), Size: decimal.New(1, 0)})
				asks = append(asks, model.Level{Price: decimal.New(int64(100001+i), -2), Size: decimal.New(1, 0)})
			}
			t.handle(&book.Event{Kind: book.EventSnapshot, Product: "BTC-USD", Seq: 1, Bids: bids, Asks: asks}, s.metrics)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t.mu.Lock()
				t.changed()
				t.publishView(time.Time{}, true)
				t.mu.Unlock()
			}
		})
	}
}
