package bench

import (
	"context"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// SchemaVersion is the version of the JSON result's layout.
const SchemaVersion = 1

// Result is what a run reports; it is also the JSON result file.
type Result struct {
	Tool         string    `json:"tool"`
	Schema       int       `json:"schema_version"`
	Mode         string    `json:"mode"`
	StartedAt    time.Time `json:"started_at"`
	Elapsed      float64   `json:"elapsed_s"`
	StoppedEarly bool      `json:"stopped_early"`
	Target       string    `json:"target"`
	Settings     Settings  `json:"settings"`

	Connections Connections          `json:"connections"`
	Measured    *Measured            `json:"measured,omitempty"`
	Groups      map[string]*Measured `json:"groups,omitempty"`
	Idle        *IdleResult          `json:"idle,omitempty"`
	Ramp        *RampResult          `json:"ramp,omitempty"`
	// Books is the end-of-run check of the level2 subscribers' books, with
	// the tool's own upstream; nil without it or without level2.
	Books    *Books      `json:"books,omitempty"`
	Timeline []TimePoint `json:"timeline"`
}

// Settings are the profile values a reader of the result needs.
type Settings struct {
	Connections    int      `json:"connections"`
	ConnectRate    float64  `json:"connect_rate"`
	Products       []string `json:"products"`
	PerConnection  int      `json:"per_connection"`
	Distribution   string   `json:"distribution"`
	Channels       []string `json:"channels"`
	WarmupS        float64  `json:"warmup_s"`
	DurationS      float64  `json:"duration_s"`
	Readers        int      `json:"readers"`
	Upstream       bool     `json:"upstream"`
	UpstreamRate   float64  `json:"upstream_updates_per_second,omitempty"`
	UpstreamTrades float64  `json:"upstream_trades_per_second,omitempty"`
	ServerStarted  bool     `json:"server_started"`
	ServerPID      int      `json:"server_pid,omitempty"`
	SlowShare      float64  `json:"slow_share,omitempty"`
	SlowReadBps    int      `json:"slow_read_bytes_per_second,omitempty"`
	GOMAXPROCS     int      `json:"client_gomaxprocs"`
}

// Measured is one measured window, for all subscribers or one group.
type Measured struct {
	Start                 time.Time          `json:"start"`
	End                   time.Time          `json:"end"`
	Seconds               float64            `json:"seconds"`
	Subscribers           int64              `json:"subscribers"`
	Messages              int64              `json:"messages"`
	Bytes                 int64              `json:"bytes"`
	MessagesPerSec        float64            `json:"messages_per_sec"`
	BytesPerSec           float64            `json:"bytes_per_sec"`
	MessagesPerSubscriber float64            `json:"messages_per_subscriber_per_sec"`
	ByType                map[string]int64   `json:"by_type"`
	Latency               Latency            `json:"latency"`
	LatencyByType         map[string]Latency `json:"latency_by_type"`
	// Staleness is the age (receive time - "time") of every message that
	// carries a time, state sent on subscribe or resync included: under
	// overload, how old what subscribers see is.
	Staleness       Latency      `json:"staleness"`
	Distribution    []Percentile `json:"latency_distribution"`
	NegativeLatency int64        `json:"negative_latency"`

	// DeliveryRatio is delivered / expected on the strictest basis at hand
	// (DeliveryBasis): the upstream's send counters, else the level2
	// sequence, else the server's own count of messages written.
	DeliveryRatio float64          `json:"delivery_ratio"`
	DeliveryBasis string           `json:"delivery_basis"`
	Level2        *Level2Delivery  `json:"level2,omitempty"`
	Upstream      *UpstreamDeliver `json:"upstream,omitempty"`
	ServerSent    *ServerSent      `json:"server_sent,omitempty"`
	Ingest        *Ingest          `json:"ingest,omitempty"`
	ServerDelays  *ServerDelays    `json:"server_delays,omitempty"`
	OutOfOrder    int64            `json:"out_of_order"` // ticker, match, heartbeat

	Server         *ResourceUse       `json:"server,omitempty"`
	Client         *ResourceUse       `json:"client"`
	ServerCounters map[string]float64 `json:"server_counters,omitempty"`
	Products       []ProductStat      `json:"products"`
}

// Level2Delivery is the level2 sequence accounting: every l2update carries a
// per-product sequence that grows by exactly 1, so expected = delivered +
// the messages missing from the sequence.
type Level2Delivery struct {
	l2Tally
	Ratio float64 `json:"ratio"`
}

// UpstreamDeliver compares what subscribers received with what the
// tickerbench upstream sent of their products in the window: Expected is,
// summed over products, (subscribers of it) x (upstream messages of the
// subscribed channels sent in the window); Delivered is the messages whose
// "time" (their send time) falls in the window, counted until every one of
// them had time to arrive. Both sides cover the same messages, so the ratio
// is exact, not off by what was in flight at the edges.
type UpstreamDeliver struct {
	Expected  int64   `json:"expected"`
	Delivered int64   `json:"delivered"`
	Ratio     float64 `json:"ratio"`
	Sent      []Sent  `json:"sent"`
}

// ServerSent compares what subscribers received with what the server says
// it wrote (tickerfan_messages_out_total and tickerfan_bytes_out_total).
type ServerSent struct {
	Messages      int64   `json:"messages"`
	Bytes         int64   `json:"bytes"`
	Received      int64   `json:"received"`
	ReceivedBytes int64   `json:"received_bytes"`
	Ratio         float64 `json:"ratio"`
}

// ResourceUse is a process's CPU and memory over a window.
type ResourceUse struct {
	Source      string  `json:"source"` // proc or metrics
	CPUSeconds  float64 `json:"cpu_seconds"`
	CPUPercent  float64 `json:"cpu_percent"` // of one core
	RSSBase     int64   `json:"rss_before_connections_bytes"`
	RSSStart    int64   `json:"rss_start_bytes"`
	RSSEnd      int64   `json:"rss_end_bytes"`
	RSSPerConn  float64 `json:"rss_growth_per_connection_bytes"` // (end - before connections) / connections
	Connections int64   `json:"connections"`
}

// ProductStat is one product's share of a window.
type ProductStat struct {
	Product     string `json:"product"`
	Subscribers int64  `json:"subscribers"`
	Messages    int64  `json:"messages"`
	Gaps        int64  `json:"gaps"`
	OutOfOrder  int64  `json:"out_of_order"`
}

// mark is the state at a window's edge.
type mark struct {
	at     time.Time
	srv    ServerSample
	self   ProcStat
	sent   []Sent // upstream counters, as of sentAt
	sentAt time.Time
	// bySend counts, per group, the upstream messages sent in the window that
	// arrived by the end of settle; valid when settled.
	bySend  [numGroups]int64
	settled bool
}

// edge ends the current window (or, with start, begins one): it cuts the
// swarm's tallies between two scrapes of the server and takes the server's
// counters as their mean, so that the server's count and ours cover the same
// instant to within half a scrape's asymmetry. With the upstream it also
// reads its send counters and moves the send window to that instant.
func (r *runner) edge(start bool) (mark, [numGroups]*tally) {
	before := r.serverNow()
	m := mark{at: time.Now()}
	if r.up != nil {
		m.sent, m.sentAt = r.up.SentAt()
		if start {
			r.swarm.openSendWindow(m.sentAt)
		} else {
			r.swarm.closeSendWindow(m.sentAt)
		}
	}
	ts := r.swarm.cut()
	m.srv = r.serverNow()
	if before.Metrics != nil && m.srv.Metrics != nil {
		for k, v := range m.srv.Metrics {
			if strings.HasSuffix(k, "_total") && k != "process_cpu_seconds_total" {
				m.srv.Metrics[k] = (v + before.Metrics[k]) / 2
			}
		}
	}
	m.self, _ = ReadProc(os.Getpid())
	return m, ts
}

// settle waits for the upstream messages sent in the window that are still
// on their way (1.5 times the window's worst latency, between 0.2 and 5 s),
// then records how many of them arrived. Without the upstream it does nothing.
func (r *runner) settle(ctx context.Context, to *mark, ts [numGroups]*tally) {
	if r.up == nil {
		return
	}
	wait := 200 * time.Millisecond
	var h *hdrhistogram.Histogram
	for _, t := range ts {
		mergeHist(&h, t.latAll)
	}
	if h != nil {
		wait = min(max(time.Duration(h.Max())*3/2+100*time.Millisecond, wait), 5*time.Second)
	}
	sleep(ctx, wait)
	to.bySend, to.settled = r.swarm.sentInWindow(), true
}

// measure turns one window's tallies into a Measured for the given groups.
func (r *runner) measure(from, to mark, ts [numGroups]*tally, groups ...int) *Measured {
	t := newTally(len(r.swarm.products))
	for _, g := range groups {
		t.add(ts[g])
	}
	secs := to.at.Sub(from.at).Seconds()
	subs := r.swarm.subscribers(groups...)
	m := &Measured{
		Start: from.at.UTC(), End: to.at.UTC(), Seconds: round3(secs), Messages: t.messages(), Bytes: t.bytes,
		ByType: map[string]int64{}, LatencyByType: map[string]Latency{},
		Latency: summarize(t.latAll), Distribution: distribution(t.latAll), Staleness: summarize(t.stale),
		NegativeLatency: t.negLatency, OutOfOrder: t.outOfOrder,
	}
	m.Subscribers = r.swarm.openIn(groups...)
	m.MessagesPerSec = round3(float64(m.Messages) / secs)
	m.BytesPerSec = round3(float64(m.Bytes) / secs)
	if m.Subscribers > 0 {
		m.MessagesPerSubscriber = round3(m.MessagesPerSec / float64(m.Subscribers))
	}
	for k := range numKinds {
		if t.msgs[k] > 0 {
			m.ByType[k.String()] = t.msgs[k]
		}
		if t.lat[k] != nil {
			m.LatencyByType[k.String()] = summarize(t.lat[k])
		}
	}
	if t.l2.Delivered > 0 {
		m.Level2 = &Level2Delivery{l2Tally: t.l2}
		m.Level2.Expected = t.l2.Delivered + t.l2.GapMessages + t.l2.Conflated
		m.Level2.Ratio = ratio(m.Level2.Delivered, m.Level2.Expected)
	}
	m.Upstream = r.upstreamDelivery(from, to, t, subs, groups)
	if len(groups) == numGroups || r.p.Mode != ModeSlow {
		m.ServerSent = serverSent(from.srv, to.srv, t)
	}
	m.DeliveryRatio, m.DeliveryBasis = deliveryRatio(m)
	m.Client = resourceUse("proc", r.selfBase, from.self, to.self, secs, m.Subscribers)
	if to.srv.Source != "" && from.srv.Source == to.srv.Source {
		base := ProcStat{RSSBytes: r.base.RSSBytes}
		if r.base.Source != to.srv.Source {
			base.RSSBytes = from.srv.RSSBytes
		}
		m.Server = resourceUse(to.srv.Source, base, ProcStat{from.srv.CPUSeconds, from.srv.RSSBytes},
			ProcStat{to.srv.CPUSeconds, to.srv.RSSBytes}, secs, r.swarm.open.Load())
		m.ServerCounters = counterDeltas(from.srv.Metrics, to.srv.Metrics)
	}
	if len(groups) == numGroups || r.p.Mode != ModeSlow {
		m.Ingest = ingest(from.sent, to.sent, from.srv.Metrics, to.srv.Metrics, secs)
		m.ServerDelays = serverDelays(from.srv.Metrics, to.srv.Metrics)
	}
	for i, id := range r.swarm.products {
		pt := t.products[i]
		if subs[i] > 0 || pt.msgs > 0 {
			m.Products = append(m.Products, ProductStat{id, subs[i], pt.msgs, pt.gaps, pt.outOfOrder})
		}
	}
	return m
}

// deliveryRatio picks the strictest basis at hand.
func deliveryRatio(m *Measured) (float64, string) {
	switch {
	case m.Upstream != nil && m.Level2 != nil:
		if m.Level2.Ratio < m.Upstream.Ratio {
			return m.Level2.Ratio, "level2 sequence"
		}
		return m.Upstream.Ratio, "upstream send counters"
	case m.Upstream != nil:
		return m.Upstream.Ratio, "upstream send counters"
	case m.Level2 != nil:
		return m.Level2.Ratio, "level2 sequence"
	case m.ServerSent != nil:
		return m.ServerSent.Ratio, "server messages_out_total"
	}
	return 0, "none"
}

// upstreamDelivery compares what the upstream sent of each subscribed
// product and channel in the window (its counters at the two edges) with
// the messages subscribers received whose "time" falls in the window,
// counted until settle. level2_batch coalesces updates, so with it only
// trades are compared.
func (r *runner) upstreamDelivery(from, to mark, t *tally, subs []int64, groups []int) *UpstreamDeliver {
	if from.sent == nil || to.sent == nil {
		return nil
	}
	ch := map[string]bool{}
	for _, c := range r.p.Channels {
		ch[c] = true
	}
	u := &UpstreamDeliver{}
	byID := map[string]int{}
	for i, id := range r.swarm.products {
		byID[id] = i
	}
	for i := range to.sent {
		d := Sent{Product: to.sent[i].Product, L2Updates: to.sent[i].L2Updates - from.sent[i].L2Updates,
			Matches: to.sent[i].Matches - from.sent[i].Matches, Tickers: to.sent[i].Tickers - from.sent[i].Tickers}
		u.Sent = append(u.Sent, d)
		pi, ok := byID[d.Product]
		if !ok {
			continue
		}
		var per int64
		if ch["level2"] {
			per += d.L2Updates
		}
		if ch["matches"] {
			per += d.Matches
		}
		if ch["ticker"] {
			per += d.Tickers
		}
		u.Expected += per * subs[pi]
	}
	switch {
	case to.settled:
		for _, g := range groups {
			u.Delivered += to.bySend[g]
		}
	default: // by receive time: off by what was in flight at the edges
		if ch["level2"] {
			u.Delivered += t.msgs[kindL2Update]
		}
		if ch["matches"] {
			u.Delivered += t.msgs[kindMatch]
		}
		if ch["ticker"] {
			u.Delivered += t.msgs[kindTicker]
		}
	}
	if u.Expected == 0 {
		return nil
	}
	u.Ratio = ratio(u.Delivered, u.Expected)
	return u
}

func serverSent(from, to ServerSample, t *tally) *ServerSent {
	a, okA := from.Metrics["tickerfan_messages_out_total"]
	b, okB := to.Metrics["tickerfan_messages_out_total"]
	if !okA || !okB {
		return nil
	}
	s := &ServerSent{
		Messages: int64(b - a), Bytes: int64(to.Metrics["tickerfan_bytes_out_total"] - from.Metrics["tickerfan_bytes_out_total"]),
		Received: t.messages(), ReceivedBytes: t.bytes,
	}
	s.Ratio = ratio(s.Received, s.Messages)
	return s
}

// counterDeltas reports how the server's own counters of trouble moved.
func counterDeltas(from, to Metrics) map[string]float64 {
	out := map[string]float64{}
	for _, name := range []string{
		"tickerfan_queue_drops_total", "tickerfan_resyncs_total", "tickerfan_connections_closed_by_server_total",
		"tickerfan_connections_rejected_total", "tickerfan_book_errors_total", "tickerfan_stream_gaps_total",
		"tickerfan_upstream_messages_total", "tickerfan_client_errors_total",
		"tickerfan_tickers_replaced_total", "tickerfan_updates_merged_total", "tickerfan_events_merged_total",
	} {
		if v, ok := to[name]; ok {
			out[name] = v - from[name]
		}
	}
	if g, ok := to["go_goroutines"]; ok {
		out["go_goroutines"] = g
	}
	return out
}

// resourceUse is a process's use over a window; memory per connection is
// the growth since base (before the swarm connected) over conns.
func resourceUse(source string, base, from, to ProcStat, secs float64, conns int64) *ResourceUse {
	u := &ResourceUse{
		Source: source, CPUSeconds: round3(to.CPUSeconds - from.CPUSeconds), RSSBase: base.RSSBytes,
		RSSStart: from.RSSBytes, RSSEnd: to.RSSBytes, Connections: conns,
	}
	if secs > 0 {
		u.CPUPercent = round3(100 * u.CPUSeconds / secs)
	}
	if conns > 0 && base.RSSBytes > 0 {
		u.RSSPerConn = round3(float64(to.RSSBytes-base.RSSBytes) / float64(conns))
	}
	return u
}

// newResult fills what is known before the run.
func (r *runner) newResult() *Result {
	p := r.p
	res := &Result{
		Tool: "tickerbench", Schema: SchemaVersion, Mode: p.Mode, StartedAt: r.start.UTC(), Target: p.Target,
		Settings: Settings{
			Connections: p.Connections, ConnectRate: p.ConnectRate, Products: slices.Clone(p.Products),
			PerConnection: min(p.PerConnection, len(p.Products)), Distribution: p.Distribution, Channels: p.Channels,
			WarmupS: p.Warmup.Seconds(), DurationS: p.Duration.Seconds(), Readers: p.Readers,
			Upstream: r.up != nil, ServerStarted: r.srv != nil, ServerPID: p.Server.PID,
			GOMAXPROCS: runtime.GOMAXPROCS(0),
		},
	}
	if r.up != nil {
		res.Settings.UpstreamRate, res.Settings.UpstreamTrades = p.Upstream.UpdatesPerSecond, p.Upstream.TradesPerSecond
	}
	if p.Mode == ModeRamp {
		res.Settings.Connections = p.Ramp.Max
	}
	if p.Mode == ModeSlow {
		res.Settings.SlowShare, res.Settings.SlowReadBps = p.Slow.Share, p.Slow.ReadBytesPerSecond
	}
	return res
}
