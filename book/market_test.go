package book

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/tickerfan/tickerfan/internal/yamlconf"
	"github.com/tickerfan/tickerfan/model"
)

// recorder collects published events.
type recorder struct{ events []Event }

func (r *recorder) publish(ev Event) { r.events = append(r.events, ev) }

// take returns the events published since the last take.
func (r *recorder) take() []Event {
	out := r.events
	r.events = nil
	return out
}

func newTestMarket(t *testing.T, cfg Config, products ...string) (*Market, *recorder) {
	t.Helper()
	var ps []model.Product
	for _, id := range products {
		ps = append(ps, model.Product{ID: id})
	}
	rec := &recorder{}
	m, err := NewMarket(cfg, ps, rec.publish, nil)
	if err != nil {
		t.Fatalf("NewMarket: %v", err)
	}
	return m, rec
}

// wantOne fails unless events is exactly one event of kind with seq.
func wantOne(t *testing.T, events []Event, kind EventKind, seq uint64) Event {
	t.Helper()
	if len(events) != 1 || events[0].Kind != kind || events[0].Seq != seq {
		t.Fatalf("events = %+v, want one %v with seq %d", events, kind, seq)
	}
	return events[0]
}

func TestMarketEventStream(t *testing.T) {
	m, rec := newTestMarket(t, Config{}, "BTC-USD", "ETH-USD")
	at := t0
	up := func(u model.Update) []Event {
		at = at.Add(time.Second)
		u.Time, u.Sequence = at, u.Sequence+1000
		m.Apply(u)
		return rec.take()
	}

	ev := wantOne(t, up(model.Update{Kind: model.KindStatus, Product: "BTC-USD", Online: true, Message: "ok"}), EventStatus, 1)
	if !ev.Online || ev.Message != "ok" || ev.Product != "BTC-USD" || !ev.Time.Equal(at) || ev.UpstreamSeq != 1000 {
		t.Errorf("status event = %+v", ev)
	}

	ev = wantOne(t, up(model.Update{Kind: model.KindSnapshot, Product: "BTC-USD", Sequence: 5,
		Bids: levels(t, "100:1 99:2"), Asks: levels(t, "101:3 102:4")}), EventSnapshot, 2)
	if render(ev.Bids) != "100:1 99:2" || render(ev.Asks) != "101:3 102:4" || ev.Ticker.Valid() || ev.UpstreamSeq != 1005 {
		t.Errorf("snapshot event = %+v", ev)
	}

	changes := []model.Change{
		change(model.Buy, "100", "1.5"),
		change(model.Buy, "101", "1"),   // crossed
		change(model.Sell, "105", "0"),  // unknown level
		change(model.Sell, "101", "-1"), // negative size
		change(model.Sell, "0", "1"),    // bad price
		{Price: dec("1"), Size: dec("1")},
		change(model.Sell, "101", "0"),
	}
	ev = wantOne(t, up(model.Update{Kind: model.KindChanges, Product: "BTC-USD", Changes: changes}), EventUpdate, 3)
	if got := fmt.Sprint(ev.Changes); got != fmt.Sprint([]model.Change{changes[0], changes[6]}) {
		t.Errorf("update event changes = %v", got)
	}
	wantBook(t, m.Book("BTC-USD"), "100:1.5 99:2", "102:4")

	allBad := []model.Change{change(model.Buy, "102", "1"), change(model.Sell, "101", "0")}
	if evs := up(model.Update{Kind: model.KindChanges, Product: "BTC-USD", Changes: allBad}); len(evs) != 0 {
		t.Errorf("all-rejected changes published %+v", evs)
	}

	ev = wantOne(t, up(model.Update{Kind: model.KindTrade, Product: "BTC-USD",
		Trade: model.Trade{TradeID: 7, Side: model.Sell, Price: dec("102"), Size: dec("0.5")}}), EventTrade, 4)
	tk := ev.Ticker
	if ev.Trade.TradeID != 7 || ev.LastTradeID != 7 || tk.TradeID != 7 || tk.Side != model.Buy || !tk.Time.Equal(at) {
		t.Errorf("trade event = %+v", ev)
	}
	wantTicker(t, tk, "102 0.5 | 102 102 102 0.5 0.5 | 100 1.5 102 4")
	if got, ok := m.Ticker("BTC-USD"); !ok || got != tk {
		t.Errorf("Ticker = %+v, %v; want the published one", got, ok)
	}

	ev = wantOne(t, up(model.Update{Kind: model.KindHeartbeat, Product: "BTC-USD", Sequence: 9}), EventHeartbeat, 5)
	if ev.LastTradeID != 7 || ev.UpstreamSeq != 1009 {
		t.Errorf("heartbeat event = %+v", ev)
	}

	if evs := up(model.Update{Kind: model.KindSnapshot, Product: "BTC-USD",
		Bids: levels(t, "100:1"), Asks: levels(t, "99:1")}); len(evs) != 0 {
		t.Errorf("bad snapshot published %+v", evs)
	}
	wantBook(t, m.Book("BTC-USD"), "100:1.5 99:2", "102:4")

	ev = wantOne(t, up(model.Update{Kind: model.KindSnapshot, Product: "BTC-USD",
		Bids: levels(t, "90:1"), Asks: levels(t, "91:1")}), EventSnapshot, 6)
	if ev.Ticker != tk {
		t.Errorf("snapshot ticker = %+v, want the last trade's %+v", ev.Ticker, tk)
	}

	wantOne(t, up(model.Update{Kind: model.KindHeartbeat, Product: "ETH-USD", LastTradeID: 3}), EventHeartbeat, 1)
	if evs := up(model.Update{Kind: model.KindHeartbeat, Product: "DOGE-USD"}); len(evs) != 0 {
		t.Errorf("unknown product published %+v", evs)
	}
	if evs := up(model.Update{Kind: 99, Product: "BTC-USD"}); len(evs) != 0 {
		t.Errorf("unknown kind published %+v", evs)
	}

	want := Counters{Updates: 11, Snapshots: 2, ChangesApplied: 2, Trades: 1,
		RejectedCrossed: 2, RejectedUnknownLevel: 2, RejectedNegativeSize: 1, RejectedBadPrice: 1, RejectedBadSide: 1,
		BadSnapshots: 1, BadUpdates: 1, UnknownProduct: 1}
	if got := m.Counters(); got != want {
		t.Errorf("Counters = %+v\nwant       %+v", got, want)
	}
}

