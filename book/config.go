package book

import (
	"errors"
	"time"

	"github.com/tickerfan/tickerfan/internal/yamlconf"
)

// The defaults and limits of Config, documented on its fields.
const (
	defaultRejectLogInterval = time.Second
	defaultMaxLevels         = 10_000
	maxMaxLevels             = 1_000_000
)

// Config configures a Market. Its zero value is a working default.
type Config struct {
	// MaxLevels caps the levels kept per side of each book; the worst levels
	// beyond it are dropped, and the drop is published as removals so that
	// consumers stay exact (see depth.go). It bounds the memory and the work
	// per update that an upstream can cause with a deep book: 100,000 far
	// levels in one l2update cost one comparison each. Default 10,000 (the
	// busiest Coinbase book holds a few thousand levels near the price that
	// matter; 1,000,000 at most).
	MaxLevels int `yaml:"max_levels"`
	// RejectLogInterval is the least time between two log lines about
	// rejected input (bad changes, snapshots, trades) of one product, and
	// between two about unknown products; the lines in between are only
	// counted. Default 1s.
	RejectLogInterval time.Duration `yaml:"reject_log_interval"`
}

// Validate reports every bad field at once, as yamlconf field errors.
func (c Config) Validate() error {
	var errs []error
	if c.MaxLevels < 0 || c.MaxLevels > maxMaxLevels {
		errs = append(errs, yamlconf.Errorf("max_levels", "must be between 1 and %d, got %d; 0 means the default %d",
			maxMaxLevels, c.MaxLevels, defaultMaxLevels))
	}
	if c.RejectLogInterval < 0 {
		errs = append(errs, yamlconf.Errorf("reject_log_interval", "must not be negative, got %s", c.RejectLogInterval))
	}
	return errors.Join(errs...)
}

// withDefaults returns c with zero fields set to their documented defaults.
func (c Config) withDefaults() Config {
	if c.RejectLogInterval == 0 {
		c.RejectLogInterval = defaultRejectLogInterval
	}
	if c.MaxLevels == 0 {
		c.MaxLevels = defaultMaxLevels
	}
	return c
}
