package main

import (
	"flag"
	"strings"

	"github.com/tickerfan/tickerfan/bench"
)

// bindFlags defines one flag per profile field on fs, bound to p's fields.
// The same definitions are bound twice: to a profile holding the defaults,
// for parsing and -h, and then to the profile of the run, where only the
// flags the user set are applied over the profile file.
func bindFlags(fs *flag.FlagSet, p *bench.Profile) {
	fs.StringVar(&p.Mode, "mode", p.Mode, "run mode: throughput (warm-up, then a measured window), idle (open, hold, memory per connection), ramp (step connections up to the knee) or slow (a share of slow readers)")
	fs.StringVar(&p.Target, "target", p.Target, "WebSocket `url` of the server under test (ignored with -start-server)")
	fs.StringVar(&p.MetricsURL, "metrics-url", p.MetricsURL, "server's Prometheus /metrics `url`, for its CPU, memory and messages sent (default http://TARGET-HOST/metrics; \"off\" to disable)")

	fs.StringVar(&p.Transport, "transport", p.Transport, "how subscribers connect: websocket, or sse (server-sent events from GET /sse, the subscription in the query)")
	fs.IntVar(&p.Connections, "connections", p.Connections, "subscribers to open (ramp: see -ramp-max); at most the open-file limit less 256")
	fs.Float64Var(&p.ConnectRate, "connect-rate", p.ConnectRate, "new connections per second")
	fs.IntVar(&p.ConnectConcurrency, "connect-concurrency", p.ConnectConcurrency, "WebSocket handshakes in flight at most")
	fs.DurationVar(&p.ConnectTimeout, "connect-timeout", p.ConnectTimeout, "bound on one TCP connect plus WebSocket handshake")
	fs.BoolVar(&p.NoSourceSpread, "no-source-spread", p.NoSourceSpread, "do not spread a loopback target's connections over source addresses 127.0.0.2-127.0.0.254")

	fs.Var(list{&p.Products}, "products", "`list` of product ids, comma-separated, to pick from (default: the target's GET /products, or the upstream's)")
	fs.IntVar(&p.ProductCount, "product-count", p.ProductCount, "P: use only the first P products (0: all)")
	fs.IntVar(&p.PerConnection, "per-connection", p.PerConnection, "K: products each subscriber subscribes to")
	fs.StringVar(&p.Distribution, "distribution", p.Distribution, "how subscribers pick products: uniform or zipf (first products most popular)")
	fs.Float64Var(&p.ZipfS, "zipf-s", p.ZipfS, "Zipf exponent s, > 1")
	fs.Uint64Var(&p.Seed, "seed", p.Seed, "seed of the product picks (the same seed picks the same products)")
	fs.Var(list{&p.Channels}, "channels", "`list` of channels to subscribe, comma-separated: level2 or level2_batch, ticker, ticker_batch, matches, heartbeat, status")

	fs.DurationVar(&p.Warmup, "warmup", p.Warmup, "time after all connections are open before measuring")
	fs.DurationVar(&p.Duration, "duration", p.Duration, "measured window (at most 1h)")
	fs.IntVar(&p.Readers, "readers", p.Readers, "reader goroutines (default GOMAXPROCS)")
	fs.IntVar(&p.MaxMessageBytes, "max-message-bytes", p.MaxMessageBytes, "largest server message accepted")
	fs.IntVar(&p.RecvBufferBytes, "recv-buffer-bytes", p.RecvBufferBytes, "every subscriber's SO_RCVBUF (0: the kernel's autotuning)")

	fs.StringVar(&p.Server.Start, "start-server", p.Server.Start, "`path` of a tickerfan binary to start on a free 127.0.0.1 port (with -upstream, fed by it through its coinbase feed; else its simulator)")
	fs.IntVar(&p.Server.PID, "server-pid", p.Server.PID, "pid of a local server under test, to sample /proc/PID (default: the started server's)")
	fs.IntVar(&p.Server.MaxConnections, "server-max-connections", p.Server.MaxConnections, "max_connections of a started server")

	fs.BoolVar(&p.Upstream.Enabled, "upstream", p.Upstream.Enabled, "run tickerbench's own Coinbase-protocol upstream, for end-to-end latency from upstream send")
	fs.StringVar(&p.Upstream.Listen, "upstream-listen", p.Upstream.Listen, "upstream address (loopback); fix the port to point an external server at it")
	fs.IntVar(&p.Upstream.Products, "upstream-products", p.Upstream.Products, "upstream products, named T001-USD, T002-USD, ...")
	fs.Float64Var(&p.Upstream.UpdatesPerSecond, "upstream-updates", p.Upstream.UpdatesPerSecond, "upstream l2update messages per product per second")
	fs.Float64Var(&p.Upstream.TradesPerSecond, "upstream-trades", p.Upstream.TradesPerSecond, "upstream trades (a match and a ticker each) per product per second")
	fs.IntVar(&p.Upstream.Depth, "upstream-depth", p.Upstream.Depth, "levels per side of each upstream book")
	fs.DurationVar(&p.Upstream.Tick, "upstream-tick", p.Upstream.Tick, "upstream send period")

	fs.DurationVar(&p.Idle.Hold, "idle-hold", p.Idle.Hold, "idle mode: how long the connections are held before memory is read")
	fs.IntVar(&p.Idle.WarmupConnections, "idle-warmup-connections", p.Idle.WarmupConnections, "idle mode: connections opened before the baseline is read")

	fs.IntVar(&p.Ramp.Start, "ramp-start", p.Ramp.Start, "ramp mode: connections of the first step")
	fs.IntVar(&p.Ramp.Step, "ramp-step", p.Ramp.Step, "ramp mode: connections added per step")
	fs.IntVar(&p.Ramp.Max, "ramp-max", p.Ramp.Max, "ramp mode: connections of the last step (default -connections)")
	fs.DurationVar(&p.Ramp.StepDuration, "ramp-step-duration", p.Ramp.StepDuration, "ramp mode: measured window of each step")
	fs.DurationVar(&p.Ramp.Settle, "ramp-settle", p.Ramp.Settle, "ramp mode: wait after a step's connections open, before measuring")
	fs.DurationVar(&p.Ramp.MaxP99, "ramp-max-p99", p.Ramp.MaxP99, "ramp mode: a step whose p99 latency exceeds this breaks the ramp")
	fs.Float64Var(&p.Ramp.MinDelivery, "ramp-min-delivery", p.Ramp.MinDelivery, "ramp mode: a step whose delivery ratio falls below this breaks the ramp")

	fs.Float64Var(&p.Slow.Share, "slow-share", p.Slow.Share, "slow mode: fraction of subscribers that read slowly")
	fs.IntVar(&p.Slow.ReadBytesPerSecond, "slow-read-bytes-per-second", p.Slow.ReadBytesPerSecond, "slow mode: what a slow subscriber reads per second")
	fs.IntVar(&p.Slow.RecvBufferBytes, "slow-recv-buffer-bytes", p.Slow.RecvBufferBytes, "slow mode: SO_RCVBUF of a slow subscriber (the kernel doubles it)")

	fs.StringVar(&p.Output.JSON, "json", p.Output.JSON, "write the JSON result to this `file`")
	fs.StringVar(&p.Output.HTML, "html", p.Output.HTML, "write the HTML report (inline SVG charts, no scripts) to this `file`")
	fs.BoolVar(&p.Output.Quiet, "quiet", p.Output.Quiet, "no progress line on stderr")
}

// list is a comma-separated flag bound to a []string.
type list struct{ p *[]string }

// String joins the list with commas (flag.Value).
func (l list) String() string {
	if l.p == nil {
		return ""
	}
	return strings.Join(*l.p, ",")
}

// Set replaces the list with the comma-separated items of s (flag.Value).
func (l list) Set(s string) error {
	*l.p = nil
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l.p = append(*l.p, v)
		}
	}
	return nil
}
