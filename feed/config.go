package feed

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"go.uber.org/zap"

	"github.com/tickerfan/tickerfan/internal/yamlconf"
)

// Kinds of feed a Config can name.
const (
	// KindSimulator is the built-in market simulator (SimConfig).
	KindSimulator = "simulator"
	// KindCoinbase is a Coinbase-protocol WebSocket upstream (CoinbaseConfig).
	KindCoinbase = "coinbase"
	// KindReplay plays a recording back (ReplayConfig).
	KindReplay = "replay"
)

var kinds = []string{KindSimulator, KindCoinbase, KindReplay}

// Config is one configured upstream: its kind, the products it carries and the
// settings of that kind. Products are ids from the catalog; empty means every
// catalog product (only valid for a single feed).
type Config struct {
	// Name identifies the feed in logs, metrics and /feeds. Default: the kind.
	Name string `yaml:"name"`
	// Kind is one of: simulator, coinbase, replay. Default simulator.
	Kind string `yaml:"kind"`
	// Products lists the product ids this feed carries. Default: all products.
	Products []string `yaml:"products"`
	// Simulator configures kind simulator.
	Simulator SimConfig `yaml:"simulator"`
	// Coinbase configures kind coinbase.
	Coinbase CoinbaseConfig `yaml:"coinbase"`
	// Replay configures kind replay.
	Replay ReplayConfig `yaml:"replay"`
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

// Validate checks the feed's own fields and the settings of its kind, and
// that no other kind's settings are given.
func (c Config) Validate() error {
	var errs []error
	if c.Name != "" && !nameRE.MatchString(c.Name) {
		errs = append(errs, yamlconf.Errorf("name", "must be 1-64 letters, digits, '_', '.' or '-' (got %q)", c.Name))
	}
	kind := c.Kind
	if kind == "" {
		kind = KindSimulator
	}
	if !slices.Contains(kinds, kind) {
		return yamlconf.Errorf("kind", "unknown feed kind %q; use one of: %s", c.Kind, strings.Join(kinds, ", "))
	}
	settings := map[string]any{KindSimulator: c.Simulator, KindCoinbase: c.Coinbase, KindReplay: c.Replay}
	for _, k := range kinds {
		if k != kind && !reflect.ValueOf(settings[k]).IsZero() {
			errs = append(errs, yamlconf.Errorf(k, "is set, but the feed's kind is %s; remove it or change the kind", kind))
		}
	}
	switch kind {
	case KindSimulator:
		errs = append(errs, yamlconf.Prefix(KindSimulator, c.Simulator.Validate()))
	case KindCoinbase:
		errs = append(errs, yamlconf.Prefix(KindCoinbase, c.Coinbase.Validate()))
		for _, id := range slices.Sorted(maps.Keys(c.Coinbase.UpstreamIDs)) {
			if len(c.Products) > 0 && !slices.Contains(c.Products, id) {
				errs = append(errs, yamlconf.Errorf("coinbase.upstream_ids", "%s is not one of the feed's products", id))
			}
		}
	case KindReplay:
		errs = append(errs, yamlconf.Prefix(KindReplay, c.Replay.Validate()))
	}
	return errors.Join(errs...)
}

// New builds the Source the config describes, for the given products (the
// catalog entries of c.Products, resolved by the caller).
func New(c Config, products []Product, log *zap.Logger) (Source, error) {
	c = c.WithDefaults()
	var src Source
	var err error
	switch c.Kind {
	case KindSimulator:
		src, err = NewSimulator(c.Name, c.Simulator, products)
	case KindCoinbase:
		src, err = NewCoinbase(c.Name, c.Coinbase, products, log)
	case KindReplay:
		src, err = NewReplay(c.Name, c.Replay, products, log)
	default:
		return nil, fmt.Errorf("feed: unknown kind %q", c.Kind)
	}
	if err != nil {
		return nil, fmt.Errorf("feed %s: %w", c.Name, err)
	}
	return src, nil
}
