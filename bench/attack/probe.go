package attack

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gobwas/ws/wsutil"
)

// slowProbe is the latency past which a probe counts as slow.
const slowProbe = time.Second

// ProbeStats counts the probes made during one attack.
type ProbeStats struct {
	Total, Failed, Slow int
	Worst               time.Duration
	LastError           string
}

// probe checks once a second, on new connections, that /healthz answers and
// that an upgrade gets its subscriptions reply. Its goroutine is started by
// startProbe and ends with ctx; wait waits for it.
type probe struct {
	host, product string
	pid           int
	done          chan struct{}
	mu            sync.Mutex
	st            ProbeStats
	peak          Sample
}

func startProbe(ctx context.Context, host, product string, pid int) *probe {
	p := &probe{host: host, product: product, pid: pid, done: make(chan struct{})}
	go p.loop(ctx)
	return p
}

func (p *probe) loop(ctx context.Context) {
	defer close(p.done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		start := time.Now()
		err := probeOnce(context.Background(), p.host, p.product)
		p.record(time.Since(start), err)
		p.sample()
	}
}

// sample reads the server's memory outside the probe's timing.
func (p *probe) sample() {
	s := readSample(p.host, p.pid)
	p.mu.Lock()
	p.peak = p.peak.peak(s)
	p.mu.Unlock()
}

func (p *probe) record(d time.Duration, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.st.Total++
	p.st.Worst = max(p.st.Worst, d)
	switch {
	case err != nil:
		p.st.Failed++
		p.st.LastError = err.Error()
	case d > slowProbe:
		p.st.Slow++
	}
}

// wait waits for the loop to end and returns what it saw.
func (p *probe) wait() (ProbeStats, Sample) {
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.st, p.peak
}

// probeOnce is one probe: GET /healthz on a new connection, then a new
// upgrade and subscribe answered within 3s each.
func probeOnce(ctx context.Context, host, product string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+host+"/healthz", nil)
	client := http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("healthz: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz: %s", resp.Status)
	}
	nc, err := upgrade(ctx, host)
	if err != nil {
		return fmt.Errorf("upgrade: %w", err)
	}
	defer nc.Close()
	dl, _ := ctx.Deadline()
	nc.SetDeadline(dl)
	sub := fmt.Sprintf(`{"type":"subscribe","product_ids":[%q],"channels":["heartbeat"]}`, product)
	if err := wsutil.WriteClientText(nc, []byte(sub)); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	if _, err := wsutil.ReadServerText(nc); err != nil {
		return fmt.Errorf("subscriptions reply: %w", err)
	}
	return nil
}

// settle waits up to d for a probe to succeed after an attack, and reports
// whether one did.
func settle(ctx context.Context, host, product string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if probeOnce(ctx, host, product) == nil {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(200 * time.Millisecond)
	}
}
