package main

import (
	"strings"
	"testing"

	"github.com/tickerfan/tickerfan/bench"
)

func TestVerdict(t *testing.T) {
	conns := func(attempted, failed int64) bench.Connections {
		return bench.Connections{Requested: int(attempted), Attempted: attempted, Failed: failed}
	}
	delivered := &bench.Measured{Messages: 1000}
	cases := []struct {
		name string
		res  bench.Result
		want string // substring of the error; "" for a pass
	}{
		{"all good", bench.Result{Mode: "throughput", Connections: conns(1000, 0), Measured: delivered}, ""},
		{"failures at the threshold", bench.Result{Mode: "throughput", Connections: conns(1000, 10), Measured: delivered}, ""},
		{"failures past the threshold", bench.Result{Mode: "throughput", Connections: conns(1000, 11), Measured: delivered}, "11 of 1000 connections failed (1.1%"},
		{"every connection failed", bench.Result{Mode: "throughput", Connections: conns(4, 4), Measured: &bench.Measured{}}, "4 of 4 connections failed"},
		{"nothing delivered", bench.Result{Mode: "throughput", Connections: conns(10, 0), Measured: &bench.Measured{}}, "no message was delivered"},
		{"ramp delivered in a step", bench.Result{Mode: "ramp", Connections: conns(10, 0), Ramp: &bench.RampResult{Steps: []bench.RampStep{{Measured: &bench.Measured{}}, {Measured: delivered}}}}, ""},
		{"idle mode delivers nothing by design", bench.Result{Mode: "idle", Connections: conns(10, 0), Measured: &bench.Measured{}}, ""},
		{"nothing attempted", bench.Result{Mode: "throughput", Connections: bench.Connections{Requested: 5}}, "no connection was attempted"},
		{"books exact", bench.Result{Mode: "throughput", Connections: conns(10, 0), Measured: delivered,
			Books: &bench.Books{Subscribers: 10, Exact: 10, ProductBooks: 20, ExactBooks: 20, AllExact: true}}, ""},
		{"a book not exact", bench.Result{Mode: "throughput", Connections: conns(10, 0), Measured: delivered,
			Books: &bench.Books{Subscribers: 10, Exact: 9, ProductBooks: 20, ExactBooks: 19, Mismatches: []bench.BookMismatch{
				{Subscriber: 3, Product: "T001-USD", Problem: "size differs", Side: "bids", Price: "99.99", Want: "1.5", Got: "1.4", Sequence: 42}}}},
			"1 of 10 level2 subscribers' books are not the upstream's after the run (1 of 20 product books); first: subscriber 3 T001-USD: size differs at bids 99.99: want 1.5, got 1.4 (last sequence 42)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := verdict(&tc.res, 0.01)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("verdict: %v, want a pass", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("verdict: %v, want %q", err, tc.want)
			}
		})
	}
}

// A target that refuses every connection: the run exits 1 and says why.
func TestExitCodeWhenTargetRefuses(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-products", "BTC-USD"}, "tickerbench: FAILED: 2 of 2 connections failed (100.0%"},
		{nil, "bench: cannot reach the target: GET http://127.0.0.1:1/products: connection refused"},
	}
	for _, tc := range cases {
		var stdout, stderr strings.Builder
		args := append([]string{"-target", "ws://127.0.0.1:1/", "-connections", "2", "-warmup", "0s",
			"-duration", "1s", "-quiet", "-metrics-url", "off"}, tc.args...)
		if code := run(args, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, want 1 and %q:\n%s", tc.args, code, tc.want, stderr.String())
		}
	}
}

func TestVersionAndStrayArguments(t *testing.T) {
	var stdout, stderr strings.Builder
	if code := run([]string{"-version"}, &stdout, &stderr); code != 0 || !strings.HasPrefix(stdout.String(), "tickerbench ") {
		t.Errorf("-version: exit %d, %q", code, stdout.String())
	}
	stderr.Reset()
	if code := run([]string{"extra"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), `unexpected argument "extra"`) ||
		!strings.Contains(stderr.String(), "Usage: tickerbench") {
		t.Errorf("stray argument: exit %d\n%s", code, stderr.String())
	}
}
