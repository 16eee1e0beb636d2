package sim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tickerfan/tickerfan/feed"
	"github.com/tickerfan/tickerfan/internal/yamlconf"
	"github.com/tickerfan/tickerfan/model"
)

var simEpoch = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// fingerprint renders everything of u but Time, exactly.
func fingerprint(u model.Update) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s #%d", u.Kind, u.Product, u.Sequence)
	for _, lv := range u.Bids {
		fmt.Fprintf(&b, " b%s@%s", lv.Size, lv.Price)
	}
	for _, lv := range u.Asks {
		fmt.Fprintf(&b, " a%s@%s", lv.Size, lv.Price)
	}
	for _, ch := range u.Changes {
		fmt.Fprintf(&b, " %s:%s@%s", ch.Side, ch.Size, ch.Price)
	}
	if u.Kind == model.KindTrade {
		t := u.Trade
		fmt.Fprintf(&b, " t%d %s %s %s %s@%s", t.TradeID, t.MakerOrderID, t.TakerOrderID, t.Side, t.Size, t.Price)
	}
	return b.String()
}

// record announces and steps a new simulator, returning the fingerprints of
// the updates per product. Step i gets time epoch + i*tick + jitter(i).
func record(t *testing.T, cfg Config, products []model.Product, steps int, jitter func(int) time.Duration) map[string][]string {
	t.Helper()
	sim, err := New("sim", cfg, products)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	emit := func(u model.Update) { out[u.Product] = append(out[u.Product], fingerprint(u)) }
	sim.Announce(simEpoch, emit)
	for i := range steps {
		sim.Step(simEpoch.Add(time.Duration(i)*20*time.Millisecond+jitter(i)), emit)
	}
	return out
}

func noJitter(int) time.Duration { return 0 }

func TestSimDeterministic(t *testing.T) {
	const steps = 2000
	a := record(t, Config{Seed: 42}, model.DefaultProducts(), steps, noJitter)
	b := record(t, Config{Seed: 42}, model.DefaultProducts(), steps,
		func(i int) time.Duration { return time.Duration(i*7919%13) * time.Millisecond })
	alone := record(t, Config{Seed: 42}, model.DefaultProducts()[:1], steps, noJitter)
	other := record(t, Config{Seed: 43}, model.DefaultProducts(), steps, noJitter)
	for _, p := range model.DefaultProducts() {
		if len(a[p.ID]) < 500 {
			t.Fatalf("%s: only %d updates in %d steps", p.ID, len(a[p.ID]), steps)
		}
		if i := firstDiff(a[p.ID], b[p.ID]); i >= 0 {
			t.Errorf("%s: same seed differs at update %d:\n%s\n%s", p.ID, i, at(a[p.ID], i), at(b[p.ID], i))
		}
		if firstDiff(a[p.ID], other[p.ID]) < 0 {
			t.Errorf("%s: seeds 42 and 43 gave the same %d updates", p.ID, len(a[p.ID]))
		}
	}
	if i := firstDiff(a["BTC-USD"], alone["BTC-USD"]); i >= 0 {
		t.Errorf("BTC-USD depends on the other products: differs at update %d", i)
	}
}

// firstDiff returns the first index where a and b differ, or -1.
func firstDiff(a, b []string) int {
	for i := range max(len(a), len(b)) {
		if at(a, i) != at(b, i) {
			return i
		}
	}
	return -1
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "<end>"
}

func TestSimRates(t *testing.T) {
	cfg := Config{Seed: 5, UpdatesPerSecond: 50, TradesPerSecond: 2, Volatility: 1e-12}
	sim, err := New("sim", cfg, model.DefaultProducts())
	if err != nil {
		t.Fatal(err)
	}
	const steps = 15_000 // 300 simulated seconds a product
	var changes, trades int
	takers := map[string]bool{}
	for range steps {
		sim.Step(simEpoch, func(u model.Update) {
			changes += len(u.Changes)
			if u.Kind == model.KindTrade {
				trades++
				takers[u.Trade.TakerOrderID] = true
			}
		})
	}
	seconds := float64(steps*len(model.DefaultProducts())) * defaultSimTick.Seconds()
	// Every fill changes one level; the rest are the random l2 events (the
	// fair price stands still, so nothing re-centres; a few changes chase a
	// spread that a trade or cancel opened).
	checkRate(t, "l2 changes", changes-trades, cfg.UpdatesPerSecond*seconds)
	checkRate(t, "takers", len(takers), cfg.TradesPerSecond*seconds)
	checkRate(t, "trades", trades, cfg.TradesPerSecond*seconds)
}

