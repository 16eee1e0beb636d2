package book

import (
	"strconv"
	"testing"
	"time"

	"github.com/tickerfan/tickerfan/model"
)

var t0 = time.Date(2026, 11, 21, 12, 0, 30, 0, time.UTC)

type trade struct {
	at          time.Duration // after t0
	price, size string
}

// wantStats fails unless s renders as open/high/low/vol24/vol30.
func wantStats(t *testing.T, s model.Stats, open, high, low, vol24, vol30 string) {
	t.Helper()
	got := [5]string{s.Open24h.String(), s.High24h.String(), s.Low24h.String(), s.Volume24h.String(), s.Volume30d.String()}
	want := [5]string{open, high, low, vol24, vol30}
	if got != want {
		t.Errorf("stats open/high/low/vol24/vol30 = %v, want %v", got, want)
	}
}

func TestRollingStats(t *testing.T) {
	cases := []struct {
		name                          string
		trades                        []trade
		open, high, low, vol24, vol30 string
	}{
		{"none", nil, "0", "0", "0", "0", "0"},
		{"one minute", []trade{{0, "100", "1"}, {10 * time.Second, "105", "0.5"}, {20 * time.Second, "95", "0.25"}},
			"100", "105", "95", "1.75", "1.75"},
		{"still inside at 23h59m", []trade{{0, "100", "1"}, {24*time.Hour - time.Minute, "90", "2"}},
			"100", "100", "90", "3", "3"},
		// t0 is 12:00:30; its minute leaves the window when the minute 24 h later starts.
		{"expired at 24h", []trade{{0, "100", "1"}, {24*time.Hour - 30*time.Second, "90", "2"}},
			"90", "90", "90", "2", "3"},
		{"high falls after roll", []trade{
			{0, "100", "1"}, {time.Hour, "50", "1"}, {2 * time.Hour, "70", "1"}, {24*time.Hour + time.Minute, "60", "1"}},
			"50", "70", "50", "3", "4"},
		{"low rises after roll", []trade{
			{0, "10", "1"}, {time.Minute, "30", "1"}, {24 * time.Hour, "20", "1"}},
			"30", "30", "20", "2", "3"},
		{"all expired", []trade{{0, "10", "1"}, {48 * time.Hour, "20", "3"}}, "20", "20", "20", "3", "4"},
		// Counted in its own minute, the late trade would have left at 24h.
		{"late trade counts in newest minute", []trade{
			{time.Hour, "100", "1"}, {0, "120", "1"}, {24*time.Hour + 30*time.Minute, "110", "1"}},
			"100", "120", "100", "3", "3"},
		{"trade older than the window ignored", []trade{{30 * time.Hour, "100", "1"}, {0, "500", "9"}},
			"100", "100", "100", "1", "1"},
		{"30d volume", []trade{
			{0, "1", "1"}, {15 * 24 * time.Hour, "1", "2"}, {29 * 24 * time.Hour, "1", "4"}},
			"1", "1", "1", "4", "7"},
		// t0 is on day D; day D leaves the 30 d window when day D+30 starts.
		{"30d expiry", []trade{
			{0, "1", "1"}, {15 * 24 * time.Hour, "1", "2"}, {30*24*time.Hour - 12*time.Hour, "1", "4"}},
			"1", "1", "1", "4", "6"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var r rolling
			for _, tr := range tc.trades {
				r.add(t0.Add(tr.at), dec(tr.price), dec(tr.size))
			}
			wantStats(t, r.stats(), tc.open, tc.high, tc.low, tc.vol24, tc.vol30)
		})
	}
}

// TestRollingStatsSteady trades every 10 s for three days with a price that
// walks up and down, and checks every result against a brute-force scan of the
// trades inside the window.
func TestRollingStatsSteady(t *testing.T) {
	var r rolling
	type rec struct {
		minute      int64
		price, size int64
	}
	var all []rec
	for i := range int64(3 * 24 * 360) {
		at := t0.Add(time.Duration(i) * 10 * time.Second)
		price := 1000 + (i*37)%211 - (i/500)%97
		size := 1 + i%7
		r.add(at, dec(itoa(price)), dec(itoa(size)))
		all = append(all, rec{floorDiv(at.Unix(), 60), price, size})
		if i%97 != 0 {
			continue
		}
		now := all[len(all)-1].minute
		var open, high, low, vol int64 = -1, 0, 1 << 62, 0
		for _, x := range all {
			if x.minute <= now-minutesPerDay {
				continue
			}
			if open < 0 {
				open = x.price
			}
			high, low, vol = max(high, x.price), min(low, x.price), vol+x.size
		}
		var vol30 int64
		for _, x := range all {
			vol30 += x.size
		}
		wantStats(t, r.stats(), itoa(open), itoa(high), itoa(low), itoa(vol), itoa(vol30))
		if t.Failed() {
			t.Fatalf("trade %d", i)
		}
	}
	if r.minutes.len() != minutesPerDay || len(r.minutes.buf) != minutesPerDay {
		t.Errorf("minute ring holds %d of %d buckets, want %d of %d",
			r.minutes.len(), len(r.minutes.buf), minutesPerDay, minutesPerDay)
	}
}

func TestStatsFromUpstream(t *testing.T) {
	var r rolling
	r.add(t0, dec("100"), dec("1"))
	r.set(model.Stats{Open24h: dec("1"), High24h: dec("2"), Low24h: dec("0.5"), Volume24h: dec("10"), Volume30d: dec("300")})
	r.add(t0.Add(time.Minute), dec("500"), dec("7"))
	wantStats(t, r.stats(), "1", "2", "0.5", "10", "300")
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }
