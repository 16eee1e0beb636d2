package coinbase_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/feed"
	"github.com/tickerfan/tickerfan/feed/coinbase"
	"github.com/tickerfan/tickerfan/feed/feedtest"
	"github.com/tickerfan/tickerfan/internal/testwait"
	"github.com/tickerfan/tickerfan/model"
)

// harness runs a Coinbase feed against a scripted upstream and applies what
// it emits to a book.Market, as tickerfan does.
type harness struct {
	t      *testing.T
	ex     *feedtest.Exchange
	script *feedtest.Script
	up     *feedtest.Server
	src    *coinbase.Feed

	mu       sync.Mutex
	market   *book.Market
	statuses []model.Update
	kinds    map[model.Kind]int
	trades   []int64
	stop     func()
}

type harnessOpts struct {
	ex     feedtest.ExchangeConfig
	steps  int
	script func(*feedtest.Script)
	feed   func(*coinbase.Config)
}

func newHarness(t *testing.T, o harnessOpts) *harness {
	t.Helper()
	if len(o.ex.Products) == 0 {
		o.ex.Products = []string{"BTC-USD", "ETH-USD"}
	}
	ex, err := feedtest.NewExchange(o.ex)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, ex: ex, kinds: map[model.Kind]int{}}
	h.script = &feedtest.Script{Exchange: ex, Steps: o.steps, HeartbeatEvery: 25}
	if o.script != nil {
		o.script(h.script)
	}
	h.up = feedtest.NewServer(t, h.script.Serve)
	cfg := coinbase.Config{
		URL:        h.up.URL(),
		Channels:   []string{"level2", "ticker", "matches", "heartbeat"},
		BackoffMin: 10 * time.Millisecond, BackoffMax: 100 * time.Millisecond,
		StaleTimeout: 30 * time.Second, ResyncTimeout: 5 * time.Second,
	}
	if o.feed != nil {
		o.feed(&cfg)
	}
	products := catalog(t, o.ex.Products...)
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	if h.src, err = coinbase.New("up", cfg, products, log); err != nil {
		t.Fatal(err)
	}
	if h.market, err = book.NewMarket(book.Config{}, products, func(book.Event) {}, log); err != nil {
		t.Fatal(err)
	}
	h.start()
	return h
}

func (h *harness) start() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.src.Run(ctx, h.emit) }()
	h.stop = func() {
		cancel()
		if err := <-done; err != nil {
			h.t.Errorf("Run: %v", err)
		}
	}
	h.t.Cleanup(func() {
		if h.stop != nil {
			h.stop()
		}
	})
}

func (h *harness) emit(u model.Update) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.kinds[u.Kind]++
	switch u.Kind {
	case model.KindStatus:
		h.statuses = append(h.statuses, u)
	case model.KindTrade:
		h.trades = append(h.trades, u.Trade.TradeID)
	}
	h.market.Apply(u)
}

func catalog(t *testing.T, ids ...string) []model.Product {
	t.Helper()
	var out []model.Product
	for _, p := range model.DefaultProducts() {
		if slices.Contains(ids, p.ID) {
			out = append(out, p)
		}
	}
	if len(out) != len(ids) {
		t.Fatalf("unknown products in %v", ids)
	}
	return out
}

// bookOf renders the market's book of id like feedtest.FormatLevels.
func (h *harness) bookOf(id string) (string, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	bids, asks := h.market.Book(id).Top(0, nil, nil)
	return feedtest.FormatLevels(bids), feedtest.FormatLevels(asks)
}

// waitExact waits until the script has played every step and every book
// equals the exchange's, and fails the test if that does not happen in 10s.
func (h *harness) waitExact(steps int) {
	h.t.Helper()
	testwait.For(h.t, 10*time.Second, "books exact", func() (string, bool) {
		diff := ""
		if got := h.ex.Steps(); got < steps {
			diff = "exchange at step " + strconv.Itoa(got)
		}
		for _, id := range h.ex.Products() {
			bids, asks := h.ex.Book(id)
			gb, ga := h.bookOf(id)
			if diff == "" && (gb != feedtest.FormatLevels(bids) || ga != feedtest.FormatLevels(asks)) {
				diff = id + ":\n got bids " + gb + "\nwant bids " + feedtest.FormatLevels(bids) +
					"\n got asks " + ga + "\nwant asks " + feedtest.FormatLevels(asks)
			}
			if got, want := h.lastTrade(id), h.ex.LastTradeID(id); diff == "" && got != want {
				diff = id + ": last trade " + strconv.FormatInt(got, 10) + ", want " + strconv.FormatInt(want, 10)
			}
		}
		return diff, diff == ""
	})
	if err := h.ex.Err(); err != nil {
		h.t.Fatalf("exchange: %v", err)
	}
	c := h.counters()
	if rej := c.RejectedCrossed + c.RejectedUnknownLevel + c.RejectedNegativeSize + c.RejectedBadPrice +
		c.RejectedBadSide + c.BadSnapshots + c.BadTrades + c.BadUpdates; rej != 0 {
		h.t.Fatalf("the book rejected %d inputs from the feed: %+v", rej, c)
	}
}