func checkRate(t *testing.T, what string, got int, want float64) {
	t.Helper()
	t.Logf("%s: %d, rate*time %.0f", what, got, want)
	if math.Abs(float64(got)-want) > 0.2*want {
		t.Errorf("%s: %d, want %.0f ±20%%", what, got, want)
	}
}

// TestSimShape checks the book looks like a market at the defaults: a spread
// of one or two level spacings, and changes per second near the configured
// rate (see the measurements on simSpacingSteps).
func TestSimShape(t *testing.T) {
	sim, err := New("sim", Config{}, model.DefaultProducts())
	if err != nil {
		t.Fatal(err)
	}
	const steps = 5000
	spreads := make([]float64, len(sim.markets))
	changes := map[string]int{}
	for range steps {
		sim.Step(simEpoch, func(u model.Update) { changes[u.Product] += len(u.Changes) })
		for i, m := range sim.markets {
			s, _ := m.book.spread()
			spreads[i] += float64(s) / float64(m.spacing())
		}
	}
	seconds := steps * defaultSimTick.Seconds()
	for i, m := range sim.markets {
		spread, rate := spreads[i]/steps, float64(changes[m.id])/seconds
		t.Logf("%s: mean spread %.2f spacings of %d ticks, %.1f changes/s", m.id, spread, m.spacing(), rate)
		if spread < 1 || spread > 2 {
			t.Errorf("%s: mean spread %.2f spacings, want 1 to 2", m.id, spread)
		}
		if rate < defaultSimUpdatesPerSecond || rate > 2.5*defaultSimUpdatesPerSecond {
			t.Errorf("%s: %.1f changes/s, want %d to %d", m.id, rate, defaultSimUpdatesPerSecond, 5*defaultSimUpdatesPerSecond/2)
		}
	}
}

// collector gathers what Run emits, from Run's goroutine, and signals once
// it holds n updates.
type collector struct {
	mu      sync.Mutex
	updates []model.Update
	n       int
	enough  chan struct{}
}

func (c *collector) emit(u model.Update) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.updates = append(c.updates, u)
	if len(c.updates) == c.n {
		close(c.enough)
	}
}

