package fanout

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's counters. Hot-path counters are plain atomics read
// by the Prometheus collectors at scrape time.
type metrics struct {
	reg *prometheus.Registry

	accepted       atomic.Uint64
	messagesOut    atomic.Uint64
	bytesOut       atomic.Uint64
	messagesIn     atomic.Uint64
	requestErrors  atomic.Uint64
	conflated      atomic.Uint64
	resyncs        atomic.Uint64
	resumes        atomic.Uint64
	eventsIn       atomic.Uint64
	streamGaps     atomic.Uint64
	replicaErrors  atomic.Uint64
	updatesDropped atomic.Uint64
	rejected       atomic.Uint64

	closed *prometheus.CounterVec
}

func newMetrics(s *Server) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	counter := func(name, help string, v *atomic.Uint64) {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(v.Load()) }))
	}
	counter("tickerfan_connections_accepted_total", "WebSocket connections upgraded.", &m.accepted)
	counter("tickerfan_connections_rejected_total", "Upgrades refused at the connection limit.", &m.rejected)
	counter("tickerfan_messages_out_total", "Frames written to subscribers.", &m.messagesOut)
	counter("tickerfan_bytes_out_total", "Bytes written to subscribers.", &m.bytesOut)
	counter("tickerfan_client_messages_total", "Messages received from clients.", &m.messagesIn)
	counter("tickerfan_client_errors_total", "Client messages answered with an error.", &m.requestErrors)
	counter("tickerfan_queue_drops_total", "Queued level2/ticker frames conflated for slow consumers.", &m.conflated)
	counter("tickerfan_resyncs_total", "Fresh snapshots/tickers sent to slow consumers after conflation.", &m.resyncs)
	counter("tickerfan_resumes_total", "Level2 subscriptions resumed from history instead of a snapshot.", &m.resumes)
	counter("tickerfan_events_total", "Book events received by the fan-out.", &m.eventsIn)
	counter("tickerfan_stream_gaps_total", "Gaps seen in a product's event sequence.", &m.streamGaps)
	counter("tickerfan_replica_errors_total", "Events the fan-out's replica book could not apply.", &m.replicaErrors)
	counter("tickerfan_updates_dropped_total", "Level2 updates dropped while waiting for a snapshot.", &m.updatesDropped)
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "tickerfan_connections", Help: "Open WebSocket connections.",
	}, func() float64 { return float64(s.registry.len()) }))
	m.closed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tickerfan_connections_closed_by_server_total", Help: "Connections the server closed, by reason.",
	}, []string{"reason"})
	m.reg.MustRegister(m.closed, &subscriptionCollector{s: s})
	return m
}

func (m *metrics) written(bytes, frames int) {
	m.bytesOut.Add(uint64(bytes))
	m.messagesOut.Add(uint64(frames))
}

func (m *metrics) closes(err *closeError) {
	if err.reason != "" {
		m.closed.WithLabelValues(err.reason).Inc()
	}
}

// subscriptionCollector reports subscriptions per channel, summed over
// products at scrape time.
type subscriptionCollector struct{ s *Server }

var subscriptionsDesc = prometheus.NewDesc("tickerfan_subscriptions",
	"Subscriptions, by channel (one per connection and product).", []string{"channel"}, nil)

func (sc *subscriptionCollector) Describe(ch chan<- *prometheus.Desc) { ch <- subscriptionsDesc }

func (sc *subscriptionCollector) Collect(ch chan<- prometheus.Metric) {
	var counts [numChannels]int
	for _, t := range sc.s.hub.topics {
		t.mu.Lock()
		for c := range counts {
			counts[c] += t.subs[c].len()
		}
		counts[chLevel2] += t.l2.sums.len()
		counts[chLevel2Batch] += t.batch.sums.len()
		t.mu.Unlock()
	}
	counts[chStatus] = sc.s.hub.status.count()
	for c, n := range counts {
		ch <- prometheus.MustNewConstMetric(subscriptionsDesc, prometheus.GaugeValue, float64(n), channel(c).String())
	}
}