func (h *harness) lastTrade(id string) int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	tk, _ := h.market.Ticker(id)
	return tk.TradeID
}

func (h *harness) counters() book.Counters {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.market.Counters()
}

func (h *harness) count(k model.Kind) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.kinds[k]
}

func TestCoinbaseBookExact(t *testing.T) {
	h := newHarness(t, harnessOpts{steps: 1500})
	h.waitExact(1500)
	st := h.src.Status()
	if st.State != feed.StateLive || st.Reconnects != 0 || st.Gaps != 0 || st.Resyncs != 0 {
		t.Errorf("status %+v, want live with no reconnect, gap or resync", st)
	}
	for reason, n := range st.Malformed {
		t.Errorf("malformed %s: %d, want none", reason, n)
	}
	if n := h.count(model.KindChanges); n < 2000 {
		t.Errorf("only %d level2 updates; the script should send thousands", n)
	}
	// Every trade arrived once, in order, and the ticker carries the last.
	h.mu.Lock()
	trades := slices.Clone(h.trades)
	h.mu.Unlock()
	want := 0
	for _, id := range h.ex.Products() {
		want += int(h.ex.LastTradeID(id))
	}
	if len(trades) != want {
		t.Errorf("%d trades emitted, the exchange made %d", len(trades), want)
	}
	for _, id := range h.ex.Products() {
		h.mu.Lock()
		tk, ok := h.market.Ticker(id)
		h.mu.Unlock()
		if !ok || tk.TradeID != h.ex.LastTradeID(id) || tk.Volume24h.IsZero() {
			t.Errorf("%s ticker %+v, want trade %d with upstream stats", id, tk, h.ex.LastTradeID(id))
		}
	}
	h.mu.Lock()
	online := 0
	for _, u := range h.statuses {
		if u.Online {
			online++
		}
	}
	h.mu.Unlock()
	if online != 2 {
		t.Errorf("%d online statuses, want one per product", online)
	}
}

