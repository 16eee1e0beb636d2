package client_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tickerfan/tickerfan/client"
)

var testProducts = []string{"BTC-USD", "ETH-USD"}

// sameBook says how the client's book of product differs from the server's
// REST book, "" when it does not; texts are compared, so an equal decimal
// written differently is a difference too.
func sameBook(tf *tickerfan, c *client.Client, product string) string {
	return sameLevels(tf, c, product, true)
}

// sameLevels is sameBook, comparing sequences too when seq is set (the
// REST sequence is the level2 channel's, not level2_batch's).
func sameLevels(tf *tickerfan, c *client.Client, product string, seq bool) string {
	b, ok := c.Book(product)
	if !ok {
		return product + ": the client holds no book"
	}
	rest := tf.book(product)
	if seq && b.Sequence != rest.Sequence {
		return fmt.Sprintf("%s: client at sequence %d, server at %d", product, b.Sequence, rest.Sequence)
	}
	if d := diffLevels(b.Bids(), rest.Bids); d != "" {
		return product + " bids: " + d
	}
	if d := diffLevels(b.Asks(), rest.Asks); d != "" {
		return product + " asks: " + d
	}
	return ""
}

func diffLevels(got, want []client.Level) string {
	text := func(ls []client.Level) []string {
		var out []string
		for _, l := range ls {
			out = append(out, l.PriceText()+"@"+l.SizeText())
		}
		return out
	}
	g, w := text(got), text(want)
	if !slices.Equal(g, w) {
		return fmt.Sprintf("client %d levels %v\nserver %d levels %v", len(g), g, len(w), w)
	}
	if len(g) == 0 {
		return "empty"
	}
	return ""
}

func subscribe(t *testing.T, c *client.Client, channels ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Subscribe(ctx, testProducts, channels...); err != nil {
		t.Fatalf("Subscribe %v: %v", channels, err)
	}
}

func waitUpdates(t *testing.T, c *client.Client, n uint64) {
	t.Helper()
	checkFor(t, 10*time.Second, func() string {
		if st := c.Stats(); st.Updates < n {
			return fmt.Sprintf("%d updates applied, want %d (stats %+v)", st.Updates, n, st)
		}
		return ""
	})
}

// The client's books equal the server's, text for text, once the market is
// quiet, and every snapshot and update was verified against the checksum.
func TestBookEqualsServer(t *testing.T) {
	tf := startTickerfan(t, "127.0.0.1:0", 3)
	c := dialClient(t, client.Config{URL: tf.url(), Checksum: true})
	subscribe(t, c, "level2", "ticker")
	waitUpdates(t, c, 100)
	tf.Quiet()
	for _, p := range testProducts {
		checkFor(t, 5*time.Second, func() string { return sameBook(tf, c, p) })
	}
	st := c.Stats()
	if st.Checksums != st.Snapshots+st.Updates || st.Checksums < 100 {
		t.Errorf("checksums verified %d, want snapshots+updates %d (>= 100)", st.Checksums, st.Snapshots+st.Updates)
	}
	if st.Resyncs != 0 || st.Snapshots != uint64(len(testProducts)) {
		t.Errorf("stats %+v: want no resync and one snapshot per product", st)
	}
}

// A server restart: the client reconnects, cannot resume (sequences start
// at the new server's start time), gets fresh snapshots, and its books equal
// the new server's.
func TestBookAcrossRestart(t *testing.T) {
	tf := startTickerfan(t, "127.0.0.1:0", 3)
	c := dialClient(t, client.Config{URL: tf.url(), Checksum: true, BackoffMin: 20 * time.Millisecond, BackoffMax: 100 * time.Millisecond})
	subscribe(t, c, "level2_batch")
	waitUpdates(t, c, 20)
	tf.Shutdown()
	tf2 := startTickerfan(t, tf.Addr, 4)
	checkFor(t, 10*time.Second, func() string {
		if st := c.Stats(); st.Connects < 2 || st.Snapshots < 2*uint64(len(testProducts)) {
			return fmt.Sprintf("stats %+v: want a second connection and fresh snapshots", st)
		}
		return ""
	})
	before := c.Stats().Updates
	waitUpdates(t, c, before+20)
	tf2.Quiet()
	for _, p := range testProducts {
		checkFor(t, 5*time.Second, func() string { return sameLevels(tf2, c, p, false) })
	}
	if st := c.Stats(); st.Resumes != 0 || st.Resyncs != 0 {
		t.Errorf("stats %+v: want no resume across a restart, and no resync", st)
	}
}

