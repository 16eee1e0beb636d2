package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"
)

// runner is one run: what it started (upstream, server, swarm), the
// sampler goroutine and the timeline it records.
type runner struct {
	p        Profile
	progress io.Writer
	start    time.Time

	up    *Upstream
	srv   *serverProcess
	probe *serverProbe
	swarm *Swarm

	base     ServerSample // before the swarm connected
	selfBase ProcStat

	mu       sync.Mutex // guards timeline and last
	timeline []TimePoint
	last     ServerSample
	lastSelf ProcStat

	stopSampler chan struct{}
	samplerDone chan struct{}
}

// Execute runs the profile against its target and returns the result. It
// writes the progress line to progress (nil for none). When ctx is cancelled
// (Ctrl-C) the run stops early and the result covers what was measured; the
// error is then nil and Result.StoppedEarly is set.
func Execute(ctx context.Context, p Profile, progress io.Writer) (*Result, error) {
	p = p.WithDefaults()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if p.Output.Quiet {
		progress = nil
	}
	r := &runner{p: p, progress: progress, start: time.Now()}
	defer r.teardown()
	if err := r.setup(ctx); err != nil {
		return nil, err
	}
	r.startSampler()
	res := r.newResult()
	switch p.Mode {
	case ModeIdle:
		r.idle(ctx, res)
	case ModeRamp:
		r.ramp(ctx, res)
	default:
		r.throughput(ctx, res)
	}
	r.stopSampling()
	res.StoppedEarly = ctx.Err() != nil
	res.Books = r.checkBooks(ctx)
	res.Connections = r.swarm.Connections()
	r.mu.Lock()
	res.Timeline = r.timeline
	r.mu.Unlock()
	res.Elapsed = round3(time.Since(r.start).Seconds())
	return res, nil
}

// setup starts the upstream and the server when asked, finds the products
// and builds the swarm.
func (r *runner) setup(ctx context.Context) error {
	p := &r.p
	if p.Upstream.Enabled {
		up, err := StartUpstream(p.Upstream.Listen, p.Upstream.UpstreamConfig)
		if err != nil {
			return err
		}
		r.up = up
	}
	if p.Server.Start != "" {
		srv, err := startServer(ctx, p.Server.Start, *p, r.up)
		if err != nil {
			return err
		}
		r.srv = srv
		p.Target = "ws://" + srv.addr + "/"
		if p.Server.PID == 0 {
			p.Server.PID = srv.pid()
		}
	}
	products, err := r.products(ctx)
	if err != nil {
		return err
	}
	if p.ProductCount > 0 && p.ProductCount < len(products) {
		products = products[:p.ProductCount]
	}
	p.Products = products
	if p.MetricsURL == "" {
		u, _ := url.Parse(p.Target)
		p.MetricsURL = "http://" + u.Host + "/metrics"
	}
	metrics := p.MetricsURL
	if metrics == "off" {
		metrics = ""
	}
	r.probe = newServerProbe(p.Server.PID, metrics)
	if r.up != nil {
		if err := r.waitUpstreamFed(ctx); err != nil {
			return err
		}
	}
	r.base = r.probe.sample()
	r.selfBase, _ = ReadProc(os.Getpid())
	r.swarm, err = NewSwarm(*p, products)
	return err
}

// products returns the profile's products, the upstream's, or the target's
// GET /products.
func (r *runner) products(ctx context.Context) ([]string, error) {
	if len(r.p.Products) > 0 {
		return r.p.Products, nil
	}
	if r.up != nil { // the server under test carries the upstream's products
		return r.up.Products(), nil
	}
	u, _ := url.Parse(r.p.Target)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+u.Host+"/products", nil)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: GET %s: %v", ErrTargetUnreachable, req.URL, rootCause(err))
	}
	defer resp.Body.Close()
	var list []struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || len(list) == 0 {
		return nil, fmt.Errorf("%w: GET %s gave none (%v); list them with -products or in the profile", ErrNoProducts, req.URL, err)
	}
	ids := make([]string, len(list))
	for i, l := range list {
		ids[i] = l.ID
	}
	return ids, nil
}