// The upstream dies mid-stream and the market moves on while it is down:
// the feed reconnects, takes the fresh snapshots and ends exact; products go
// offline and back online.
func TestCoinbaseReconnectResyncs(t *testing.T) {
	paused, resume := make(chan struct{}), make(chan struct{})
	h := newHarness(t, harnessOpts{steps: 1200, script: func(s *feedtest.Script) {
		s.BeforeStep = func(step int, c *feedtest.Conn) {
			if step == 500 {
				close(paused)
				select {
				case <-resume:
				case <-c.Closed():
				}
			}
		}
	}})
	<-paused
	snapshots := h.count(model.KindSnapshot)
	h.up.Kill()
	close(resume)
	h.ex.Advance(50)
	start := time.Now()
	h.up.Restart()
	h.waitExact(1200)
	t.Logf("reconnected and exact %v after the restart", time.Since(start).Round(time.Millisecond))
	st := h.src.Status()
	if st.Reconnects < 1 || h.up.Accepted() < 2 {
		t.Errorf("reconnects %d, connections %d; want a reconnect", st.Reconnects, h.up.Accepted())
	}
	if got := h.count(model.KindSnapshot); got < snapshots+2 {
		t.Errorf("snapshots %d after the restart, had %d: want a fresh one per product", got, snapshots)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var seq []string
	for _, u := range h.statuses {
		if u.Product == "BTC-USD" {
			seq = append(seq, map[bool]string{true: "online", false: "offline:" + u.Message}[u.Online])
		}
	}
	if len(seq) != 3 || seq[0] != "online" || !strings.HasPrefix(seq[1], "offline:upstream") || seq[2] != "online" {
		t.Errorf("BTC-USD statuses %q, want online, offline (upstream ...), online", seq)
	}
}

// A tickerfan upstream numbers level2: a withheld l2update is a gap, the
// book is resynced by unsubscribe+subscribe, and ends exact.
func TestCoinbaseLevel2GapResyncs(t *testing.T) {
	h := newHarness(t, harnessOpts{
		ex:    feedtest.ExchangeConfig{L2Sequence: true},
		steps: 800,
		script: func(s *feedtest.Script) {
			s.Drop = func(step int, m feedtest.Message) bool {
				return step == 300 && m.Product == "ETH-USD" && m.Channel == feedtest.ChannelLevel2
			}
		},
	})
	h.waitExact(800)
	st := h.src.Status()
	if st.Gaps != 1 || st.Resyncs != 1 || st.Reconnects != 0 {
		t.Errorf("gaps %d resyncs %d reconnects %d, want 1 1 0", st.Gaps, st.Resyncs, st.Reconnects)
	}
	var unsub, resub bool
	for _, r := range h.script.Requests() {
		if slices.Equal(r.ProductIDs, []string{"ETH-USD"}) && slices.Equal(r.Channels, []string{"level2"}) {
			unsub = unsub || r.Type == "unsubscribe"
			resub = resub || (unsub && r.Type == "subscribe")
		}
	}
	if !unsub || !resub {
		t.Errorf("requests %+v: want unsubscribe then subscribe of ETH-USD level2", h.script.Requests())
	}
}

// Without level2 sequences, a withheld match is a trade-id gap: the book is
// resynced (its l2update was withheld too) and ends exact.
func TestCoinbaseTradeGapResyncs(t *testing.T) {
	doneStep := -1
	h := newHarness(t, harnessOpts{
		steps: 800,
		script: func(s *feedtest.Script) {
			// From step 300, withhold BTC-USD's level2 until a step with a
			// trade, and that step's matches.
			s.Drop = func(step int, m feedtest.Message) bool {
				if step < 300 || m.Product != "BTC-USD" || (doneStep >= 0 && step > doneStep) {
					return false
				}
				switch m.Channel {
				case feedtest.ChannelLevel2:
					return true
				case feedtest.ChannelMatches:
					doneStep = step
					return true
				}
				return false
			}
		},
	})
	h.waitExact(800)
	if st := h.src.Status(); st.Gaps < 1 || st.Resyncs < 1 {
		t.Errorf("gaps %d resyncs %d, want the trade gap found and resynced", st.Gaps, st.Resyncs)
	}
}

// Garbage, wrong types, negative sizes, unknown products and types, upstream
// errors and binary frames are each counted; the books stay exact.
func TestCoinbaseMalformedCounted(t *testing.T) {
	inject := map[int][]string{
		100: {`{not json`, `[1,2,3]`},
		200: {`{"type":42}`, `{"type":"l2update","product_id":"BTC-USD","changes":"oops"}`},
		300: {`{"type":"l2update","product_id":"BTC-USD","changes":[["buy","100.00","-1"]],"time":"2026-01-01T00:00:06.000000Z"}`},
		400: {`{"type":"l2update","product_id":"DOGE-USD","changes":[["buy","1.00","1"]],"time":"2026-01-01T00:00:08.000000Z"}`},
		500: {`{"type":"full_channel_thing","product_id":"BTC-USD"}`, `{"type":"error","message":"Failed to subscribe","reason":"test"}`},
		600: {`{"type":"match","product_id":"ETH-USD","trade_id":1,"side":"buy","price":"0","size":"1"}`},
	}
	h := newHarness(t, harnessOpts{steps: 800, script: func(s *feedtest.Script) {
		s.BeforeStep = func(step int, c *feedtest.Conn) {
			for _, m := range inject[step] {
				c.Send([]byte(m))
			}
			if step == 700 {
				c.SendFrame(ws.OpBinary, []byte{0xff, 0x00, 0x13})
			}
		}
	}})
	h.waitExact(800)
	st := h.src.Status()
	want := map[string]uint64{
		feed.ReasonBadJSON: 3, feed.ReasonBadField: 2, feed.ReasonNegativeSize: 1, feed.ReasonUnknownProduct: 1,
		feed.ReasonUnknownType: 1, feed.ReasonUpstreamError: 1, feed.ReasonBadPrice: 1,
	}
	for reason, n := range want {
		if st.Malformed[reason] != n {
			t.Errorf("malformed %s = %d, want %d (all: %v)", reason, st.Malformed[reason], n, st.Malformed)
		}
	}
	if st.Reconnects != 0 {
		t.Errorf("%d reconnects: malformed messages must not drop the connection", st.Reconnects)
	}
}

// An upstream that falls silent is dropped after stale_timeout and dialled
// again; the fresh snapshots keep the books exact.
func TestCoinbaseStaleReconnects(t *testing.T) {
	h := newHarness(t, harnessOpts{
		steps:  200,
		script: func(s *feedtest.Script) { s.HeartbeatEvery = 0 },
		feed:   func(c *coinbase.Config) { c.StaleTimeout = 150 * time.Millisecond },
	})
	h.waitExact(200)
	testwait.For(t, 5*time.Second, "a reconnect after silence with stale_timeout 150ms", func() (string, bool) {
		return fmt.Sprintf("%d accepted; %+v", h.up.Accepted(), h.src.Status()), h.up.Accepted() >= 2
	})
	h.waitExact(200)
	st := h.src.Status()
	if st.Reconnects < 1 || !strings.Contains(st.LastError, "stale") {
		t.Errorf("reconnects %d, last error %q; want a stale disconnect", st.Reconnects, st.LastError)
	}
}

// Credentials sign the subscribe as the exchange checks it.
func TestCoinbaseAuthenticates(t *testing.T) {
	const secret = "c2VjcmV0LWtleS1ieXRlcw==" // "secret-key-bytes"
	auth := func(s *feedtest.Script) { s.Key, s.Secret, s.Passphrase = "k1", secret, "pp" }
	h := newHarness(t, harnessOpts{steps: 100, script: auth, feed: func(c *coinbase.Config) {
		c.Credentials = coinbase.Credentials{Key: "k1", Secret: secret, Passphrase: "pp"}
	}})
	h.waitExact(100)
	r := h.script.Requests()[0]
	if r.Key != "k1" || r.Passphrase != "pp" || r.Signature == "" || r.Timestamp == "" {
		t.Errorf("subscribe %s lacks the auth fields", r.Raw)
	}

	bad := newHarness(t, harnessOpts{steps: 100, script: auth, feed: func(c *coinbase.Config) {
		c.Credentials = coinbase.Credentials{Key: "k1", Secret: "d3Jvbmc=", Passphrase: "pp"}
	}})
	testwait.For(t, 5*time.Second, "the upstream's authentication error counted", func() (string, bool) {
		st := bad.src.Status()
		return fmt.Sprintf("%+v", st), st.Malformed[feed.ReasonUpstreamError] != 0
	})
	if n := bad.count(model.KindSnapshot); n != 0 {
		t.Errorf("%d snapshots through a refused subscription", n)
	}
}

// A catalog id can differ from the upstream's: the feed subscribes the
// upstream id and emits the catalog id.
func TestCoinbaseUpstreamIDs(t *testing.T) {
	ex, err := feedtest.NewExchange(feedtest.ExchangeConfig{Products: []string{"ETH-USD"}})
	if err != nil {
		t.Fatal(err)
	}
	script := &feedtest.Script{Exchange: ex, Steps: 200}
	up := feedtest.NewServer(t, script.Serve)
	src, err := coinbase.New("up", coinbase.Config{
		URL: up.URL(), Channels: []string{"level2"}, UpstreamIDs: map[string]string{"BTC-USD": "ETH-USD"},
	}, catalog(t, "BTC-USD"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	changes := make(chan model.Update, 4096)
	done := make(chan struct{})
	go func() {
		defer close(done)
		src.Run(ctx, func(u model.Update) {
			if u.Kind == model.KindChanges || u.Kind == model.KindSnapshot {
				select {
				case changes <- u:
				case <-ctx.Done():
				}
			}
		})
	}()
	defer func() { cancel(); <-done }()
	b := book.New("BTC-USD")
	deadline := time.After(10 * time.Second)
	for {
		bids, asks := ex.Book("ETH-USD")
		gb, ga := b.Top(0, nil, nil)
		if ex.Steps() == 200 && feedtest.FormatLevels(gb) == feedtest.FormatLevels(bids) && feedtest.FormatLevels(ga) == feedtest.FormatLevels(asks) {
			break
		}
		select {
		case u := <-changes:
			if u.Product != "BTC-USD" {
				t.Fatalf("update for %s, want the catalog id BTC-USD", u.Product)
			}
			if u.Kind == model.KindSnapshot {
				b.ApplySnapshot(u.Bids, u.Asks)
			}
			for _, c := range u.Changes {
				if err := b.Apply(c); err != nil {
					t.Fatalf("change %v: %v", c, err)
				}
			}
		case <-deadline:
			t.Fatal("BTC-USD never matched the upstream's ETH-USD book")
		}
	}
	if r := script.Requests()[0]; r.Type != "subscribe" || len(r.ProductIDs) != 1 || r.ProductIDs[0] != "ETH-USD" {
		t.Errorf("subscribed %s, want the upstream id ETH-USD", r.Raw)
	}
}