// wantTicker compares "price size | open high low vol24 vol30 | bid bidsize ask asksize".
func wantTicker(t *testing.T, tk Ticker, want string) {
	t.Helper()
	got := fmt.Sprintf("%s %s | %s %s %s %s %s | %s %s %s %s", tk.Price, tk.LastSize,
		tk.Open24h, tk.High24h, tk.Low24h, tk.Volume24h, tk.Volume30d,
		tk.BestBid, tk.BestBidSize, tk.BestAsk, tk.BestAskSize)
	if got != want {
		t.Errorf("ticker = %q, want %q", got, want)
	}
}

func TestMarketTrades(t *testing.T) {
	m, rec := newTestMarket(t, Config{}, "BTC-USD")
	trade := func(side model.Side, price, size string, stats *model.Stats) []Event {
		m.Apply(model.Update{Kind: model.KindTrade, Product: "BTC-USD", Time: t0, Stats: stats,
			Trade: model.Trade{TradeID: 1, Side: side, Price: dec(price), Size: dec(size)}})
		return rec.take()
	}
	for _, bad := range [][3]string{{"buy", "0", "1"}, {"buy", "-1", "1"}, {"sell", "1", "0"}, {"sell", "1", "-2"}, {"", "1", "1"}} {
		side, _ := model.ParseSide(bad[0])
		if evs := trade(side, bad[1], bad[2], nil); len(evs) != 0 {
			t.Errorf("bad trade %v published %+v", bad, evs)
		}
	}
	if c := m.Counters(); c.BadTrades != 5 || c.Trades != 0 {
		t.Errorf("BadTrades = %d, Trades = %d; want 5, 0", c.BadTrades, c.Trades)
	}
	if _, ok := m.Ticker("BTC-USD"); ok {
		t.Error("Ticker ok before any good trade")
	}

	ev := wantOne(t, trade(model.Buy, "10", "2", nil), EventTrade, 1)
	if ev.Ticker.Side != model.Sell {
		t.Errorf("taker side = %v, want sell for a buy maker", ev.Ticker.Side)
	}
	wantTicker(t, ev.Ticker, "10 2 | 10 10 10 2 2 | 0 0 0 0")

	upstream := &model.Stats{Open24h: dec("9"), High24h: dec("12"), Low24h: dec("8"), Volume24h: dec("50"), Volume30d: dec("900")}
	ev = wantOne(t, trade(model.Sell, "11", "1", upstream), EventTrade, 2)
	wantTicker(t, ev.Ticker, "11 1 | 9 12 8 50 900 | 0 0 0 0")
	ev = wantOne(t, trade(model.Sell, "13", "1", nil), EventTrade, 3)
	wantTicker(t, ev.Ticker, "13 1 | 9 12 8 50 900 | 0 0 0 0")

	m.Apply(model.Update{Kind: model.KindStats, Product: "BTC-USD",
		Stats: &model.Stats{Open24h: dec("1"), High24h: dec("2"), Low24h: dec("1"), Volume24h: dec("3"), Volume30d: dec("4")}})
	m.Apply(model.Update{Kind: model.KindStats, Product: "BTC-USD"}) // no Stats: dropped
	if evs := rec.take(); len(evs) != 0 {
		t.Errorf("stats published %+v", evs)
	}
	tk, _ := m.Ticker("BTC-USD")
	wantTicker(t, tk, "13 1 | 1 2 1 3 4 | 0 0 0 0")
	if c := m.Counters(); c.BadUpdates != 1 {
		t.Errorf("BadUpdates = %d, want 1", c.BadUpdates)
	}
}