func TestSimRun(t *testing.T) {
	products := model.DefaultProducts()[:3]
	sim, err := New("sim", Config{Tick: time.Millisecond, UpdatesPerSecond: 1000}, products)
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{n: 2*len(products) + 30, enough: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	start := time.Now().UTC()
	go func() { done <- sim.Run(ctx, c.emit) }()
	select {
	case <-c.enough:
	case <-time.After(10 * time.Second):
		t.Fatal("Run emitted too little in 10s")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run returned %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	checkRunStream(t, c.updates, products, start)
}

// checkRunStream checks Run's stream: status and snapshot of every product
// first, then only changes and trades, sequences gapless, times UTC and late.
func checkRunStream(t *testing.T, us []model.Update, products []model.Product, start time.Time) {
	t.Helper()
	seq := map[string]int64{}
	for i, u := range us {
		var want model.Kind
		switch {
		case i < 2*len(products) && i%2 == 0:
			want = model.KindStatus
		case i < 2*len(products):
			want = model.KindSnapshot
		}
		if want != 0 && (u.Kind != want || u.Product != products[i/2].ID) {
			t.Fatalf("update %d: %v %s, want %v %s", i, u.Kind, u.Product, want, products[i/2].ID)
		}
		if want == 0 && u.Kind != model.KindChanges && u.Kind != model.KindTrade {
			t.Fatalf("update %d: %v after the snapshots", i, u.Kind)
		}
		if u.Kind == model.KindStatus && !u.Online {
			t.Fatalf("update %d: status offline", i)
		}
		if u.Kind == model.KindSnapshot && (len(u.Bids) != defaultSimDepth || len(u.Asks) != defaultSimDepth) {
			t.Fatalf("snapshot of %s: %d bids, %d asks", u.Product, len(u.Bids), len(u.Asks))
		}
		if u.Sequence != seq[u.Product]+1 {
			t.Fatalf("update %d: %s sequence %d after %d", i, u.Product, u.Sequence, seq[u.Product])
		}
		seq[u.Product] = u.Sequence
		if u.Time.Location() != time.UTC || u.Time.Before(start) {
			t.Fatalf("update %d: time %v, want UTC after %v", i, u.Time, start)
		}
	}
}

func TestSimRunCancelled(t *testing.T) {
	sim, err := New("sim", Config{}, model.DefaultProducts())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n := 0
	if err := sim.Run(ctx, func(model.Update) { n++ }); err != nil || n != 0 {
		t.Fatalf("Run on a cancelled context: %v, %d updates; want nil, 0", err, n)
	}
}

func TestSimAccessors(t *testing.T) {
	sim, err := New("demo", Config{}, model.DefaultProducts()[2:4])
	if err != nil {
		t.Fatal(err)
	}
	if sim.Name() != "demo" {
		t.Errorf("Name() = %q", sim.Name())
	}
	ids := sim.Products()
	if strings.Join(ids, ",") != "SOL-USD,ETH-BTC" {
		t.Errorf("Products() = %v", ids)
	}
	ids[0] = "changed"
	if sim.Products()[0] != "SOL-USD" {
		t.Error("Products() shares its slice")
	}
}

func TestNewSimulatorErrors(t *testing.T) {
	foo := model.Product{ID: "FOO-USD"}
	tests := []struct {
		name     string
		cfg      Config
		products []model.Product
		want     error  // errors.Is target, or nil
		field    string // FieldError.Field, or ""
		msg      string // substring of the message
	}{
		{"no products", Config{}, nil, feed.ErrNoProducts, "", "no products"},
		{"duplicate", Config{}, []model.Product{model.DefaultProducts()[0], model.DefaultProducts()[0]}, feed.ErrDuplicateProduct, "", `"BTC-USD"`},
		{"no start price", Config{}, []model.Product{foo}, nil, "start_prices", `"FOO-USD"`},
		{"negative increment", Config{StartPrices: map[string]decimal.Decimal{"FOO-USD": decimal.NewFromInt(5)}},
			[]model.Product{{ID: "FOO-USD", QuoteIncrement: decimal.New(-1, -2)}}, feed.ErrBadIncrement, "", "-0.01"},
		{"price too low", Config{StartPrices: map[string]decimal.Decimal{"FOO-USD": decimal.RequireFromString("1.99")}},
			[]model.Product{foo}, nil, "start_prices.FOO-USD", "1.99 is 199 price increments"},
		{"bad config", Config{Depth: -1}, model.DefaultProducts(), nil, "depth", "-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sim, err := New("sim", tc.cfg, tc.products)
			if err == nil || sim != nil {
				t.Fatalf("New = %v, %v; want an error", sim, err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
			var fe *yamlconf.FieldError
			if tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field) {
				t.Errorf("error %v, want a field error on %s", err, tc.field)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not contain %q", err, tc.msg)
			}
		})
	}
}

func TestSimStartPrice(t *testing.T) {
	cfg := Config{StartPrices: map[string]decimal.Decimal{"BTC-USD": decimal.RequireFromString("50000.004")}}
	sim, err := New("sim", cfg, model.DefaultProducts()[:2])
	if err != nil {
		t.Fatal(err)
	}
	var snaps []model.Update
	sim.Announce(simEpoch, func(u model.Update) {
		if u.Kind == model.KindSnapshot {
			snaps = append(snaps, u)
		}
	})
	for i, want := range []string{"50000", "2300"} {
		bid, ask := snaps[i].Bids[0].Price, snaps[i].Asks[0].Price
		if bid.String() != want || !ask.Sub(bid).Equal(decimal.New(1, -2)) {
			t.Errorf("%s: best bid %s, ask %s; want %s and a cent above", snaps[i].Product, bid, ask, want)
		}
	}
}

func BenchmarkSimStep(b *testing.B) {
	for _, tc := range simCases {
		b.Run(tc.name, func(b *testing.B) {
			sim, err := New("sim", tc.cfg, tc.products)
			if err != nil {
				b.Fatal(err)
			}
			var updates, changes int
			emit := func(u model.Update) {
				updates++
				changes += len(u.Changes)
			}
			b.ReportAllocs()
			for b.Loop() {
				sim.Step(simEpoch, emit)
			}
			b.ReportMetric(float64(updates)/b.Elapsed().Seconds(), "updates/s")
			b.ReportMetric(float64(changes)/b.Elapsed().Seconds(), "changes/s")
		})
	}
}

// Run counts every update it emits as a message of the feed's Status, for
// /feeds and the feed metrics.
func TestRunCountsMessages(t *testing.T) {
	s, err := New("sim", Config{Tick: time.Millisecond}, model.DefaultProducts()[:2])
	if err != nil {
		t.Fatal(err)
	}
	if st := s.Status(); st.State != feed.StateLive || st.Messages != 0 {
		t.Fatalf("before Run: %+v", st)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var emitted uint64
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx, func(model.Update) {
			if emitted++; emitted == 200 {
				cancel()
			}
		})
	}()
	<-done
	st := s.Status()
	if st.Messages != emitted || st.LastMessage.IsZero() || st.State != feed.StateStopped {
		t.Errorf("after Run emitted %d: messages %d, last %v, state %s", emitted, st.Messages, st.LastMessage, st.State)
	}
}
