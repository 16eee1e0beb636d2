package coinbase

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/tickerfan/tickerfan/feed"
	"github.com/tickerfan/tickerfan/model"
	"go.uber.org/zap"
)

func TestParseDecimal(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"0", true}, {"43000.01", true}, {"0.00500000", true}, {"-1.5", true}, {"100", true},
		{"", false}, {"-", false}, {".5", false}, {"5.", false}, {"1e5", false}, {"+1", false},
		{" 1", false}, {"1.2.3", false}, {"NaN", false}, {"0x10", false},
	} {
		d, ok := parseDecimal(tc.in)
		if ok != tc.ok {
			t.Errorf("parseDecimal(%q) ok = %v, want %v", tc.in, ok, tc.ok)
		}
		if ok && !d.Equal(decimal.RequireFromString(tc.in)) {
			t.Errorf("parseDecimal(%q) = %s", tc.in, d)
		}
	}
}

// applyModel applies changes to a map book with the book's rules, and
// reports the first change it refuses.
func applyModel(bids, asks map[string]decimal.Decimal, cs []model.Change) (refused *model.Change) {
	for i, c := range cs {
		own, other := bids, asks
		if c.Side == model.Sell {
			own, other = asks, bids
		}
		key := c.Price.String()
		_, held := own[key]
		switch {
		case c.Size.IsZero() && !held:
			return &cs[i]
		case c.Size.IsZero():
			delete(own, key)
		default:
			for p := range other {
				op := decimal.RequireFromString(p)
				if !held && ((c.Side == model.Buy && c.Price.GreaterThanOrEqual(op)) || (c.Side == model.Sell && c.Price.LessThanOrEqual(op))) {
					return &cs[i]
				}
			}
			own[key] = c.Size
		}
	}
	return nil
}

func ch(side model.Side, price, size string) model.Change {
	return model.Change{Side: side, Price: decimal.RequireFromString(price), Size: decimal.RequireFromString(size)}
}

func TestOrderChanges(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []model.Change
	}{
		{"bid rests where an ask was taken", []model.Change{ch(model.Buy, "101", "2"), ch(model.Sell, "101", "0")}},
		{"level added then removed", []model.Change{ch(model.Buy, "100.5", "1"), ch(model.Buy, "100.5", "0"), ch(model.Sell, "101", "0")}},
		{"removed then added", []model.Change{ch(model.Sell, "101", "0"), ch(model.Sell, "101", "3"), ch(model.Buy, "100.5", "1")}},
		{"many levels", manyChanges(40)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bids := map[string]decimal.Decimal{"100": decimal.NewFromInt(1)}
			asks := map[string]decimal.Decimal{"101": decimal.NewFromInt(1)}
			for i := range 20 {
				asks[decimal.NewFromInt(int64(102+i)).String()] = decimal.NewFromInt(1)
			}
			out := orderChanges(append([]model.Change(nil), tc.in...))
			if len(out) != len(tc.in) {
				t.Fatalf("%d changes out of %d", len(out), len(tc.in))
			}
			if c := applyModel(bids, asks, out); c != nil {
				t.Fatalf("ordered changes %v: %v is refused", out, *c)
			}
		})
	}
}

// manyChanges moves n ask levels to the bid side one by one, listing each
// new bid before the ask's removal, as a batch would.
func manyChanges(n int) []model.Change {
	var cs []model.Change
	cs = append(cs, ch(model.Buy, "101", "1"), ch(model.Sell, "101", "0"))
	for i := range min(n, 20) {
		p := decimal.NewFromInt(int64(102 + i)).String()
		cs = append(cs, ch(model.Buy, p, "1"), ch(model.Sell, p, "0"))
	}
	return cs
}

