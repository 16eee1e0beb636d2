package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/tickerfan/tickerfan/internal/testwait"
)

// TestBooksExactThroughCoinbaseFeed runs the tool as a user does, against
// tickerfan fed by the tool's upstream, on each level2 channel: at the end
// every subscriber's every book is the upstream's.
func TestBooksExactThroughCoinbaseFeed(t *testing.T) {
	for _, channel := range []string{"level2", "level2_batch"} {
		t.Run(channel, func(t *testing.T) {
			p := Profile{
				Connections: 50, ConnectRate: 2000, Warmup: 500 * time.Millisecond, Duration: time.Second,
				PerConnection: 3, Channels: []string{channel, "ticker"},
				Upstream: UpstreamProfile{Enabled: true, UpstreamConfig: UpstreamConfig{Products: 4, UpdatesPerSecond: 100, Depth: 6}},
				Server:   ServerProfile{Start: tickerfanBinary(t)},
				Output:   OutputProfile{Quiet: true},
			}
			res := execute(t, p)
			b := res.Books
			if b == nil || !b.AllExact || !b.Settled || b.Subscribers != 50 || b.Exact != 50 || b.ProductBooks != 150 ||
				b.Capped != 0 || b.Unchecked != nil {
				t.Fatalf("books %+v; want all 150 product books of the 50 subscribers exact", b)
			}
			if res.Measured.ByType["l2update"] == 0 {
				t.Fatalf("no l2update in the window (%v): the books were not exercised", res.Measured.ByType)
			}
			var table bytes.Buffer
			WriteTable(&table, res)
			if !strings.Contains(table.String(), "50 of 50 level2 subscribers' books exact (150 of 150 product books)") {
				t.Fatalf("table lacks the books line:\n%s", table.String())
			}
		})
	}
}

// bookRun is a swarm of level2 subscribers on a tickerfan fed by an
// upstream, as runner.setup builds it, but with the server's config in the
// test's hands.
func bookRun(t *testing.T, up UpstreamConfig, serverYAML string, conns int) *runner {
	t.Helper()
	u, err := StartUpstream("127.0.0.1:0", up)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.Close() })
	srv := startTickerfan(t, fedBy(u)+serverYAML)
	p := Profile{
		Target: "ws://" + srv.addr + "/", Connections: conns, ConnectRate: 2000, PerConnection: 2,
		Channels: []string{"level2"}, Upstream: UpstreamProfile{Enabled: true, UpstreamConfig: up},
	}.WithDefaults()
	sw, err := NewSwarm(p, u.Products())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sw.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sw.Open(ctx, conns)
	testwait.For(t, 10*time.Second, "subscribers subscribed", func() (string, bool) {
		n := sw.subscribed.Load()
		return fmt.Sprintf("%d of %d", n, conns), n == int64(conns)
	})
	return &runner{p: p, up: u, swarm: sw}
}

// TestBooksCheckFindsAWrongLevel makes the upstream send the server a level
// its own book does not hold: tickerfan relays it faithfully, so every
// subscriber of that product holds a book the upstream does not have, and
// the check must say so, naming the level.
func TestBooksCheckFindsAWrongLevel(t *testing.T) {
	r := bookRun(t, UpstreamConfig{Products: 2, UpdatesPerSecond: 50, Depth: 5}, "", 10)
	r.up.sendPhantom(t, "T001-USD", "0.5")
	// The check ends once nothing has arrived for a while; make sure the
	// phantom is not still on its way.
	url := strings.Replace(r.p.Target, "ws://", "http://", 1) + "products/T001-USD/book?level=2"
	testwait.For(t, 5*time.Second, "tickerfan to hold the phantom level", func() (string, bool) {
		resp, err := http.Get(url)
		if err != nil {
			return err.Error(), false
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body), bytes.Contains(body, []byte(`["100.06","0.50000000"`))
	})
	b := r.checkBooks(context.Background())
	// Each subscriber takes both products; T001-USD's books are all wrong.
	if b == nil || b.AllExact || b.Subscribers != 10 || b.Exact != 0 || b.ProductBooks != 20 || b.ExactBooks != 10 {
		t.Fatalf("books %+v; want T001-USD wrong at each of the 10 subscribers, T002-USD right", b)
	}
	m := b.Mismatches[0]
	want := BookMismatch{Subscriber: m.Subscriber, Product: "T001-USD", Problem: "extra level", Side: "asks", Price: "100.06", Got: "0.5", Sequence: m.Sequence}
	if len(b.Mismatches) != 10 || m != want || m.Sequence == 0 {
		t.Fatalf("%d mismatches, first %+v; want %+v", len(b.Mismatches), m, want)
	}
	var table bytes.Buffer
	WriteTable(&table, &Result{Books: b})
	for _, line := range []string{"0 of 10 level2 subscribers' books exact (10 of 20 product books)",
		"T001-USD: extra level at asks 100.06: want none, got 0.5", "7 more product books"} {
		if !strings.Contains(table.String(), line) {
			t.Errorf("table lacks %q:\n%s", line, table.String())
		}
	}
}

// TestBooksCheckComparesCappedBooks runs tickerfan keeping 3 levels a side
// of the upstream's 5: its subscribers hold the best 3, and the check
// compares those and says so.
func TestBooksCheckComparesCappedBooks(t *testing.T) {
	r := bookRun(t, UpstreamConfig{Products: 2, UpdatesPerSecond: 50, Depth: 5}, "book:\n  max_levels: 3\n", 10)
	b := r.checkBooks(context.Background())
	if b == nil || !b.AllExact || b.ProductBooks != 20 || b.Capped != 20 || b.CappedDepth != 3 || b.UpstreamDepth != 5 {
		t.Fatalf("books %+v; want 20 exact product books, compared 3 levels deep of 5", b)
	}
}

// sendPhantom makes the upstream tell the feeds of product a level its book
// does not hold: an ask one cent beyond its depth, of size, in an l2update
// with the next level2 sequence. No later update touches that level.
func (u *Upstream) sendPhantom(t *testing.T, product, size string) {
	t.Helper()
	i := u.index[product]
	u.mu.Lock()
	defer u.mu.Unlock()
	sent := 0
	for c := range u.conns {
		c.mu.Lock()
		if c.subscribedLevel2(i) {
			b := c.books[i]
			b.seq++
			b.l2seq++
			msg := append([]byte(`{"type":"l2update","product_id":`), b.quotedID...)
			msg = append(msg, `,"changes":[["sell",`...)
			msg = appendPrice(msg, b.mid+int64(len(b.asks)+1))
			msg = append(msg, `,"`+size+`"]],"time":`...)
			msg = appendTime(msg, time.Now())
			msg = append(append(msg, `,"sequence":`...), strconv.FormatInt(b.l2seq, 10)+"}"...)
			c.out = appendFrame(c.out, ws.OpText, msg)
			if c.flushLocked() {
				u.sent[i].l2.Add(1)
				sent++
			}
		}
		c.mu.Unlock()
	}
	if sent != 1 {
		t.Fatalf("the phantom level went to %d feeds, want 1", sent)
	}
}
