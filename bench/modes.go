package bench

import (
	"context"
	"fmt"
	"time"
)

// throughput opens the connections, warms up, then measures one window.
// The slow-consumer mix is the same run with a share of slow subscribers,
// reported per group as well.
func (r *runner) throughput(ctx context.Context, res *Result) {
	r.swarm.Open(ctx, r.p.Connections)
	sleep(ctx, r.p.Warmup)
	from, _ := r.edge(true) // drops the connect and warm-up phase
	sleep(ctx, r.p.Duration)
	to, ts := r.edge(false)
	r.settle(ctx, &to, ts)
	res.Measured = r.measure(from, to, ts, groupNormal, groupSlow)
	if r.p.Mode == ModeSlow {
		res.Groups = map[string]*Measured{}
		for g, name := range groupNames {
			res.Groups[name] = r.measure(from, to, ts, g)
		}
	}
}

// IdleResult is the idle-capacity figure: what N subscribed, mostly quiet
// connections cost the server.
type IdleResult struct {
	WarmupConnections int64   `json:"warmup_connections"`
	Connections       int64   `json:"connections"` // measured: open after the hold less the warm-up ones
	HoldS             float64 `json:"hold_s"`
	Source            string  `json:"source"`
	RSSBefore         int64   `json:"server_rss_before_bytes"`
	RSSAfter          int64   `json:"server_rss_after_bytes"`
	RSSPerConn        float64 `json:"server_rss_per_connection_bytes"`
	GoroutinesBefore  float64 `json:"server_goroutines_before"`
	GoroutinesAfter   float64 `json:"server_goroutines_after"`
	ClientRSSPerConn  float64 `json:"client_rss_per_connection_bytes"`
}

// idle opens warm-up connections, reads the baseline, opens the measured
// connections, holds them and reads memory again. The warm-up ones take
// the growth that happens once (pools, tables), as in tickerfan's own
// idle test.
func (r *runner) idle(ctx context.Context, res *Result) {
	warm := r.p.Idle.WarmupConnections
	r.swarm.Open(ctx, warm)
	sleep(ctx, time.Second)
	before, _ := r.edge(false)
	openBefore := r.swarm.open.Load()
	r.swarm.Open(ctx, r.p.Connections)
	from, _ := r.edge(true)
	sleep(ctx, r.p.Idle.Hold)
	after, ts := r.edge(false)
	r.settle(ctx, &after, ts)
	n := r.swarm.open.Load() - openBefore
	id := &IdleResult{
		WarmupConnections: openBefore, Connections: n, HoldS: round3(after.at.Sub(from.at).Seconds()),
		Source: after.srv.Source, RSSBefore: before.srv.RSSBytes, RSSAfter: after.srv.RSSBytes,
		GoroutinesBefore: before.srv.Metrics["go_goroutines"], GoroutinesAfter: after.srv.Metrics["go_goroutines"],
	}
	if n > 0 {
		id.RSSPerConn = round3(float64(id.RSSAfter-id.RSSBefore) / float64(n))
		id.ClientRSSPerConn = round3(float64(after.self.RSSBytes-before.self.RSSBytes) / float64(n))
	}
	res.Idle = id
	res.Measured = r.measure(from, after, ts, groupNormal, groupSlow)
}

// RampStep is one step of a ramp.
type RampStep struct {
	Connections int64     `json:"connections"`
	Pass        bool      `json:"pass"`
	Reason      string    `json:"reason,omitempty"` // why it failed
	Measured    *Measured `json:"measured"`
}

// RampResult is the ramp and its knee: the most connections at which
// latency and delivery still met the thresholds.
type RampResult struct {
	Steps       []RampStep `json:"steps"`
	Knee        int64      `json:"knee_connections"` // 0 when even the first step failed
	BrokeAt     int64      `json:"broke_at_connections,omitempty"`
	Reason      string     `json:"reason"`
	MaxP99Ms    float64    `json:"max_p99_ms"`
	MinDelivery float64    `json:"min_delivery"`
}

// ramp steps the connections up and measures each step after it settles,
// until a step breaks a threshold or the ceiling is reached.
func (r *runner) ramp(ctx context.Context, res *Result) {
	rp := r.p.Ramp
	rr := &RampResult{MaxP99Ms: float64(rp.MaxP99) / 1e6, MinDelivery: rp.MinDelivery, Reason: "reached ramp.max"}
	res.Ramp = rr
	opened := 0
	for target := min(rp.Start, rp.Max); ctx.Err() == nil; target = min(target+rp.Step, rp.Max) {
		failedBefore := r.swarm.failed.Load()
		r.swarm.Open(ctx, target-opened)
		opened = target
		sleep(ctx, rp.Settle)
		from, _ := r.edge(true)
		sleep(ctx, rp.StepDuration)
		to, ts := r.edge(false)
		r.settle(ctx, &to, ts)
		m := r.measure(from, to, ts, groupNormal, groupSlow)
		step := RampStep{Connections: m.Subscribers, Measured: m, Pass: true}
		failed := r.swarm.failed.Load() - failedBefore
		switch {
		case failed > 0:
			step.Pass, step.Reason = false, fmt.Sprintf("%d connections failed", failed)
		case m.Latency.P99 > rr.MaxP99Ms:
			step.Pass, step.Reason = false, fmt.Sprintf("p99 %.2f ms > %.2f ms", m.Latency.P99, rr.MaxP99Ms)
		case m.DeliveryRatio < rp.MinDelivery:
			step.Pass, step.Reason = false, fmt.Sprintf("delivery %.4f < %.4f (%s)", m.DeliveryRatio, rp.MinDelivery, m.DeliveryBasis)
		}
		rr.Steps = append(rr.Steps, step)
		res.Measured = m
		if !step.Pass {
			rr.BrokeAt, rr.Reason = step.Connections, step.Reason
			break
		}
		rr.Knee = step.Connections
		if target >= rp.Max {
			break
		}
	}
	if ctx.Err() != nil && rr.BrokeAt == 0 {
		rr.Reason = "stopped early"
	}
}