// newTestNormalizer returns a normalizer of BTC-USD and ETH-USD in a session
// of channels, collecting what it emits.
func newTestNormalizer(channels ...string) (*normalizer, *[]model.Update) {
	var out []model.Update
	tr := feed.NewTracker("t", Kind, "", []string{"BTC-USD", "ETH-USD"})
	n := newNormalizer([]string{"BTC-USD", "ETH-USD"}, func(s string) string { return s }, tr, zap.NewNop())
	n.emit = func(u model.Update) { out = append(out, u) }
	n.reset(channels, time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC))
	return n, &out
}

func readLines(t testing.TB, name string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "messages", name))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, l := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		out = append(out, l)
	}
	return out
}

func kindsOf(us []model.Update) string {
	var s []string
	for _, u := range us {
		s = append(s, u.Kind.String())
	}
	return strings.Join(s, ",")
}

func TestNormalizerSession(t *testing.T) {
	n, out := newTestNormalizer("level2", "matches", "heartbeat")
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	n.handle([]byte(`{"type":"snapshot","product_id":"ETH-USD","bids":[],"asks":[]}`), now)
	*out = nil
	for _, l := range readLines(t, "session.jsonl") {
		n.handle(l, now)
	}
	// snapshot (+online), last_match, l2update, match 10, match 12 (a trade
	// id gap: counted, resynced, still emitted), heartbeat 30 after match 45
	// on another channel (channels are checked separately: no gap).
	if got, want := kindsOf(*out), "snapshot,status,trade,changes,trade,status,trade,heartbeat"; got != want {
		t.Fatalf("emitted %s\n want %s", got, want)
	}
	ch := (*out)[3].Changes
	if len(ch) != 2 || ch[0].Side != model.Sell || !ch[0].Size.IsZero() {
		t.Errorf("changes %v: the ask removal must come first", ch)
	}
	if tr := (*out)[2].Trade; tr.TradeID != 9 || tr.Side != model.Buy {
		t.Errorf("last_match trade %+v", tr)
	}
	st := n.tr.Status()
	if st.Gaps != 1 || st.Resyncs != 1 || st.State != feed.StateResyncing {
		t.Errorf("gaps %d resyncs %d state %s, want 1 1 resyncing", st.Gaps, st.Resyncs, st.State)
	}
	if rs := n.takeResyncs(); len(rs) != 1 || rs[0].id != "BTC-USD" {
		t.Errorf("resyncs %v, want BTC-USD", rs)
	}
	if u := (*out)[5]; u.Online || !strings.Contains(u.Message, "gap") {
		t.Errorf("status %+v, want offline for the gap", u)
	}
}

func TestNormalizerLevel2Sequence(t *testing.T) {
	n, out := newTestNormalizer("level2")
	for _, l := range readLines(t, "l2update_sequence.json") {
		n.handle(l, time.Now())
	}
	// 7 -> 8 applies, 10 is a gap: dropped, resync requested.
	if got, want := kindsOf(*out), "snapshot,status,changes,status"; got != want {
		t.Fatalf("emitted %s, want %s", got, want)
	}
	if st := n.tr.Status(); st.Gaps != 1 {
		t.Errorf("gaps %d, want 1", st.Gaps)
	}
	if (*out)[2].Sequence != 0 {
		t.Errorf("level2 sequence %d passed on as the product sequence", (*out)[2].Sequence)
	}
}

func TestNormalizerTickerOnly(t *testing.T) {
	n, out := newTestNormalizer("ticker")
	tk := readLines(t, "ticker.json")[0]
	n.handle(tk, time.Now())
	n.handle(tk, time.Now()) // the same trade again (a reconnect's first ticker)
	if got, want := kindsOf(*out), "trade,status,stats"; got != want {
		t.Fatalf("emitted %s, want %s", got, want)
	}
	u := (*out)[0]
	if u.Trade.Side != model.Sell || u.Trade.TradeID != 101 || u.Stats == nil || u.Sequence != 5000 ||
		!u.Trade.Size.Equal(decimal.RequireFromString("0.25")) {
		t.Errorf("ticker trade %+v: want maker side sell (taker bought), size last_size, stats", u)
	}
	if want := time.Date(2026, 11, 21, 12, 0, 1, 1000, time.UTC); !u.Time.Equal(want) {
		t.Errorf("time %v, want the upstream's %v", u.Time, want)
	}
}

