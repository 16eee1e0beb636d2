package attack

import (
	"strings"
	"testing"
	"time"
)

func TestCanaryBook(t *testing.T) {
	b := newBook(&l2msg{Bids: [][2]string{{"100.50", "1.0"}}, Asks: [][2]string{{"101", "2"}}})
	b.apply([][3]string{{"buy", "100.5", "3"}, {"sell", "101.00", "0"}, {"sell", "102", "1"}})
	want := newBook(&l2msg{Bids: [][2]string{{"100.5", "3"}}, Asks: [][2]string{{"102.0", "1.00"}}})
	if !b.equal(want) {
		t.Fatalf("book %v, want %v", b, want)
	}
	b.apply([][3]string{{"buy", "99", "1"}})
	if b.equal(want) {
		t.Fatal("a book with an extra level compares equal")
	}
}

func TestJudge(t *testing.T) {
	for _, tc := range []struct {
		name      string
		o         Outcome
		up, exact bool
		want      Verdict
	}{
		{"all good", Outcome{Probes: ProbeStats{Total: 10}, Before: Sample{RSS: 20 << 20}, After: Sample{RSS: 30 << 20}}, true, true, Held},
		{"probe failed", Outcome{Probes: ProbeStats{Total: 10, Failed: 1}}, true, true, Degraded},
		{"probe slow", Outcome{Probes: ProbeStats{Total: 10, Slow: 1}}, true, true, Degraded},
		{"attack check", Outcome{AttackFail: true}, true, true, Degraded},
		{"memory kept", Outcome{Before: Sample{RSS: 20 << 20}, After: Sample{RSS: 200 << 20}}, true, true, Degraded},
		{"heap kept", Outcome{Before: Sample{Heap: 20 << 20}, After: Sample{Heap: 200 << 20}}, true, true, Degraded},
		{"canary broken", Outcome{}, true, false, Failed},
		{"down after", Outcome{}, false, true, Failed},
	} {
		if got := judge(tc.o, tc.up, tc.exact, defaultRSSSlack); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (Config{Target: "ws://127.0.0.1:9100/"}).WithDefaults().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	err := Config{Target: "ws://example.com/", Duration: time.Hour, Conns: -1, Trickle: time.Millisecond, Only: []string{"nope"}}.Validate()
	for _, field := range []string{"target:", "duration:", "conns:", "trickle:", `only: unknown attack "nope"`} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("Validate = %v, want a complaint about %s", err, field)
		}
	}
}
