package book

import (
	"errors"
	"time"

	"github.com/tickerfan/tickerfan/internal/yamlconf"
)

// defaultRejectLogInterval spaces the logs of rejected input per product.
const defaultRejectLogInterval = time.Second

// Config configures a Market. Its zero value is a working default.
type Config struct {
	// MaxLevels caps the levels kept per side of each book; the worst levels
	// beyond it are dropped, and the drop is published as removals so that
	// consumers stay exact. Default 0: keep every level the upstream sends.
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
	if c.MaxLevels < 0 {
		errs = append(errs, yamlconf.Errorf("max_levels", "must be 0 (unlimited) or more, got %d", c.MaxLevels))
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
	return c
}