// TestMarketEventsRebuildBook checks the Event contract: a consumer that
// applies each EventUpdate to the previous EventSnapshot holds exactly the
// Market's book, with the default MaxLevels (deeper than the test's book) and
// with small ones. With MaxLevels it also checks
// that the capped book equals the full book above its horizon.
func TestMarketEventsRebuildBook(t *testing.T) {
	for _, maxLevels := range []int{0, 1, 5} {
		t.Run(fmt.Sprint("max_levels=", maxLevels), func(t *testing.T) {
			m, rec := newTestMarket(t, Config{MaxLevels: maxLevels}, "BTC-USD")
			full := New("BTC-USD") // the upstream's book
			consumer := New("BTC-USD")
			rng := rand.New(rand.NewPCG(uint64(maxLevels), 7))
			for step := range 400 {
				if step%150 == 0 {
					bids, asks := full.Top(0, nil, nil)
					m.Apply(model.Update{Kind: model.KindSnapshot, Product: "BTC-USD", Bids: bids, Asks: asks})
				} else {
					m.Apply(model.Update{Kind: model.KindChanges, Product: "BTC-USD", Changes: upstreamChanges(rng, full)})
				}
				for _, ev := range rec.take() {
					applyEvent(t, consumer, ev)
				}
				mb, ma := m.Book("BTC-USD").Top(0, nil, nil)
				wantBook(t, consumer, render(mb), render(ma))
				if maxLevels > 0 {
					wantCappedView(t, m.Book("BTC-USD"), full, maxLevels)
				}
				if t.Failed() {
					t.Fatalf("step %d", step)
				}
			}
			if c := m.Counters(); maxLevels > 0 && (c.BeyondDepth == 0 || c.LevelsTrimmed == 0) {
				t.Errorf("capping never happened: %+v", c)
			}
		})
	}
}

