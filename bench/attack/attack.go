// Package attack replays the attacks of issue 9 against a running tickerfan
// on loopback, each beside a canary subscriber (its level2 book checked exact
// by sequence) and a once-a-second probe (/healthz and a new upgrade), and
// says per attack whether the server held, degraded or failed. Every attack
// is bounded by Config: a number of connections and a duration.
package attack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"time"
)

// Config sets the target and the scale. Its zero value, with Target set,
// is a working default.
type Config struct {
	// Target is the server's WebSocket URL, on loopback (ws://127.0.0.1:9100/).
	Target string
	// ServerPID, when set, is read for the server's RSS before and after each
	// attack. Default 0: RSS is not reported.
	ServerPID int
	// Duration is how long each attack runs. Default 10s.
	Duration time.Duration
	// Conns is the connections each attack opens. Default 1000.
	Conns int
	// Trickle is the pause between the bytes a slow attacker sends. Default 1s.
	Trickle time.Duration
	// Product is the canary's and the attackers' product. Default BTC-USD.
	Product string
	// MaxConnections is the server's max_connections, for the connect flood
	// to check against. Default 0: the flood only counts.
	MaxConnections int
	// RSSSlack is how much the RSS or the heap may stay above its level
	// before an attack, once the attack is over, before the attack counts as
	// degraded. Default 64 MiB.
	RSSSlack int64
	// Only names the attacks to run. Default: all, in the order of Names.
	Only []string
}

// The defaults of Config, documented on its fields.
const (
	defaultDuration = 10 * time.Second
	defaultConns    = 1000
	defaultTrickle  = time.Second
	defaultProduct  = "BTC-USD"
	defaultRSSSlack = 64 << 20
)

// WithDefaults returns c with its zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Duration == 0 {
		c.Duration = defaultDuration
	}
	if c.Conns == 0 {
		c.Conns = defaultConns
	}
	if c.Trickle == 0 {
		c.Trickle = defaultTrickle
	}
	if c.Product == "" {
		c.Product = defaultProduct
	}
	if c.RSSSlack == 0 {
		c.RSSSlack = defaultRSSSlack
	}
	if len(c.Only) == 0 {
		c.Only = Names()
	}
	return c
}

// Validate reports every bad field at once, naming it and the bad value.
func (c Config) Validate() error {
	var errs []error
	u, err := url.Parse(c.Target)
	if err != nil || u.Scheme != "ws" || !isLoopback(u.Hostname()) {
		errs = append(errs, fmt.Errorf("target: must be a ws:// URL on loopback like ws://127.0.0.1:9100/ (got %q)", c.Target))
	}
	if c.Duration < time.Second || c.Duration > 10*time.Minute {
		errs = append(errs, fmt.Errorf("duration: must be between 1s and 10m (got %s)", c.Duration))
	}
	if c.Conns < 1 || c.Conns > 20000 {
		errs = append(errs, fmt.Errorf("conns: must be between 1 and 20000 (got %d)", c.Conns))
	}
	if c.Trickle < 10*time.Millisecond {
		errs = append(errs, fmt.Errorf("trickle: must be at least 10ms (got %s)", c.Trickle))
	}
	for _, n := range c.Only {
		if !slices.Contains(Names(), n) {
			errs = append(errs, fmt.Errorf("only: unknown attack %q; use %v", n, Names()))
		}
	}
	return errors.Join(errs...)
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// Verdict is how the server came through one attack.
type Verdict string

// The verdicts, from best to worst.
const (
	// Held: the canary stayed exact, every probe answered within a second,
	// the attack's own checks passed and RSS and heap came back.
	Held Verdict = "held"
	// Degraded: the canary stayed exact, but a probe failed or was slow, an
	// attack check failed (a wrong close code, too many connections) or RSS
	// or heap stayed up.
	Degraded Verdict = "degraded"
	// Failed: the canary's book went wrong or its connection was lost, or
	// the server did not answer a probe once the attack was over.
	Failed Verdict = "failed"
)

// Outcome is the result of one attack.
type Outcome struct {
	Attack  string
	Verdict Verdict
	Probes  ProbeStats
	Canary  string // "exact (N checks)" or what went wrong
	// Before, Peak and After sample the server before the attack, at its
	// worst during it (once a second) and once it is over (settleMemory).
	Before, Peak, After Sample
	Notes               []string // what the attack itself saw
	AttackFail          bool     // an attack check failed
}

// Run runs the configured attacks one after the other, writing progress to
// logw, and returns their outcomes. It stops early when ctx is done.
func Run(ctx context.Context, cfg Config, logw io.Writer) ([]Outcome, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	u, _ := url.Parse(cfg.Target)
	e := &env{cfg: cfg, host: u.Host}
	var out []Outcome
	for _, a := range attacks {
		if !slices.Contains(cfg.Only, a.name) || ctx.Err() != nil {
			continue
		}
		fmt.Fprintf(logw, "attack %s: %d connections for %s\n", a.name, cfg.Conns, cfg.Duration)
		o, err := e.run(ctx, a)
		if err != nil {
			return out, fmt.Errorf("attack %s: %w", a.name, err)
		}
		fmt.Fprintf(logw, "attack %s: %s\n", a.name, o.Verdict)
		out = append(out, o)
	}
	return out, nil
}

// env is what every attack gets: the config and the server's address.
type env struct {
	cfg  Config
	host string // 127.0.0.1:port
}

// run runs one attack beside a canary and a probe, then judges it.
func (e *env) run(ctx context.Context, a attack) (Outcome, error) {
	o := Outcome{Attack: a.name, Before: readSample(e.host, e.cfg.ServerPID)}
	can, err := startCanary(ctx, e.host, e.cfg.Product)
	if err != nil {
		return o, fmt.Errorf("canary: %w", err)
	}
	defer can.stop()
	actx, cancel := context.WithTimeout(ctx, e.cfg.Duration)
	pr := startProbe(actx, e.host, e.cfg.Product, e.cfg.ServerPID)
	res := a.run(actx, e)
	cancel()
	o.Probes, o.Peak = pr.wait()
	o.Peak = o.Peak.peak(o.Before)
	o.Notes, o.AttackFail = res.notes, res.bad
	up := settle(ctx, e.host, e.cfg.Product, 10*time.Second)
	o.After = e.settleMemory(ctx, o.Before)
	o.Canary = can.verify(ctx, e.host)
	o.Verdict = judge(o, up, can.ok(), e.cfg.RSSSlack)
	return o, nil
}

// settleMemory samples the server once a second for up to 10s after an
// attack and returns the first sample back within RSSSlack of before, or the
// smallest seen: the garbage of closed connections goes only at the next
// collection, and the RSS back to the OS later still.
func (e *env) settleMemory(ctx context.Context, before Sample) Sample {
	low := readSample(e.host, e.cfg.ServerPID)
	for i := 0; i < 10 && low.grewBy(before, e.cfg.RSSSlack) && ctx.Err() == nil; i++ {
		time.Sleep(time.Second)
		s := readSample(e.host, e.cfg.ServerPID)
		low = Sample{RSS: min(low.RSS, s.RSS), Heap: min(low.Heap, s.Heap), Goroutines: min(low.Goroutines, s.Goroutines)}
	}
	return low
}

// judge turns what was seen into a verdict.
func judge(o Outcome, upAfter, canaryOK bool, slack int64) Verdict {
	switch {
	case !canaryOK || !upAfter:
		return Failed
	case o.Probes.Failed > 0 || o.Probes.Slow > 0 || o.AttackFail:
		return Degraded
	case o.After.grewBy(o.Before, slack):
		return Degraded
	}
	return Held
}