func TestNormalizerRejects(t *testing.T) {
	n, out := newTestNormalizer("level2", "matches", "ticker")
	n.handle(readLines(t, "snapshot.json")[0], time.Now())
	for _, l := range readLines(t, "bad_types.json") {
		n.handle(l, time.Now())
	}
	for _, l := range readLines(t, "garbage.txt") {
		n.handle(l, time.Now())
	}
	n.handle(readLines(t, "error.json")[0], time.Now())
	want := map[string]uint64{
		feed.ReasonBadField: 4, feed.ReasonBadSnapshot: 1, feed.ReasonNegativeSize: 1, feed.ReasonBadJSON: 3, feed.ReasonUpstreamError: 1,
	}
	st := n.tr.Status()
	for r, c := range want {
		if st.Malformed[r] != c {
			t.Errorf("%s: %d, want %d (all %v)", r, st.Malformed[r], c, st.Malformed)
		}
	}
	if got := kindsOf(*out); got != "snapshot,status,status" {
		t.Errorf("emitted %s: only the snapshot, online, and offline for the resync", got)
	}
}

// snapshotMessage is a BTC-USD snapshot of n levels a side.
func snapshotMessage(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"type":"snapshot","product_id":"BTC-USD","bids":[`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`["` + decimal.New(4300000-int64(i), -2).StringFixed(2) + `","0.12345678"]`)
	}
	b.WriteString(`],"asks":[`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`["` + decimal.New(4300001+int64(i), -2).StringFixed(2) + `","0.12345678"]`)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// Decode rate: go test ./feed/coinbase -bench Normalize -run ^$
func BenchmarkNormalize(b *testing.B) {
	l2 := readLines(b, "l2update.json")[0]
	for _, bc := range []struct {
		name string
		msg  []byte
	}{
		{"l2update_2changes", l2},
		{"ticker", readLines(b, "ticker.json")[0]},
		{"match", readLines(b, "match.json")[0]},
		{"heartbeat", readLines(b, "heartbeat.json")[0]},
		{"snapshot_50x2", snapshotMessage(50)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			n, out := newTestNormalizer("level2", "matches", "ticker", "heartbeat")
			n.handle(readLines(b, "snapshot.json")[0], time.Now())
			now := time.Now()
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.msg)))
			for b.Loop() {
				n.handle(bc.msg, now)
				n.prods[0].seq, n.prods[0].sessionTrade, n.prods[0].lastTrade = [3]int64{}, 0, 0
				*out = (*out)[:0]
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

func TestNormalizerFollowsUpstreamStatus(t *testing.T) {
	n, out := newTestNormalizer("level2", "status")
	now := time.Now()
	snap := readLines(t, "snapshot.json")[0]
	status := func(state, msg string) []byte {
		return []byte(`{"type":"status","products":[{"id":"BTC-USD","status":"` + state + `","status_message":"` + msg +
			`"},{"id":"DOGE-USD","status":"offline"}],"currencies":[]}`)
	}
	n.handle(snap, now)
	n.handle(status("offline", "upstream disconnected"), now)
	n.handle(snap, now) // the upstream's book moves on: still offline, said again
	n.handle(status("online", ""), now)
	var got []string
	for _, u := range *out {
		if u.Kind == model.KindStatus {
			got = append(got, strings.TrimSpace(map[bool]string{true: "online", false: "offline " + u.Message}[u.Online]))
		}
	}
	want := []string{"online", "offline upstream offline: upstream disconnected",
		"offline upstream offline: upstream disconnected", "online"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("statuses %q, want %q", got, want)
	}
	if st := n.tr.Status(); len(st.Malformed) != 0 {
		t.Errorf("status messages counted as malformed: %v", st.Malformed)
	}
}