// upstreamChanges makes a few random changes that a consistent upstream
// could send, applying them to full, plus one it could not.
func upstreamChanges(rng *rand.Rand, full *Book) []model.Change {
	var out []model.Change
	for range 1 + rng.IntN(6) {
		side := model.Side(1 + rng.IntN(2))
		ticks := 10000 - 1 - int64(rng.IntN(30))
		if side == model.Sell {
			ticks = 10000 + 1 + int64(rng.IntN(30))
		}
		c := toChange(side, ticks, int64(rng.IntN(3)*rng.IntN(500)), 0)
		if full.Apply(c) == nil {
			out = append(out, c)
		}
	}
	return append(out, change(model.Buy, "100", "-1"))
}

// applyEvent applies a snapshot or update event to a consumer's book.
func applyEvent(t *testing.T, b *Book, ev Event) {
	t.Helper()
	switch ev.Kind {
	case EventSnapshot:
		if err := b.ApplySnapshot(ev.Bids, ev.Asks); err != nil {
			t.Fatalf("event snapshot: %v", err)
		}
	case EventUpdate:
		for _, c := range ev.Changes {
			if err := b.Apply(c); err != nil {
				t.Fatalf("event change %v: %v", c, err)
			}
		}
	}
}

// wantCappedView fails unless capped holds at most maxLevels per side and
// exactly full's levels better than its horizon.
func wantCappedView(t *testing.T, capped, full *Book, maxLevels int) {
	t.Helper()
	for _, sd := range []struct{ c, f *side }{{&capped.bids, &full.bids}, {&capped.asks, &full.asks}} {
		if len(sd.c.levels) > maxLevels {
			t.Errorf("asks=%v: %d levels kept, max %d", sd.c.asks, len(sd.c.levels), maxLevels)
		}
		var want []model.Level
		for _, lv := range sd.f.levels {
			if !sd.c.capped || sd.c.better(lv.Price, sd.c.horizon) {
				want = append(want, lv)
			}
		}
		if render(sd.c.levels) != render(want) {
			t.Errorf("asks=%v horizon %s: kept %q, want %q", sd.c.asks, sd.c.horizon, render(sd.c.levels), render(want))
		}
	}
}

func TestMarketSamplesRejectionLogs(t *testing.T) {
	core, logs := observer.New(zapcore.WarnLevel)
	rec := &recorder{}
	m, err := NewMarket(Config{RejectLogInterval: time.Hour}, []model.Product{{ID: "BTC-USD"}}, rec.publish, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		m.Apply(model.Update{Kind: model.KindChanges, Product: "BTC-USD", Changes: []model.Change{change(model.Buy, "1", "0")}})
		m.Apply(model.Update{Kind: model.KindTrade, Product: "XRP-USD"})
	}
	if n := logs.FilterMessage("change rejected").Len(); n != 1 {
		t.Errorf("%d change rejections logged, want 1", n)
	}
	if n := logs.FilterField(zap.String("product", "XRP-USD")).Len(); n != 1 {
		t.Errorf("%d unknown products logged, want 1", n)
	}
	if c := m.Counters(); c.RejectedUnknownLevel != 100 || c.UnknownProduct != 100 || c.Updates != 200 {
		t.Errorf("Counters = %+v, want 100 unknown levels and products of 200 updates", c)
	}
}

// TestMarketConcurrentProducts runs one writer per product while Counters is
// read; run it with -race.
func TestMarketConcurrentProducts(t *testing.T) {
	products := []string{"BTC-USD", "ETH-USD", "SOL-USD"}
	var mu sync.Mutex
	seqs := map[string]uint64{}
	m, err := NewMarket(Config{MaxLevels: 10}, []model.Product{{ID: products[0]}, {ID: products[1]}, {ID: products[2]}},
		func(ev Event) {
			mu.Lock()
			defer mu.Unlock()
			if ev.Seq != seqs[ev.Product]+1 {
				t.Errorf("%s: seq %d after %d", ev.Product, ev.Seq, seqs[ev.Product])
			}
			seqs[ev.Product] = ev.Seq
		}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i, id := range products {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 1))
			full := New(id)
			for range 300 {
				m.Apply(model.Update{Kind: model.KindChanges, Product: id, Changes: upstreamChanges(rng, full)})
			}
		})
	}
	wg.Go(func() {
		for range 100 {
			_ = m.Counters()
		}
	})
	wg.Wait()
	if c := m.Counters(); c.Updates != 900 || c.RejectedNegativeSize != 900 {
		t.Errorf("Counters = %+v, want 900 updates each with one negative size", c)
	}
}

