package bench

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"runtime"
	"slices"
	"time"

	"github.com/tickerfan/tickerfan/internal/yamlconf"
)

// Modes of a run.
const (
	ModeThroughput = "throughput" // warm-up, then a fixed measured duration
	ModeIdle       = "idle"       // open N, hold, report memory per connection
	ModeRamp       = "ramp"       // step N up until latency or delivery breaks
	ModeSlow       = "slow"       // a share of subscribers read slowly
)

// Product distributions.
const (
	DistUniform = "uniform"
	DistZipf    = "zipf"
)

// Profile is everything one run does. Its zero value is a working default
// (every field's comment states its default); WithDefaults fills them. The
// YAML files in configs/bench-*.yaml are Profiles, and every field has a
// tickerbench flag of the same meaning.
type Profile struct {
	// Mode is throughput, idle, ramp or slow. Default throughput.
	Mode string `yaml:"mode"`
	// Target is the ws:// URL of the server under test (wss is not supported). Default
	// ws://127.0.0.1:8080/; with server.start, the started server's address.
	Target string `yaml:"target"`
	// MetricsURL is the server's Prometheus endpoint, for its CPU and memory
	// when server.pid is unknown and for its own count of messages sent.
	// Default http://HOST:PORT/metrics of Target; "off" disables.
	MetricsURL string `yaml:"metrics_url"`

	// Transport is how subscribers connect: websocket, or sse (GET /sse on
	// the target's host, the subscription in the query; the same
	// measurements). Default websocket.
	Transport string `yaml:"transport"`

	// Connections is how many subscribers to open (the ramp's ceiling is
	// ramp.max). Default 1000; at most the open-file limit less 256.
	Connections int `yaml:"connections"`
	// ConnectRate is new connections per second. Default 1000.
	ConnectRate float64 `yaml:"connect_rate"`
	// ConnectConcurrency bounds handshakes in flight. Default 64.
	ConnectConcurrency int `yaml:"connect_concurrency"`
	// ConnectTimeout bounds one TCP connect plus WebSocket handshake. Default 10s.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// NoSourceSpread keeps the kernel's choice of source address; by default
	// a loopback target is dialled from 127.0.0.2-127.0.0.254 in turn, so
	// more connections fit than one address's ephemeral ports allow.
	NoSourceSpread bool `yaml:"no_source_spread"`

	// Products are the product ids to pick from. Default: the target's
	// GET /products (or the upstream's products with upstream.enabled).
	Products []string `yaml:"products"`
	// ProductCount (P) keeps only the first P of Products. Default 0: all.
	ProductCount int `yaml:"product_count"`
	// PerConnection (K) is how many products each subscriber takes. Default 2.
	PerConnection int `yaml:"per_connection"`
	// Distribution is how subscribers pick products: uniform or zipf (the
	// first products the most popular). Default uniform.
	Distribution string `yaml:"distribution"`
	// ZipfS is the Zipf exponent s, above 1 (the larger, the more skewed).
	// Default 1.1.
	ZipfS float64 `yaml:"zipf_s"`
	// Seed makes the product picks repeatable. Default 1.
	Seed uint64 `yaml:"seed"`
	// Channels each subscriber subscribes to. Default [level2, ticker,
	// matches]. level2 and level2_batch cannot be mixed: their messages are
	// indistinguishable on one connection.
	Channels []string `yaml:"channels"`

	// Warmup runs before measuring, after all connections are open. Default 3s.
	Warmup time.Duration `yaml:"warmup"`
	// Duration is the measured window. Default 10s; at most 1h.
	Duration time.Duration `yaml:"duration"`
	// Readers is the number of reader goroutines. Default GOMAXPROCS.
	Readers int `yaml:"readers"`
	// MaxMessageBytes bounds one server message. Default 1 MiB.
	MaxMessageBytes int `yaml:"max_message_bytes"`
	// RecvBufferBytes sets every subscriber's SO_RCVBUF (the kernel doubles
	// it), so that under overload the backlog stays in the server, where its
	// staleness is measured, not in this tool's kernel buffers. Default 0: the
	// kernel's autotuning (up to several MiB a socket). slow.recv_buffer_bytes
	// takes precedence for slow subscribers.
	RecvBufferBytes int `yaml:"recv_buffer_bytes"`

	Server   ServerProfile   `yaml:"server"`
	Upstream UpstreamProfile `yaml:"upstream"`
	Idle     IdleProfile     `yaml:"idle"`
	Ramp     RampProfile     `yaml:"ramp"`
	Slow     SlowProfile     `yaml:"slow"`
	Output   OutputProfile   `yaml:"output"`
}

