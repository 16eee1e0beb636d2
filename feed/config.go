package feed

import (
	"errors"
	"fmt"
	"regexp"

	"go.uber.org/zap"

	"github.com/tickerfan/tickerfan/internal/yamlconf"
)

// Kinds of feed a Config can name.
const (
	KindSimulator = "simulator"
)

// Config is one configured upstream: its kind, the products it carries and the
// settings of that kind. Products are ids from the catalog; empty means every
// catalog product (only valid for a single feed).
type Config struct {
	// Name identifies the feed in logs, metrics and /feeds. Default: the kind.
	Name string `yaml:"name"`
	// Kind is one of: simulator. Default simulator.
	Kind string `yaml:"kind"`
	// Products lists the product ids this feed carries. Default: all products.
	Products []string `yaml:"products"`
	// Simulator configures kind simulator.
	Simulator SimConfig `yaml:"simulator"`
}

// WithDefaults fills the name and kind.
func (c Config) WithDefaults() Config {
	if c.Kind == "" {
		c.Kind = KindSimulator
	}
	if c.Name == "" {
		c.Name = c.Kind
	}
	return c
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// Validate checks the feed's own fields and the settings of its kind.
func (c Config) Validate() error {
	var errs []error
	if c.Name != "" && !nameRE.MatchString(c.Name) {
		errs = append(errs, yamlconf.Errorf("name", "must be 1-64 letters, digits, '_', '.' or '-' (got %q)", c.Name))
	}
	switch c.Kind {
	case "", KindSimulator:
		errs = append(errs, yamlconf.Prefix("simulator", c.Simulator.Validate()))
	default:
		errs = append(errs, yamlconf.Errorf("kind", "unknown feed kind %q; use one of: %s", c.Kind, KindSimulator))
	}
	return errors.Join(errs...)
}

// New builds the Source the config describes, for the given products (the
// catalog entries of c.Products, resolved by the caller).
func New(c Config, products []Product, log *zap.Logger) (Source, error) {
	c = c.WithDefaults()
	switch c.Kind {
	case KindSimulator:
		sim, err := NewSimulator(c.Name, c.Simulator, products)
		if err != nil {
			return nil, fmt.Errorf("feed %s: %w", c.Name, err)
		}
		return sim, nil
	}
	return nil, fmt.Errorf("feed: unknown kind %q", c.Kind)
}