func TestNewMarketErrors(t *testing.T) {
	pub := func(Event) {}
	cases := []struct {
		name     string
		cfg      Config
		products []model.Product
		publish  func(Event)
		want     error
	}{
		{"duplicate", Config{}, []model.Product{{ID: "A-B"}, {ID: "A-B"}}, pub, ErrDuplicateProduct},
		{"empty id", Config{}, []model.Product{{ID: ""}}, pub, ErrDuplicateProduct},
		{"nil publish", Config{}, nil, nil, ErrNoPublish},
		{"bad config", Config{MaxLevels: -1}, nil, pub, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewMarket(tc.cfg, tc.products, tc.publish, nil)
			if m != nil || err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Errorf("NewMarket = %v, %v; want nil, %v", m, err, tc.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("zero Config: %v", err)
	}
	if err := (Config{MaxLevels: 50, RejectLogInterval: time.Minute}).Validate(); err != nil {
		t.Errorf("valid Config: %v", err)
	}
	errs := yamlconf.Flatten(Config{MaxLevels: -3, RejectLogInterval: -time.Second}.Validate())
	var fields []string
	for _, err := range errs {
		var fe *yamlconf.FieldError
		if !errors.As(err, &fe) {
			t.Fatalf("%v is not a FieldError", err)
		}
		fields = append(fields, fe.Error())
	}
	want := "[max_levels: must be between 1 and 1000000, got -3; 0 means the default 10000 reject_log_interval: must not be negative, got -1s]"
	if fmt.Sprint(fields) != want {
		t.Errorf("Validate = %v, want %s", fields, want)
	}
}

// TestMarketSnapshot checks that Snapshot is the live book as of the last
// event's Seq, and that it is safe beside a writer: replaying the events
// after its Seq onto it always gives the writer's final book.
func TestMarketSnapshot(t *testing.T) {
	var mu sync.Mutex
	var evs []Event
	m, err := NewMarket(Config{}, []model.Product{{ID: "BTC-USD"}}, func(ev Event) {
		mu.Lock()
		evs = append(evs, ev)
		mu.Unlock()
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Snapshot("NOPE"); ok {
		t.Error("Snapshot of an unknown product: ok")
	}
	m.Apply(model.Update{Kind: model.KindSnapshot, Product: "BTC-USD", Time: t0,
		Bids: levels(t, "100:1"), Asks: levels(t, "101:1")})
	snap, ok := m.Snapshot("BTC-USD")
	if !ok || snap.Kind != EventSnapshot || snap.Seq != 1 || !snap.Time.Equal(t0) ||
		render(snap.Bids) != "100:1" || render(snap.Asks) != "101:1" {
		t.Fatalf("Snapshot = %+v, %v", snap, ok)
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 1; i <= 500; i++ {
			m.Apply(model.Update{Kind: model.KindChanges, Product: "BTC-USD", Time: t0,
				Changes: []model.Change{change(model.Buy, fmt.Sprint(90+i%10), fmt.Sprint(i))}})
		}
	}()
	var mid Event
	for i := 0; i < 50; i++ {
		mid, _ = m.Snapshot("BTC-USD")
	}
	<-done
	b := New("BTC-USD")
	if err := b.ApplySnapshot(mid.Bids, mid.Asks); err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.Seq > mid.Seq {
			applyEvent(t, b, ev)
		}
	}
	bids, asks := m.Book("BTC-USD").Top(0, nil, nil)
	wantBook(t, b, render(bids), render(asks))
	if mid.Seq < 1 || mid.Seq > 501 {
		t.Errorf("Snapshot Seq = %d, want 1..501", mid.Seq)
	}
}