// ServerProfile says where the server under test runs, when it is local.
type ServerProfile struct {
	// Start is the path of a tickerfan binary to start for the run, on a free
	// 127.0.0.1 port with a generated config (the upstream's coinbase feed with
	// upstream.enabled, else its simulator). Default "": use Target.
	Start string `yaml:"start"`
	// PID of a local server under test, to sample /proc/PID. Default 0:
	// the started server's, else the server's /metrics process_* samples.
	PID int `yaml:"pid"`
	// MaxConnections is max_connections of a started server. Default 19500.
	MaxConnections int `yaml:"max_connections"`
}

// UpstreamProfile configures tickerbench's own Coinbase-protocol upstream.
type UpstreamProfile struct {
	// Enabled runs the upstream on 127.0.0.1 for end-to-end latency. Default false.
	Enabled bool `yaml:"enabled"`
	// Listen is its address. Default 127.0.0.1:0 (a free port).
	Listen         string `yaml:"listen"`
	UpstreamConfig `yaml:",inline"`
}

// IdleProfile configures the idle-capacity mode.
type IdleProfile struct {
	// Hold is how long the connections stay open before memory is read. Default 10s.
	Hold time.Duration `yaml:"hold"`
	// WarmupConnections are opened before the baseline is read, so pools and
	// tables that grow once are not charged to the measured connections. Default 200.
	WarmupConnections int `yaml:"warmup_connections"`
}

// RampProfile configures the ramp mode.
type RampProfile struct {
	// Start is the first step's connections. Default 1000.
	Start int `yaml:"start"`
	// Step is how many connections each step adds. Default 1000.
	Step int `yaml:"step"`
	// Max is the last step's connections. Default the profile's connections.
	Max int `yaml:"max"`
	// StepDuration is the measured window of each step. Default 10s.
	StepDuration time.Duration `yaml:"step_duration"`
	// Settle runs after a step's connections are open, before measuring. Default 2s.
	Settle time.Duration `yaml:"settle"`
	// MaxP99 breaks the ramp when a step's p99 latency exceeds it. Default 250ms.
	MaxP99 time.Duration `yaml:"max_p99"`
	// MinDelivery breaks the ramp when a step's delivery ratio falls below it. Default 0.99.
	MinDelivery float64 `yaml:"min_delivery"`
}

// SlowProfile configures the slow-consumer mix.
type SlowProfile struct {
	// Share is the fraction of subscribers that read slowly. Default 0.1.
	Share float64 `yaml:"share"`
	// ReadBytesPerSecond is what a slow subscriber reads. Default 16384.
	ReadBytesPerSecond int `yaml:"read_bytes_per_second"`
	// RecvBufferBytes sets a slow subscriber's SO_RCVBUF, so that the server
	// feels the backpressure soon. Default 16384; the kernel doubles it.
	RecvBufferBytes int `yaml:"recv_buffer_bytes"`
}

// OutputProfile says where results go.
type OutputProfile struct {
	// JSON is the result file for scripts and CI. Default "": none.
	JSON string `yaml:"json"`
	// HTML is a self-contained report with charts. Default "": none.
	HTML string `yaml:"html"`
	// Quiet turns off the progress line. Default false.
	Quiet bool `yaml:"quiet"`
}

// Limits that keep a run bounded.
const (
	maxWindow   = time.Hour
	fdReserve   = 256
	maxProducts = 100_000
)