// waitUpstreamFed waits until some feed is connected to the upstream, so
// that the measurement does not start before data flows.
func (r *runner) waitUpstreamFed(ctx context.Context) error {
	if r.p.Server.Start == "" {
		return nil // an external server may connect later; nothing to wait for
	}
	deadline := time.Now().Add(20 * time.Second)
	for r.up.Connections() == 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: its feed did not connect to the upstream at %s within 20s:\n%s",
				ErrServerStart, r.up.URL(), r.srv.stderr.String())
		}
		if !sleep(ctx, 50*time.Millisecond) {
			return ctx.Err()
		}
	}
	return nil
}

// teardown stops everything setup started, in reverse order.
func (r *runner) teardown() {
	if r.samplerDone != nil {
		r.stopSampling()
	}
	if r.swarm != nil {
		r.swarm.Close()
	}
	if r.srv != nil {
		r.srv.stop()
	}
	if r.up != nil {
		r.up.Close()
	}
}

// TimePoint is one second of the run, for the progress line and the
// report's charts.
type TimePoint struct {
	T             float64 `json:"t"` // seconds since the start
	Open          int64   `json:"open"`
	Subscribed    int64   `json:"subscribed"`
	MsgsPerSec    float64 `json:"msgs_per_sec"`
	BytesPerSec   float64 `json:"bytes_per_sec"`
	P50           float64 `json:"p50_ms"`
	P99           float64 `json:"p99_ms"`
	Errors        int64   `json:"errors"`
	ServerCPU     float64 `json:"server_cpu_percent"`
	ServerRSS     int64   `json:"server_rss_bytes"`
	ClientCPU     float64 `json:"client_cpu_percent"`
	ConnectFailed int64   `json:"connect_failed"`
}

// startSampler starts the goroutine that samples the swarm and the server
// every second; stopSampling stops it and waits.
func (r *runner) startSampler() {
	r.stopSampler, r.samplerDone = make(chan struct{}), make(chan struct{})
	r.last = r.probe.sample()
	r.lastSelf, _ = ReadProc(os.Getpid())
	r.swarm.Sample() // reset the live counters
	go func() {
		defer close(r.samplerDone)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		prev := time.Now()
		for {
			select {
			case <-r.stopSampler:
				r.finishProgress()
				return
			case now := <-t.C:
				r.tick(now.Sub(prev).Seconds())
				prev = now
			}
		}
	}()
}

func (r *runner) stopSampling() {
	if r.samplerDone == nil {
		return
	}
	close(r.stopSampler)
	<-r.samplerDone
	r.samplerDone = nil
}

// tick records one second of the run and prints the progress line.
func (r *runner) tick(dt float64) {
	live := r.swarm.Sample()
	srv := r.probe.sample()
	self, _ := ReadProc(os.Getpid())
	r.mu.Lock()
	tp := TimePoint{
		T: round3(time.Since(r.start).Seconds()), Open: live.Open, Subscribed: live.Subscribed,
		MsgsPerSec: round3(float64(live.Msgs) / dt), BytesPerSec: round3(float64(live.Bytes) / dt),
		P50: live.P50, P99: live.P99, Errors: live.Errors, ConnectFailed: live.Failed,
		ServerRSS: srv.RSSBytes, ClientCPU: round3(100 * (self.CPUSeconds - r.lastSelf.CPUSeconds) / dt),
	}
	if srv.Source != "" && r.last.Source == srv.Source {
		tp.ServerCPU = round3(100 * (srv.CPUSeconds - r.last.CPUSeconds) / dt)
	}
	r.last, r.lastSelf = srv, self
	r.timeline = append(r.timeline, tp)
	r.mu.Unlock()
	r.printProgress(tp)
}

// serverNow samples the server now (outside the sampler's rhythm).
func (r *runner) serverNow() ServerSample { return r.probe.sample() }

// sleep waits d or until ctx is done; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// rootCause strips the wrappers of a failed HTTP request down to what went
// wrong ("connection refused", "i/o timeout"), which names the problem
// better than the chain of operations.
func rootCause(err error) error {
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Err
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return ne
	}
	return err
}
