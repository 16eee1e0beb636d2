package dashboard

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// jsCases call exported functions of the page's modules in the browser: the
// exact decimal arithmetic the ladder relies on, and time parsing for latency.
var jsCases = []struct {
	Module string `json:"module"`
	Fn     string `json:"fn"`
	Args   []any  `json:"args"`
	Want   any    `json:"-"`
}{
	{"decimal", "pad", []any{"1.5", 3}, "1.500"},
	{"decimal", "pad", []any{"100", 2}, "100.00"},
	{"decimal", "pad", []any{"0.123456", 2}, "0.123456"}, // never cuts digits
	{"decimal", "pad", []any{"7", 0}, "7"},
	{"decimal", "cut", []any{"1234.56789", 2}, "1234.56"},
	{"decimal", "cut", []any{"12", 2}, "12"},
	{"decimal", "canon", []any{"043000.1000"}, "43000.1"},
	{"decimal", "canon", []any{"0.000"}, "0"},
	{"decimal", "canon", []any{"-0.0"}, "0"},
	{"decimal", "places", []any{"0.00001"}, 5},
	{"decimal", "places", []any{"0.010"}, 2},
	{"decimal", "places", []any{"1"}, 0},
	{"decimal", "isZero", []any{"0.00000000"}, true},
	{"decimal", "isZero", []any{"0.00000001"}, false},
	{"decimal", "add", []any{"0.1", "0.2"}, "0.3"}, // 0.30000000000000004 in floats
	{"decimal", "sub", []any{"100.6", "100.45"}, "0.15"},
	{"decimal", "sub", []any{"0.1", "0.3"}, "-0.2"},
	{"decimal", "sub", []any{"43000.00", "42999.99"}, "0.01"},
	{"decimal", "sub", []any{"9007199254740993.01", "9007199254740993"}, "0.01"}, // beyond float precision
	{"decimal", "cmp", []any{"1.10", "1.1"}, 0},
	{"decimal", "cmp", []any{"9007199254740993.1", "9007199254740993.0"}, 1},
	{"decimal", "cmp", []any{"0.00001", "0.0001"}, -1},
	{"meter", "parseTime", []any{"2026-01-02T03:04:05.123456Z"}, float64(time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC).UnixMicro()) / 1e3},
	{"meter", "parseTime", []any{"2026-01-02T03:04:05Z"}, float64(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixMilli())},
	{"feed", "closeText", []any{1008, "rate limit exceeded"}, "policy violation (1008): rate limit exceeded"},
	{"feed", "closeText", []any{1006, ""}, "connection lost (1006)"},
}

// TestModules runs jsCases in Chromium, importing the modules as the page
// does, from the Handler.
func TestModules(t *testing.T) {
	s := startScripted(t)
	p := newPage(t, 800, 600)
	p.do(chromedp.Navigate(s.srv.URL + "/dashboard/favicon.svg"))
	cases, err := json.Marshal(jsCases)
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		Value any    `json:"value"`
		Error string `json:"error"`
	}
	got := eval[[]result](p, fmt.Sprintf(`Promise.all(%s.map(async c => {
		try {
			const m = await import('/dashboard/' + c.module + '.js');
			return {value: m[c.fn](...c.args)};
		} catch (e) {
			return {error: String(e)};
		}
	}))`, cases))
	for i, c := range jsCases {
		want, _ := json.Marshal(c.Want)
		have, _ := json.Marshal(got[i].Value)
		if got[i].Error != "" || string(have) != string(want) {
			t.Errorf("%s.%s(%v) = %s %s, want %s", c.Module, c.Fn, c.Args, have, got[i].Error, want)
		}
	}
}