// WithDefaults returns p with every zero field set to its default.
func (p Profile) WithDefaults() Profile {
	setDefault(&p.Mode, ModeThroughput)
	setDefault(&p.Target, "ws://127.0.0.1:8080/")
	setDefault(&p.Connections, 1000)
	setDefault(&p.ConnectRate, 1000)
	setDefault(&p.ConnectConcurrency, 64)
	setDefault(&p.ConnectTimeout, 10*time.Second)
	setDefault(&p.PerConnection, 2)
	setDefault(&p.Distribution, DistUniform)
	setDefault(&p.ZipfS, 1.1)
	setDefault(&p.Seed, 1)
	if len(p.Channels) == 0 {
		p.Channels = []string{"level2", "ticker", "matches"}
	}
	setDefault(&p.Warmup, 3*time.Second)
	setDefault(&p.Duration, 10*time.Second)
	setDefault(&p.Readers, runtime.GOMAXPROCS(0))
	setDefault(&p.MaxMessageBytes, 1<<20)
	setDefault(&p.Server.MaxConnections, 19500)
	setDefault(&p.Upstream.Listen, "127.0.0.1:0")
	p.Upstream.UpstreamConfig = p.Upstream.UpstreamConfig.WithDefaults()
	setDefault(&p.Idle.Hold, 10*time.Second)
	setDefault(&p.Idle.WarmupConnections, 200)
	setDefault(&p.Ramp.Start, 1000)
	setDefault(&p.Ramp.Step, 1000)
	setDefault(&p.Ramp.Max, p.Connections)
	setDefault(&p.Ramp.StepDuration, 10*time.Second)
	setDefault(&p.Ramp.Settle, 2*time.Second)
	setDefault(&p.Ramp.MaxP99, 250*time.Millisecond)
	setDefault(&p.Ramp.MinDelivery, 0.99)
	setDefault(&p.Slow.Share, 0.1)
	setDefault(&p.Slow.ReadBytesPerSecond, 16384)
	setDefault(&p.Slow.RecvBufferBytes, 16384)
	return p
}

func setDefault[T comparable](field *T, def T) {
	var zero T
	if *field == zero {
		*field = def
	}
}

// LoadProfile reads a YAML profile on top of the defaults. Problems are
// reported as file:line: field: problem, all at once.
func LoadProfile(path string) (Profile, error) {
	var p Profile
	if err := yamlconf.Load(path, &p); err != nil {
		return p, err
	}
	return p.WithDefaults(), nil
}

// knownChannels are the channels the protocol defines that a bench
// subscriber may take.
var knownChannels = []string{"heartbeat", "status", "ticker", "ticker_batch", "level2", "level2_batch", "level2_50", "matches"}

// Validate reports every field a run cannot use, naming the field. Zero
// values are fine: they mean the default.
func (p Profile) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, yamlconf.Errorf(field, format, args...))
	}
	switch p.Mode {
	case "", ModeThroughput, ModeIdle, ModeRamp, ModeSlow:
	default:
		bad("mode", "must be throughput, idle, ramp or slow (got %q)", p.Mode)
	}
	switch p.Transport {
	case "", TransportWebSocket, TransportSSE:
	default:
		bad("transport", "must be websocket or sse (got %q)", p.Transport)
	}
	if p.Target != "" {
		// wss is not offered: the readers read the socket itself, under TLS
		// they would need a TLS record layer of their own.
		if u, err := url.Parse(p.Target); err != nil || u.Scheme != "ws" || u.Host == "" {
			bad("target", "must be a ws:// URL like ws://127.0.0.1:8080/ (got %q); wss:// is not supported", p.Target)
		}
	}
	errs = append(errs, p.rangeErrors()...)
	if p.Readers > 256 {
		bad("readers", "must be at most 256 (got %d); a few per core is plenty", p.Readers)
	}
	switch p.Distribution {
	case "", DistUniform, DistZipf:
	default:
		bad("distribution", "must be uniform or zipf (got %q)", p.Distribution)
	}
	if p.ZipfS != 0 && (p.ZipfS <= 1 || p.ZipfS > 10) {
		bad("zipf_s", "must be above 1 and at most 10 (got %g)", p.ZipfS)
	}
	if len(p.Products) > maxProducts {
		bad("products", "at most %d products (got %d)", maxProducts, len(p.Products))
	}
	if p.ProductCount > maxProducts {
		bad("product_count", "must be at most %d (got %d)", maxProducts, p.ProductCount)
	}
	errs = append(errs, validateChannels(p.Channels)...)
	if p.Ramp.MinDelivery < 0 || p.Ramp.MinDelivery > 1 {
		bad("ramp.min_delivery", "must be between 0 and 1 (got %g)", p.Ramp.MinDelivery)
	}
	if p.Slow.Share < 0 || p.Slow.Share > 1 {
		bad("slow.share", "must be between 0 and 1 (got %g)", p.Slow.Share)
	}
	if p.Upstream.Listen != "" {
		if host, _, err := net.SplitHostPort(p.Upstream.Listen); err != nil || !isLoopback(host) {
			bad("upstream.listen", "must be a loopback host:port like 127.0.0.1:0 (got %q)", p.Upstream.Listen)
		}
	}
	errs = append(errs, yamlconf.Prefix("upstream", p.Upstream.UpstreamConfig.Validate()))
	return errors.Join(errs...)
}

