package main

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"go.uber.org/zap"

	"github.com/tickerfan/tickerfan/feed"
	"github.com/tickerfan/tickerfan/feed/coinbase"
	"github.com/tickerfan/tickerfan/feed/sim"
	"github.com/tickerfan/tickerfan/internal/yamlconf"
	"github.com/tickerfan/tickerfan/model"
)

// The kinds of feed a feedConfig can name, one per adapter.
const (
	kindSimulator = sim.Kind
	kindCoinbase  = coinbase.Kind
	kindReplay    = coinbase.ReplayKind
)

var kinds = []string{kindSimulator, kindCoinbase, kindReplay}

// feedConfig is one configured upstream: its kind, the products it carries and the
// settings of that kind. Products are ids from the catalog; empty means every
// catalog product (only valid for a single feed).
type feedConfig struct {
	// Name identifies the feed in logs, metrics and /feeds. Default: the kind.
	Name string `yaml:"name"`
	// Kind is one of: simulator, coinbase, replay. Default simulator.
	Kind string `yaml:"kind"`
	// Products lists the product ids this feed carries. Default: all products.
	Products []string `yaml:"products"`
	// Simulator configures kind simulator.
	Simulator sim.Config `yaml:"simulator"`
	// Coinbase configures kind coinbase.
	Coinbase coinbase.Config `yaml:"coinbase"`
	// Replay configures kind replay.
	Replay coinbase.ReplayConfig `yaml:"replay"`
}

// WithDefaults fills the name and kind.
func (c feedConfig) WithDefaults() feedConfig {
	if c.Kind == "" {
		c.Kind = kindSimulator
	}
	if c.Name == "" {
		c.Name = c.Kind
	}
	return c
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// Validate checks the feed's own fields and the settings of its kind, and
// that no other kind's settings are given.
func (c feedConfig) Validate() error {
	var errs []error
	if c.Name != "" && !nameRE.MatchString(c.Name) {
		errs = append(errs, yamlconf.Errorf("name", "must be 1-64 letters, digits, '_', '.' or '-' (got %q)", c.Name))
	}
	kind := c.Kind
	if kind == "" {
		kind = kindSimulator
	}
	if !slices.Contains(kinds, kind) {
		return yamlconf.Errorf("kind", "unknown feed kind %q; use one of: %s", c.Kind, strings.Join(kinds, ", "))
	}
	settings := map[string]any{kindSimulator: c.Simulator, kindCoinbase: c.Coinbase, kindReplay: c.Replay}
	for _, k := range kinds {
		if k != kind && !reflect.ValueOf(settings[k]).IsZero() {
			errs = append(errs, yamlconf.Errorf(k, "is set, but the feed's kind is %s; remove it or change the kind", kind))
		}
	}
	switch kind {
	case kindSimulator:
		errs = append(errs, yamlconf.Prefix(kindSimulator, c.Simulator.Validate()))
	case kindCoinbase:
		errs = append(errs, yamlconf.Prefix(kindCoinbase, c.Coinbase.Validate()))
		for _, id := range slices.Sorted(maps.Keys(c.Coinbase.UpstreamIDs)) {
			if len(c.Products) > 0 && !slices.Contains(c.Products, id) {
				errs = append(errs, yamlconf.Errorf("coinbase.upstream_ids", "%s is not one of the feed's products", id))
			}
		}
	case kindReplay:
		errs = append(errs, yamlconf.Prefix(kindReplay, c.Replay.Validate()))
	}
	return errors.Join(errs...)
}

// newSource builds the feed.Source the config describes, for the given products (the
// catalog entries of c.Products, resolved by the caller).
func newSource(c feedConfig, products []model.Product, log *zap.Logger) (feed.Source, error) {
	c = c.WithDefaults()
	var src feed.Source
	var err error
	switch c.Kind {
	case kindSimulator:
		src, err = sim.New(c.Name, c.Simulator, products)
	case kindCoinbase:
		src, err = coinbase.New(c.Name, c.Coinbase, products, log)
	case kindReplay:
		src, err = coinbase.NewReplay(c.Name, c.Replay, products, log)
	default:
		return nil, fmt.Errorf("unknown feed kind %q", c.Kind)
	}
	if err != nil {
		return nil, fmt.Errorf("feed %s: %w", c.Name, err)
	}
	return src, nil
}
