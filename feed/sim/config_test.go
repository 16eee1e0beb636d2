package sim

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tickerfan/tickerfan/internal/yamlconf"
)

func TestSimConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []string // "field: substring" of each error, in order
	}{
		{"zero value", Config{}, nil},
		{"all set", Config{Seed: -3, Depth: 10, UpdatesPerSecond: 0.5, TradesPerSecond: 0.1,
			Volatility: 0.001, Tick: time.Minute, StartPrices: map[string]decimal.Decimal{"X-Y": decimal.New(1, -8)}}, nil},
		{"negative depth", Config{Depth: -1}, []string{"depth: must be between 1 and 10000, got -1"}},
		{"deep", Config{Depth: 10001}, []string{"depth: must be between 1 and 10000, got 10001"}},
		{"negative rate", Config{UpdatesPerSecond: -1}, []string{"updates_per_second: must be between 0 and 1e+06, got -1"}},
		{"NaN trades", Config{TradesPerSecond: math.NaN()}, []string{"trades_per_second: must be between 0 and 100000, got NaN"}},
		{"infinite trades", Config{TradesPerSecond: math.Inf(1)}, []string{"trades_per_second: must be between 0 and 100000, got +Inf"}},
		{"wild", Config{Volatility: 0.01}, []string{"volatility: must be between 0 and 0.001, got 0.01"}},
		{"fast tick", Config{Tick: time.Microsecond}, []string{"tick: must be between 1ms and 1m0s, got 1µs"}},
		{"negative tick", Config{Tick: -time.Second}, []string{"tick: must be between 1ms and 1m0s, got -1s"}},
		{"bad prices", Config{StartPrices: map[string]decimal.Decimal{"B-USD": decimal.New(-1, 0), "A-USD": {}, "": decimal.NewFromInt(1)}},
			[]string{"start_prices: product id must not be empty", "start_prices.A-USD: must be positive, got 0",
				"start_prices.B-USD: must be positive, got -1"}},
		{"several", Config{Depth: -5, Tick: time.Hour}, []string{"depth: ", "tick: "}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			errs := yamlconf.Flatten(tc.cfg.Validate())
			if len(errs) != len(tc.want) {
				t.Fatalf("Validate() = %v, want %d errors %q", errs, len(tc.want), tc.want)
			}
			for i, err := range errs {
				var fe *yamlconf.FieldError
				if !errors.As(err, &fe) {
					t.Errorf("error %v is not a *yamlconf.FieldError", err)
				}
				if !strings.HasPrefix(err.Error(), tc.want[i]) {
					t.Errorf("error %d = %q, want %q", i, err, tc.want[i])
				}
			}
		})
	}
}

func TestSimConfigDefaults(t *testing.T) {
	got := Config{}.withDefaults()
	want := Config{Seed: 1, Depth: 50, UpdatesPerSecond: 20, TradesPerSecond: 1,
		Volatility: 0.00002, Tick: 20 * time.Millisecond}
	if got.Seed != want.Seed || got.Depth != want.Depth || got.UpdatesPerSecond != want.UpdatesPerSecond ||
		got.TradesPerSecond != want.TradesPerSecond || got.Volatility != want.Volatility || got.Tick != want.Tick {
		t.Errorf("defaults %+v, want %+v", got, want)
	}
	set := Config{Seed: 9, Depth: 3, UpdatesPerSecond: 2, TradesPerSecond: 3, Volatility: 1e-4, Tick: time.Second}
	if got := set.withDefaults(); got.Seed != 9 || got.Depth != 3 || got.UpdatesPerSecond != 2 ||
		got.TradesPerSecond != 3 || got.Volatility != 1e-4 || got.Tick != time.Second {
		t.Errorf("withDefaults changed set fields: %+v", got)
	}
}
