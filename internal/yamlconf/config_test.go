package yamlconf_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tickerfan/tickerfan/internal/yamlconf"
)

// testConfig is shaped like tickerfan's configs: nested sections, a list of
// sections, durations, decimals, an inlined struct and a Validate method.
type testConfig struct {
	Server      testServer                 `yaml:"server"`
	Feeds       []testFeed                 `yaml:"feeds"`
	Fees        map[string]decimal.Decimal `yaml:"fees"`
	Tags        []string                   `yaml:"tags,omitempty"`
	Debug       bool                       `yaml:"debug"`
	Limits      *testLimits                `yaml:"limits"`
	Internal    string                     `yaml:"-"`
	testLogging `yaml:",inline"`
}

type testLogging struct {
	LogLevel string `yaml:"log_level"`
}

type testServer struct {
	Listen  string `yaml:"listen"`
	Workers int    `yaml:"workers"`
}

type testFeed struct {
	Name      string   `yaml:"name"`
	Products  []string `yaml:"products"`
	Simulator *testSim `yaml:"simulator"`
}

type testSim struct {
	Depth    int             `yaml:"depth"`
	Interval time.Duration   `yaml:"interval"`
	TickSize decimal.Decimal `yaml:"tick_size"`
	Drift    float64         `yaml:"drift"`
	Seed     int64           `yaml:"seed"`
}

type testLimits struct {
	MaxConns int `yaml:"max_conns"`
}

// newTestConfig returns a config holding its defaults, as a package's New would.
func newTestConfig() *testConfig {
	return &testConfig{
		Server:      testServer{Listen: ":8080", Workers: 4},
		testLogging: testLogging{LogLevel: "info"},
	}
}

// Validate reports problems the way tickerfan's packages do: *FieldErrors
// with paths relative to the config, moved under their section with Prefix.
func (c *testConfig) Validate() error {
	var errs []error
	if c.Server.Workers < 1 {
		errs = append(errs, yamlconf.Errorf("server.workers", "must be >= 1 (got %d)", c.Server.Workers))
	}
	for i, f := range c.Feeds {
		errs = append(errs, yamlconf.Prefix(fmt.Sprintf("feeds[%d]", i), f.validate()))
	}
	for k, v := range c.Fees {
		if v.IsNegative() {
			errs = append(errs, yamlconf.Errorf("fees."+k, "must not be negative (got %s)", v))
		}
	}
	if len(c.Feeds) > 3 {
		errs = append(errs, errors.New("at most 3 feeds are supported"))
	}
	return errors.Join(errs...)
}

func (f *testFeed) validate() error {
	var errs []error
	if f.Name == "" {
		errs = append(errs, yamlconf.Errorf("name", "required"))
	}
	if f.Simulator != nil {
		errs = append(errs, yamlconf.Prefix("simulator", f.Simulator.validate()))
	}
	return errors.Join(errs...)
}

func (s *testSim) validate() error {
	var errs []error
	if s.Depth < 1 {
		errs = append(errs, yamlconf.Errorf("depth", "must be >= 1 (got %d)", s.Depth))
	}
	if !s.TickSize.IsPositive() {
		errs = append(errs, yamlconf.Errorf("tick_size", "must be > 0 (got %s)", s.TickSize))
	}
	return errors.Join(errs...)
}
