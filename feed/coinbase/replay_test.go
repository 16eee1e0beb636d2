package coinbase_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/feed"
	"github.com/tickerfan/tickerfan/feed/coinbase"
	"github.com/tickerfan/tickerfan/feed/feedtest"
	"github.com/tickerfan/tickerfan/feed/record"
	"github.com/tickerfan/tickerfan/model"
)

// replayInto plays cfg for products into a fresh Market until Run returns
// or d passes, and returns the market and everything emitted.
func replayInto(t *testing.T, cfg coinbase.ReplayConfig, products []string, d time.Duration) (*book.Market, []model.Update, *coinbase.Replay) {
	t.Helper()
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	cat := catalog(t, products...)
	r, err := coinbase.NewReplay("replay", cfg, cat, log)
	if err != nil {
		t.Fatal(err)
	}
	m, err := book.NewMarket(book.Config{}, cat, func(book.Event) {}, log)
	if err != nil {
		t.Fatal(err)
	}
	var out []model.Update
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	err = r.Run(ctx, func(u model.Update) {
		out = append(out, u)
		m.Apply(u)
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return m, out, r
}

// A live session with a gap and its resync, recorded, replays to the same
// exact books, through the same normalizer.
func TestRecordThenReplayExact(t *testing.T) {
	path := filepath.Join(t.TempDir(), "session.jsonl.gz")
	h := newHarness(t, harnessOpts{
		ex:    feedtest.ExchangeConfig{L2Sequence: true},
		steps: 600,
		script: func(s *feedtest.Script) {
			s.Drop = func(step int, m feedtest.Message) bool {
				return step == 200 && m.Product == "BTC-USD" && m.Channel == feedtest.ChannelLevel2
			}
		},
		feed: func(c *coinbase.Config) { c.Record = path },
	})
	h.waitExact(600)
	h.stop()
	h.stop = nil
	live := h.src.Status()

	m, out, r := replayInto(t, coinbase.ReplayConfig{Path: path}, []string{"BTC-USD", "ETH-USD"}, 10*time.Second)
	for _, id := range h.ex.Products() {
		bids, asks := h.ex.Book(id)
		gb, ga := m.Book(id).Top(0, nil, nil)
		if feedtest.FormatLevels(gb) != feedtest.FormatLevels(bids) || feedtest.FormatLevels(ga) != feedtest.FormatLevels(asks) {
			t.Errorf("%s: replayed book differs from the exchange's", id)
		}
		if tk, _ := m.Ticker(id); tk.TradeID != h.ex.LastTradeID(id) {
			t.Errorf("%s: replayed last trade %d, want %d", id, tk.TradeID, h.ex.LastTradeID(id))
		}
	}
	st := r.Status()
	if st.State != feed.StateStopped || st.Gaps != live.Gaps || st.Messages != live.Messages {
		t.Errorf("replay status %+v\nlive status %+v: want stopped, same gaps and messages", st, live)
	}
	if last := out[len(out)-1]; last.Kind != model.KindStatus || last.Online || last.Message != "replay finished" {
		t.Errorf("last update %+v, want offline: replay finished", last)
	}
}

// writeRecording writes n heartbeats of BTC-USD, step apart in receive time.
func writeRecording(t *testing.T, n int, step time.Duration) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "beats.jsonl")
	rec, err := record.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	rec.Connected(t0, "ws://x/", []string{"BTC-USD"}, []string{"matches", "heartbeat"})
	for i := range n {
		at := t0.Add(time.Duration(i) * step)
		msg := `{"type":"match","trade_id":` + itoa(i+1) + `,"side":"buy","size":"1","price":"100.00","product_id":"BTC-USD","sequence":` +
			itoa(2*i+1) + `,"time":"` + at.Format(time.RFC3339Nano) + `"}`
		rec.Message(at, []byte(msg))
		rec.Message(at, []byte(`{"type":"heartbeat","last_trade_id":`+itoa(i+1)+`,"product_id":"BTC-USD","sequence":`+itoa(2*i+2)+`}`))
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func itoa(i int) string { return string(appendInt(nil, i)) }

func appendInt(b []byte, i int) []byte {
	if i >= 10 {
		b = appendInt(b, i/10)
	}
	return append(b, byte('0'+i%10))
}

// Speed 1 takes at least the recorded span, speed 4 a quarter of it, speed 0
// no waiting at all (lower bounds only: a loaded machine is slower).
func TestReplaySpeed(t *testing.T) {
	path := writeRecording(t, 11, 20*time.Millisecond) // 200ms recorded
	for _, tc := range []struct {
		speed float64
		min   time.Duration
	}{{1, 200 * time.Millisecond}, {4, 50 * time.Millisecond}, {0, 0}} {
		start := time.Now()
		_, out, _ := replayInto(t, coinbase.ReplayConfig{Path: path, Speed: tc.speed}, []string{"BTC-USD"}, 10*time.Second)
		if took := time.Since(start); took < tc.min {
			t.Errorf("speed %g took %v, want at least %v", tc.speed, took, tc.min)
		}
		if n := countKind(out, model.KindTrade); n != 11 {
			t.Errorf("speed %g: %d trades, want 11", tc.speed, n)
		}
	}
}

func countKind(us []model.Update, k model.Kind) int {
	n := 0
	for _, u := range us {
		if u.Kind == k {
			n++
		}
	}
	return n
}

// A looping replay keeps trade ids, sequences and times increasing across
// passes, as a live feed would.
func TestReplayLoopKeepsIncreasing(t *testing.T) {
	path := writeRecording(t, 5, time.Millisecond)
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	r, err := coinbase.NewReplay("loop", coinbase.ReplayConfig{Path: path, Loop: true}, catalog(t, "BTC-USD"), log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var trades []model.Update
	err = r.Run(ctx, func(u model.Update) {
		if u.Kind == model.KindTrade {
			trades = append(trades, u)
			if len(trades) == 16 {
				cancel()
			}
		}
	})
	if err != nil || len(trades) < 16 {
		t.Fatalf("Run: %v after %d trades", err, len(trades))
	}
	for i := 1; i < len(trades); i++ {
		a, b := trades[i-1], trades[i]
		if b.Trade.TradeID != a.Trade.TradeID+1 || b.Sequence <= a.Sequence || b.Time.Before(a.Time) {
			t.Fatalf("trade %d after %d: id %d after %d, sequence %d after %d, time %v after %v",
				i, i-1, b.Trade.TradeID, a.Trade.TradeID, b.Sequence, a.Sequence, b.Time, a.Time)
		}
	}
	if time.Since(trades[len(trades)-1].Time) > time.Minute {
		t.Errorf("replayed time %v is not moved to now", trades[len(trades)-1].Time)
	}
}

var update = flag.Bool("update", false, "rewrite configs/sample.jsonl.gz")

const samplePath = "../../configs/sample.jsonl.gz"

// sampleRecording builds the shipped sample: 30 s of four simulated markets
// as a Coinbase-protocol upstream would send them (snapshot, l2update,
// ticker, match, heartbeat each second), received 1 ms after their time.
func sampleRecording(t *testing.T) []byte {
	ids := []string{"BTC-USD", "ETH-USD", "SOL-USD", "ETH-BTC"}
	ex, err := feedtest.NewExchange(feedtest.ExchangeConfig{Seed: 42, Products: ids, UpdatesPerSecond: 25, TradesPerSecond: 2, Depth: 25})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	rec := record.NewWriter(&buf, false)
	recv := func() time.Time { return ex.Now().Add(time.Millisecond) }
	channels := []string{"level2", "ticker", "matches", "heartbeat"}
	rec.Connected(recv(), coinbase.DefaultURL, ids, channels)
	for _, id := range ids {
		rec.Message(recv(), ex.Snapshot(id).Data)
	}
	for step := 1; step <= 1500; step++ {
		for _, m := range ex.Step() {
			rec.Message(recv(), m.Data)
		}
		if step%50 == 0 {
			for _, id := range ids {
				rec.Message(recv(), ex.Heartbeat(id).Data)
			}
		}
	}
	rec.Close()
	return buf.Bytes()
}

// The shipped sample recording is what sampleRecording makes, and replays to
// the books its exchange ended with. go test ./feed/coinbase -run Sample -args -update
// rewrites it.
func TestSampleRecording(t *testing.T) {
	want := sampleRecording(t)
	if *update {
		var gz bytes.Buffer
		w, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		w.Write(want)
		w.Close()
		if err := os.WriteFile(samplePath, gz.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(samplePath)
	if err != nil {
		t.Fatalf("%v (go test ./feed/coinbase -run Sample -args -update makes it)", err)
	}
	defer f.Close()
	st, _ := f.Stat()
	if st.Size() > 400<<10 {
		t.Errorf("sample is %d KiB; keep it a few hundred at most", st.Size()>>10)
	}
	r, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("configs/sample.jsonl.gz is stale (%v); go test ./feed/coinbase -run Sample -args -update", err)
	}
	m, _, rp := replayInto(t, coinbase.ReplayConfig{Path: samplePath}, []string{"BTC-USD", "ETH-BTC"}, 10*time.Second)
	if st := rp.Status(); st.Gaps != 0 || len(st.Malformed) != 0 {
		t.Errorf("sample replay: %+v", st)
	}
	if b := m.Book("ETH-BTC"); b.Len(model.Buy) == 0 || b.Len(model.Sell) == 0 {
		t.Errorf("sample replay left ETH-BTC's book empty")
	}
	t.Logf("sample: %d KiB gzip, %d KiB of JSON lines", st.Size()>>10, len(want)>>10)
}
