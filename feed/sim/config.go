package sim

import (
	"errors"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tickerfan/tickerfan/internal/yamlconf"
)

// Config configures the built-in market simulator. Its zero value is a
// working default: every zero field takes the default its comment states.
type Config struct {
	// Seed makes the simulation repeatable: the same seed, products and
	// configuration give the same updates (all but Time). Default 1; 0 means 1.
	Seed int64 `yaml:"seed"`
	// Depth is the number of price levels kept on each side of each book.
	// Default 50, at most 10000.
	Depth int `yaml:"depth"`
	// UpdatesPerSecond is the mean rate, per product, of random level-2 events
	// (a size change, a new level, a cancelled level), each one Change. The
	// changes that make the book follow the price (at the defaults about 3 a
	// second, 20 on BTC-USD and ETH-USD, whose prices are many ticks) and the
	// levels trades consume come on top. Default 20, at most 1e6.
	UpdatesPerSecond float64 `yaml:"updates_per_second"`
	// TradesPerSecond is the mean rate, per product, of taker orders; one
	// that sweeps several levels makes one trade per level. Default 1, at
	// most 1e5.
	TradesPerSecond float64 `yaml:"trades_per_second"`
	// Volatility is the relative standard deviation of the fair price per
	// step (Tick) of its random walk; level spacing scales with it. Default
	// 0.00002: at the default Tick about 0.014% a second, a tick or two a
	// second on SOL-USD and DOGE-USD, some 6 dollars on BTC-USD. At most 0.001.
	Volatility float64 `yaml:"volatility"`
	// Tick is the simulation step: Run advances every product once per Tick,
	// and rates are drawn per step from rate*Tick. Default 20ms, between 1ms
	// and 1m.
	Tick time.Duration `yaml:"tick"`
	// StartPrices are the initial prices by product id, rounded to the
	// product's price grid. Default model.DefaultStartPrice; a product with neither
	// is an error. A price must be at least 4*Depth price increments.
	StartPrices map[string]decimal.Decimal `yaml:"start_prices"`
}

// The defaults and limits of Config, documented on its fields.
const (
	defaultSimSeed             = 1
	defaultSimDepth            = 50
	defaultSimUpdatesPerSecond = 20
	defaultSimTradesPerSecond  = 1
	defaultSimVolatility       = 0.00002
	defaultSimTick             = 20 * time.Millisecond

	maxSimDepth            = 10000
	maxSimUpdatesPerSecond = 1e6
	maxSimTradesPerSecond  = 1e5
	maxSimVolatility       = 0.001
	minSimTick             = time.Millisecond
	maxSimTick             = time.Minute
)

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if c.Seed == 0 {
		c.Seed = defaultSimSeed
	}
	if c.Depth == 0 {
		c.Depth = defaultSimDepth
	}
	if c.UpdatesPerSecond == 0 {
		c.UpdatesPerSecond = defaultSimUpdatesPerSecond
	}
	if c.TradesPerSecond == 0 {
		c.TradesPerSecond = defaultSimTradesPerSecond
	}
	if c.Volatility == 0 {
		c.Volatility = defaultSimVolatility
	}
	if c.Tick == 0 {
		c.Tick = defaultSimTick
	}
	return c
}

// Validate reports every bad field at once, as yamlconf field errors naming
// the YAML field and the bad value. Zero fields are valid (they take defaults);
// whether each product has a start price is checked by New.
func (c Config) Validate() error {
	var errs []error
	if c.Depth < 0 || c.Depth > maxSimDepth {
		errs = append(errs, yamlconf.Errorf("depth", "must be between 1 and %d, got %d", maxSimDepth, c.Depth))
	}
	errs = appendRateError(errs, "updates_per_second", c.UpdatesPerSecond, maxSimUpdatesPerSecond)
	errs = appendRateError(errs, "trades_per_second", c.TradesPerSecond, maxSimTradesPerSecond)
	errs = appendRateError(errs, "volatility", c.Volatility, maxSimVolatility)
	if c.Tick != 0 && (c.Tick < minSimTick || c.Tick > maxSimTick) {
		errs = append(errs, yamlconf.Errorf("tick", "must be between %v and %v, got %v", minSimTick, maxSimTick, c.Tick))
	}
	for _, id := range slices.Sorted(maps.Keys(c.StartPrices)) {
		p := c.StartPrices[id]
		if id == "" {
			errs = append(errs, yamlconf.Errorf("start_prices", "product id must not be empty"))
		}
		if !p.IsPositive() {
			errs = append(errs, yamlconf.Errorf("start_prices."+id, "must be positive, got %s", p))
		}
	}
	return errors.Join(errs...)
}

// appendRateError appends an error for field unless v is a finite number in
// [0, maxV].
func appendRateError(errs []error, field string, v, maxV float64) []error {
	if math.IsNaN(v) || v < 0 || v > maxV {
		return append(errs, yamlconf.Errorf(field, "must be between 0 and %g, got %g", maxV, v))
	}
	return errs
}