// rangeErrors reports counts, rates and durations out of range.
func (p Profile) rangeErrors() []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, yamlconf.Errorf(field, format, args...))
	}
	limit := FileLimit() - fdReserve
	for _, c := range []struct {
		field string
		v     int
	}{{"connections", p.Connections}, {"ramp.max", p.Ramp.Max}} {
		if c.v < 0 || c.v > limit {
			bad(c.field, "must be between 1 and %d, the open-file limit less %d (got %d)", limit, fdReserve, c.v)
		}
	}
	nonNegative := map[string]float64{
		"connect_rate": p.ConnectRate, "connect_concurrency": float64(p.ConnectConcurrency),
		"product_count": float64(p.ProductCount), "per_connection": float64(p.PerConnection),
		"readers": float64(p.Readers), "max_message_bytes": float64(p.MaxMessageBytes),
		"recv_buffer_bytes":       float64(p.RecvBufferBytes),
		"idle.warmup_connections": float64(p.Idle.WarmupConnections),
		"ramp.start":              float64(p.Ramp.Start), "ramp.step": float64(p.Ramp.Step),
		"slow.read_bytes_per_second": float64(p.Slow.ReadBytesPerSecond),
		"slow.recv_buffer_bytes":     float64(p.Slow.RecvBufferBytes),
		"server.pid":                 float64(p.Server.PID), "server.max_connections": float64(p.Server.MaxConnections),
	}
	for _, field := range sortedKeys(nonNegative) {
		if nonNegative[field] < 0 {
			bad(field, "must be >= 0 (got %g); 0 means the default", nonNegative[field])
		}
	}
	durations := map[string]time.Duration{
		"connect_timeout": p.ConnectTimeout, "warmup": p.Warmup, "duration": p.Duration,
		"idle.hold": p.Idle.Hold, "ramp.step_duration": p.Ramp.StepDuration, "ramp.settle": p.Ramp.Settle,
		"ramp.max_p99": p.Ramp.MaxP99,
	}
	for _, field := range sortedKeys(durations) {
		if d := durations[field]; d < 0 || d > maxWindow {
			bad(field, "must be between 0 and %s (got %s)", maxWindow, d)
		}
	}
	return errs
}

func validateChannels(chs []string) []error {
	var errs []error
	level2 := 0
	for i, c := range chs {
		if !slices.Contains(knownChannels, c) {
			errs = append(errs, yamlconf.Errorf(fmt.Sprintf("channels[%d]", i), "unknown channel %q; use %v", c, knownChannels))
		}
		if c == "level2" || c == "level2_batch" || c == "level2_50" {
			level2++
		}
	}
	if level2 > 1 {
		errs = append(errs, yamlconf.Errorf("channels", "take one of level2, level2_batch, level2_50: their messages cannot be told apart on one connection"))
	}
	return errs
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
