package yamlconf_test

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tickerfan/tickerfan/internal/yamlconf"
)

// decodeCases pairs a config file with the exact error Decode must return
// ("" for none). Lines in yaml are joined with "\n", so line i of the file is
// yaml[i-1].
var decodeCases = []struct {
	name string
	yaml []string
	want []string
}{
	{"empty file keeps defaults", nil, nil},
	{"comments only", []string{"# nothing yet"}, nil},
	{"unknown field", []string{
		"server:",
		`  listen: ":9000"`,
		"  lisen: x",
	}, []string{
		`cfg.yaml:3: server.lisen: unknown field "lisen"; known fields: listen, workers`,
	}},
	{"validate gets the line", []string{
		"# workers",
		"",
		"server:",
		`  listen: ":9000"`,
		"  workers: 0",
	}, []string{
		"cfg.yaml:5: server.workers: must be >= 1 (got 0)",
	}},
	{"unknown top-level field lists inlined ones", []string{"verbose: true"}, []string{
		`cfg.yaml:1: verbose: unknown field "verbose"; known fields: debug, feeds, fees, limits, log_level, server, tags`,
	}},
	{"field tagged - is unknown", []string{"internal: x"}, []string{
		`cfg.yaml:1: internal: unknown field "internal"; known fields: debug, feeds, fees, limits, log_level, server, tags`,
	}},
	{"duplicate key", []string{
		"server:",
		"  workers: 2",
		"  workers: 3",
	}, []string{
		`cfg.yaml:3: server.workers: duplicate key "workers", first set on line 2`,
	}},
	{"wrong scalar types", []string{
		"server: {workers: many}",
		"debug: maybe",
		"limits: {max_conns: 1.5}",
		"feeds: [{name: a, simulator: {depth: 1, tick_size: 1, drift: fast, seed: 9223372036854775808}}]",
	}, []string{
		`cfg.yaml:1: server.workers: expected an integer, got "many"`,
		`cfg.yaml:2: debug: expected true or false, got "maybe"`,
		`cfg.yaml:3: limits.max_conns: expected an integer, got "1.5"`,
		`cfg.yaml:4: feeds[0].simulator.drift: expected a number, got "fast"`,
		`cfg.yaml:4: feeds[0].simulator.seed: expected an integer, got "9223372036854775808"`,
	}},
	{"wrong shapes", []string{
		"server: 8080",
		"tags: spot",
		"fees: [1, 2]",
		"feeds:",
		"  - name: [a]",
		"    simulator: {depth: 1, tick_size: {value: 1}}",
	}, []string{
		`cfg.yaml:1: server: expected a mapping, got "8080"`,
		`cfg.yaml:2: tags: expected a list, got "spot"`,
		`cfg.yaml:3: fees: expected a mapping, got a list`,
		`cfg.yaml:5: feeds[0].name: expected a string, got a list`,
		`cfg.yaml:6: feeds[0].simulator.tick_size: expected a decimal.Decimal value, got a mapping`,
	}},
	{"durations and decimals", []string{
		"feeds:",
		"  - name: a",
		"    simulator:",
		"      depth: 1",
		"      interval: 5 parsecs",
		"      tick_size: abc",
		"  - name: b",
		"    simulator: {depth: 1, interval: 5, tick_size: 0.01}",
	}, []string{
		`cfg.yaml:5: feeds[0].simulator.interval: expected a duration such as "5s" or "250ms", got "5 parsecs"`,
		`cfg.yaml:6: feeds[0].simulator.tick_size: invalid value "abc": error decoding string 'abc': can't convert abc to decimal`,
		`cfg.yaml:8: feeds[1].simulator.interval: expected a duration such as "5s" or "250ms", got "5"`,
	}},
	{"validate of an undecodable value is not repeated", []string{
		"feeds:",
		"  - name: a",
		"    simulator:",
		"      depth: deep",
		"      tick_size: 0.5",
	}, []string{
		`cfg.yaml:4: feeds[0].simulator.depth: expected an integer, got "deep"`,
	}},
	{"absent field gets its nearest ancestor's line", []string{
		"feeds:",
		"  - name: a",
		"    simulator:",
		"      tick_size: 0.5",
		"  - simulator: {depth: 2, tick_size: 1}",
	}, []string{
		"cfg.yaml:3: feeds[0].simulator.depth: must be >= 1 (got 0)",
		"cfg.yaml:5: feeds[1].name: required",
	}},
	{"null list item keeps the indices", []string{
		"feeds:",
		"  - ~",
		"  - name: b",
		"    simulator: {depth: x, tick_size: 1}",
	}, []string{
		"cfg.yaml:2: feeds[0].name: required",
		`cfg.yaml:4: feeds[1].simulator.depth: expected an integer, got "x"`,
	}},
	{"error without a field comes last", []string{
		"feeds: [{name: a}, {name: b}, {name: c}, {name: d}]",
		"server: {workers: -1}",
	}, []string{
		"cfg.yaml:2: server.workers: must be >= 1 (got -1)",
		"cfg.yaml: at most 3 feeds are supported",
	}},
	{"merge checks merged keys", []string{
		"feeds:",
		"  - name: a",
		"    simulator: &sim",
		"      depth: 5",
		"      tick_size: 0.01",
		"  - name: b",
		"    simulator:",
		"      <<: *sim",
		"      bogus: 1",
		"  - name: c",
		"    simulator: {<<: 3}",
	}, []string{
		`cfg.yaml:9: feeds[1].simulator.bogus: unknown field "bogus"; known fields: depth, drift, interval, seed, tick_size`,
		`cfg.yaml:11: feeds[2].simulator: a merge (<<) takes a mapping or a list of mappings, got "3"`,
		"cfg.yaml:11: feeds[2].simulator.depth: must be >= 1 (got 0)",
		"cfg.yaml:11: feeds[2].simulator.tick_size: must be > 0 (got 0)",
	}},
	{"syntax error", []string{
		"server:",
		`  listen: ":9000"`,
		"\tworkers: 2",
	}, []string{
		"cfg.yaml:3: syntax error: found character that cannot start any token",
	}},
	{"parser error hints at later lines", []string{"server:", "  listen: x", " workers: 2"}, []string{
		"cfg.yaml:2: syntax error: did not find expected key (the mistake may be on a later line; check the indentation)",
	}},
	{"top level is a list", []string{"- server", "- feeds"}, []string{
		"cfg.yaml:1: the top level must be a mapping of fields, got a list",
	}},
	{"top level is a scalar", []string{"hello"}, []string{
		`cfg.yaml:1: the top level must be a mapping of fields, got "hello"`,
	}},
	{"second document", []string{"server: {workers: 2}", "---", "server: {workers: 3}"}, []string{
		"cfg.yaml:2: a config file holds one YAML document; found another one here",
	}},
	{"many problems at once", []string{
		"server:",                   // 1
		`  lisen: ":9000"`,          // 2
		"  workers: 0",              // 3
		"feeds:",                    // 4
		"  - name: a",               // 5
		"    simulator:",            // 6
		"      depth: deep",         // 7
		"      interval: 5 parsecs", // 8
		"      tick_size: abc",      // 9
		"  - name: c",               // 10
		"    name: d",               // 11
		"fees:",                     // 12
		"  BTC-USD: -1",             // 13
		"verbose: true",             // 14
	}, []string{
		`cfg.yaml:2: server.lisen: unknown field "lisen"; known fields: listen, workers`,
		"cfg.yaml:3: server.workers: must be >= 1 (got 0)",
		`cfg.yaml:7: feeds[0].simulator.depth: expected an integer, got "deep"`,
		`cfg.yaml:8: feeds[0].simulator.interval: expected a duration such as "5s" or "250ms", got "5 parsecs"`,
		`cfg.yaml:9: feeds[0].simulator.tick_size: invalid value "abc": error decoding string 'abc': can't convert abc to decimal`,
		`cfg.yaml:11: feeds[1].name: duplicate key "name", first set on line 10`,
		"cfg.yaml:13: fees.BTC-USD: must not be negative (got -1)",
		`cfg.yaml:14: verbose: unknown field "verbose"; known fields: debug, feeds, fees, limits, log_level, server, tags`,
	}},
}

