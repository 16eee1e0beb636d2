package coinbase_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/feed"
	"github.com/tickerfan/tickerfan/feed/coinbase"
	"github.com/tickerfan/tickerfan/feed/feedtest"
	"github.com/tickerfan/tickerfan/internal/testwait"
	"github.com/tickerfan/tickerfan/model"
)

// farLevels is an l2update adding n bids ever further below 1.00: a valid
// 2.6 MB message, as in issue 9, item 7.
func farLevels(n int) []byte {
	b := []byte(`{"type":"l2update","product_id":"BTC-USD","time":"2026-01-02T03:04:05.000000Z","changes":[`)
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `["buy","0.`...)
		b = strconv.AppendInt(b, int64(1e7-i), 10)
		b = append(b, `","1"]`...)
	}
	return append(b, "]}"...)
}

// Issue 9, item 7: a deep l2update leaves the book at book.max_levels per
// side, and a message whose header announces more than max_message_bytes is
// refused (counted too_big) from the header alone, before its payload.
func TestDeepUpstreamBounded(t *testing.T) {
	const far = 100_000
	var conns atomic.Int32
	up := feedtest.NewServer(t, func(c *feedtest.Conn) {
		if conns.Add(1) > 1 {
			<-c.Closed() // after the reconnect: nothing more to send
			return
		}
		if _, err := c.Next(5 * time.Second); err != nil {
			return
		}
		c.Send([]byte(`{"type":"snapshot","product_id":"BTC-USD","bids":[["100.00","1"]],"asks":[["101.00","1"]]}`))
		c.Send(farLevels(far))
		c.Send([]byte(`{"type":"l2update","product_id":"BTC-USD","time":"2026-01-02T03:04:05.000000Z","changes":[["buy","100.50","2"]]}`))
		hdr := []byte{0x81, 127, 0, 0, 0, 0, 0, 0, 0, 0}
		binary.BigEndian.PutUint64(hdr[2:], 1<<30) // 1 GiB announced, never sent
		c.SendRaw(hdr)
		<-c.Closed()
	})
	products := catalog(t, "BTC-USD")
	log := zaptest.NewLogger(t, zaptest.Level(zap.ErrorLevel))
	src, err := coinbase.New("up", coinbase.Config{
		URL: up.URL(), Channels: []string{"level2"}, MaxMessageBytes: 4 << 20,
		BackoffMin: 10 * time.Millisecond, BackoffMax: 100 * time.Millisecond, StaleTimeout: time.Minute,
	}, products, log)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	maxBids, marker := 0, false
	market, err := book.NewMarket(book.Config{}, products, func(book.Event) {}, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- src.Run(ctx, func(u model.Update) {
			mu.Lock()
			defer mu.Unlock()
			market.Apply(u)
			b := market.Book("BTC-USD")
			maxBids = max(maxBids, b.Len(model.Buy))
			if best, ok := b.Best(model.Buy); ok && best.Price.String() == "100.5" {
				marker = true
			}
		})
	}()
	defer func() { cancel(); <-done }()

	var tooBig uint64
	waitFor(t, 20*time.Second, func() string {
		mu.Lock()
		defer mu.Unlock()
		tooBig = src.Status().Malformed[feed.ReasonTooBig]
		if marker && tooBig == 1 {
			return ""
		}
		return fmt.Sprintf("marker applied %v, too_big %d, bids %d", marker, tooBig, maxBids)
	})
	mu.Lock()
	defer mu.Unlock()
	if maxBids != 10_000 {
		t.Fatalf("book held up to %d bids, want book.max_levels' default 10000", maxBids)
	}
	c := market.Counters()
	// The snapshot's bid and the far ones overflow by far+1-10000; the marker
	// then pushes out one more.
	if want := uint64(far + 2 - 10_000); c.LevelsTrimmed+c.BeyondDepth != want {
		t.Fatalf("dropped %d levels (trimmed %d, beyond depth %d), want %d", c.LevelsTrimmed+c.BeyondDepth, c.LevelsTrimmed, c.BeyondDepth, want)
	}
}

// waitFor polls cond until it returns "" or d passes, then fails with what it
// last said.
func waitFor(t *testing.T, d time.Duration, cond func() string) {
	t.Helper()
	testwait.For(t, d, "the condition", func() (string, bool) {
		msg := cond()
		return msg, msg == ""
	})
}