// A dropped connection to a server that keeps running: the client resumes
// each book from its last sequence, receives only the missed updates (no
// snapshot), and stays exact. (The server resumes only subscriptions without
// the checksum extension: its history holds the frames without checksums.)
func TestBookResumesAfterDrop(t *testing.T) {
	tf := startTickerfan(t, "127.0.0.1:0", 5)
	px := startProxy(t, tf.Addr)
	c := dialClient(t, client.Config{URL: "ws://" + px.ln.Addr().String() + "/",
		BackoffMin: 50 * time.Millisecond, BackoffMax: 100 * time.Millisecond})
	subscribe(t, c, "level2")
	waitUpdates(t, c, 20)
	px.cut()
	checkFor(t, 10*time.Second, func() string {
		if st := c.Stats(); st.Connects < 2 || st.Resumes < uint64(len(testProducts)) {
			return fmt.Sprintf("stats %+v: want a second connection resuming every book", st)
		}
		return ""
	})
	tf.Quiet()
	for _, p := range testProducts {
		checkFor(t, 5*time.Second, func() string { return sameBook(tf, c, p) })
	}
	if st := c.Stats(); st.Snapshots != uint64(len(testProducts)) || st.Resyncs != 0 {
		t.Errorf("stats %+v: want only the first snapshots, no resync", st)
	}
}

// A subscribe the server refuses returns its *Error and changes nothing: the
// next reconnect does not send it again.
func TestSubscribeRefused(t *testing.T) {
	tf := startTickerfan(t, "127.0.0.1:0", 1)
	c := dialClient(t, client.Config{URL: tf.url()})
	subscribe(t, c, "ticker")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := c.Subscribe(ctx, []string{"FOO-USD"}, "ticker")
	var refused *client.Error
	if !errors.As(err, &refused) || refused.Reason != "FOO-USD is not a valid product" {
		t.Fatalf("Subscribe FOO-USD: %v, want the server's error naming FOO-USD", err)
	}
	if err := c.Subscribe(ctx, testProducts, "level2", "level2_batch"); !errors.Is(err, client.ErrTwoLevel2) {
		t.Errorf("Subscribe level2 and level2_batch: %v, want ErrTwoLevel2", err)
	}
}

// Messages arrive typed, with their frames as sent.
func TestMessagesTyped(t *testing.T) {
	tf := startTickerfan(t, "127.0.0.1:0", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Config{URL: tf.url()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go c.Subscribe(ctx, []string{"BTC-USD"}, "ticker", "matches", "heartbeat", "level2")
	go c.Subscribe(ctx, nil, "status")
	seen := map[string]bool{}
	want := []string{"connected", "subscriptions", "ticker", "match", "heartbeat", "snapshot", "l2update", "status"}
	for m := range c.Messages() {
		seen[strings.TrimPrefix(m.Type(), "last_")] = true
		if len(m.Raw()) == 0 || m.Raw()[0] != '{' {
			t.Fatalf("%s: raw %q", m.Type(), m.Raw())
		}
		if hb, ok := m.(*client.Heartbeat); ok && (hb.ProductID != "BTC-USD" || hb.Time.IsZero()) {
			t.Fatalf("heartbeat %+v", hb)
		}
		done := true
		for _, w := range want {
			done = done && seen[w]
		}
		if done {
			return
		}
		if ctx.Err() != nil {
			break
		}
	}
	t.Fatalf("saw %v, want every one of %v", seen, want)
}