func TestDecodeProblems(t *testing.T) {
	for _, tc := range decodeCases {
		t.Run(tc.name, func(t *testing.T) {
			data := []byte(strings.Join(tc.yaml, "\n"))
			err := yamlconf.Decode("cfg.yaml", data, newTestConfig())
			if got, want := errString(err), strings.Join(tc.want, "\n"); got != want {
				t.Fatalf("Decode error:\n%s\nwant:\n%s", got, want)
			}
			if err == nil {
				return
			}
			var e *yamlconf.Error
			if !errors.As(err, &e) || len(e.Problems) != len(tc.want) {
				t.Fatalf("Decode returned %#v, want an *Error with %d problems", err, len(tc.want))
			}
		})
	}
}

func TestDecodeValues(t *testing.T) {
	cfg := newTestConfig()
	if err := yamlconf.Load(filepath.Join("testdata", "valid.yaml"), cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Server != (testServer{Listen: "127.0.0.1:9000", Workers: 8}) {
		t.Errorf("Server = %+v", cfg.Server)
	}
	if cfg.LogLevel != "debug" || !cfg.Debug || cfg.Limits == nil || cfg.Limits.MaxConns != 10000 {
		t.Errorf("LogLevel %q, Debug %v, Limits %+v", cfg.LogLevel, cfg.Debug, cfg.Limits)
	}
	if strings.Join(cfg.Tags, ",") != "spot,sim" || len(cfg.Feeds) != 2 {
		t.Fatalf("Tags %q, %d feeds", cfg.Tags, len(cfg.Feeds))
	}
	a, b := cfg.Feeds[0], cfg.Feeds[1]
	if a.Name != "sim-a" || strings.Join(a.Products, ",") != "BTC-USD,ETH-USD" || b.Name != "sim-b" {
		t.Errorf("feeds = %+v, %+v", a, b)
	}
	wantA := testSim{Depth: 50, Interval: 250 * time.Millisecond, Drift: -0.5, Seed: 1234567890123}
	wantB := testSim{Depth: 10, Interval: 90 * time.Second, Drift: -0.5, Seed: 1234567890123}
	for _, c := range []struct{ got, want *testSim }{{a.Simulator, &wantA}, {b.Simulator, &wantB}} {
		tick := c.got.TickSize
		c.got.TickSize = decimal.Decimal{}
		if *c.got != *c.want || tick.String() != "0.01" {
			t.Errorf("simulator = %+v tick %s, want %+v tick 0.01", *c.got, tick, *c.want)
		}
	}
	if cfg.Fees["BTC-USD"].String() != "0.001" || cfg.Fees["ETH-USD"].String() != "0.0025" {
		t.Errorf("Fees = %v", cfg.Fees)
	}
}

// TestDecodeDecimalExact checks that decimals never pass through float64:
// quoted or not, the digits in the file are the digits decoded.
func TestDecodeDecimalExact(t *testing.T) {
	for _, v := range []string{"0.01", `"0.01"`, "0.1", "123456789.123456789", "'1e-18'", "100"} {
		cfg := newTestConfig()
		if err := yamlconf.Decode("cfg.yaml", []byte("fees: {x: "+v+"}"), cfg); err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		want := decimal.RequireFromString(strings.Trim(v, `"'`))
		if got := cfg.Fees["x"]; !got.Equal(want) || got.String() != want.String() {
			t.Errorf("%s decoded as %s, want %s", v, got, want)
		}
	}
}

func TestDecodeKeepsDefaults(t *testing.T) {
	cfg := newTestConfig()
	if err := yamlconf.Decode("cfg.yaml", []byte("server: {workers: 2}\nlog_level: ~\n"), cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Listen != ":8080" || cfg.Server.Workers != 2 || cfg.LogLevel != "info" {
		t.Errorf("got %+v, log_level %q; want the default listen and log level kept", cfg.Server, cfg.LogLevel)
	}
}

func TestDecodeBadTarget(t *testing.T) {
	for _, dst := range []any{nil, testConfig{}, (*testConfig)(nil), new(int)} {
		err := yamlconf.Decode("cfg.yaml", []byte("a: 1"), dst)
		if !strings.Contains(errString(err), "needs a non-nil pointer to a struct") {
			t.Errorf("Decode into %T: %v", dst, err)
		}
	}
}

func TestLoadMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.yaml")
	err := yamlconf.Load(path, newTestConfig())
	if want := path + ": cannot read config file: no such file or directory"; errString(err) != want {
		t.Errorf("Load error %q, want %q", errString(err), want)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is(%v, fs.ErrNotExist) = false", err)
	}
}

func TestErrorRendering(t *testing.T) {
	e := &yamlconf.Error{Problems: []yamlconf.Problem{
		{File: "a.yaml", Msg: "no line, no field"},
		{File: "a.yaml", Line: 9, Field: "x.y", Msg: "last"},
		{File: "a.yaml", Line: 2, Msg: "no field"},
	}}
	want := "a.yaml:2: no field\na.yaml:9: x.y: last\na.yaml: no line, no field"
	if e.Error() != want {
		t.Errorf("Error() = %q, want %q", e.Error(), want)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
