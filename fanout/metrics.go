package fanout

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/tickerfan/tickerfan/fanout/transport"
	"github.com/tickerfan/tickerfan/internal/delay"
)

// metrics are the server's counters. Hot-path counters are plain atomics read
// by the Prometheus collectors at scrape time.
type metrics struct {
	reg *prometheus.Registry

	messagesIn     atomic.Uint64
	requestErrors  atomic.Uint64
	resyncs        atomic.Uint64
	resumes        atomic.Uint64
	eventsIn       atomic.Uint64
	streamGaps     atomic.Uint64
	replicaErrors  atomic.Uint64
	updatesDropped atomic.Uint64
	updatesMerged  atomic.Uint64
	eventsMerged   atomic.Uint64 // by inbox compaction
	tradesDropped  atomic.Uint64 // by inbox compaction
	// tickersSuperseded counts tickers not sent because a newer trade of
	// the product was in the same round.
	tickersSuperseded atomic.Uint64
	// fanoutDelay is how long a product's oldest pending event waited in
	// its inbox before the fan-out took it.
	fanoutDelay delay.Histogram
}

func newMetrics(s *Server) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	counter := func(name, help string, v *atomic.Uint64) {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(v.Load()) }))
	}
	ts := s.tr.Stats()
	counter("tickerfan_connections_accepted_total", "WebSocket connections upgraded.", &ts.Accepted)
	counter("tickerfan_connections_rejected_total", "Connections refused with 503: at max_connections (WebSocket or HTTP), or upgrades while shutting down.", &ts.Rejected)
	counter("tickerfan_sse_connections_accepted_total", "Server-sent event streams opened (GET /sse).", &ts.EventStreams)
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tickerfan_handshakes_refused_total",
		Help: "WebSocket upgrades and event streams refused by a handshake check, by reason.", ConstLabels: prometheus.Labels{"reason": "origin"}},
		func() float64 { return float64(ts.RefusedOrigin.Load()) }))
	counter("tickerfan_messages_out_total", "Frames written to subscribers.", &ts.FramesOut)
	counter("tickerfan_bytes_out_total", "Bytes written to subscribers.", &ts.BytesOut)
	counter("tickerfan_client_messages_total", "Messages received from clients.", &m.messagesIn)
	counter("tickerfan_client_errors_total", "Client messages answered with an error.", &m.requestErrors)
	counter("tickerfan_queue_drops_total", "Queued level2/ticker frames conflated for slow consumers.", &ts.Conflated)
	counter("tickerfan_tickers_replaced_total", "Queued tickers replaced by a newer one of their product before being written.", &ts.Replaced)
	counter("tickerfan_resyncs_total", "Fresh snapshots/tickers sent to slow consumers after conflation.", &m.resyncs)
	counter("tickerfan_resumes_total", "Level2 subscriptions resumed from history instead of a snapshot.", &m.resumes)
	counter("tickerfan_events_total", "Book events received by the fan-out.", &m.eventsIn)
	counter("tickerfan_stream_gaps_total", "Gaps seen in a product's event sequence.", &m.streamGaps)
	counter("tickerfan_replica_errors_total", "Events the fan-out's replica book could not apply.", &m.replicaErrors)
	counter("tickerfan_updates_dropped_total", "Level2 updates dropped while waiting for a snapshot.", &m.updatesDropped)
	counter("tickerfan_updates_merged_total", "Level2 updates merged into another l2update because the fan-out was behind.", &m.updatesMerged)
	counter("tickerfan_events_merged_total", "Book events folded away by a full inbox (a product far behind): superseded updates, tickers, heartbeats.", &m.eventsMerged)
	counter("tickerfan_matches_dropped_total", "Trades a full inbox dropped: matches subscribers see their trade_id jump; REST keeps what arrived.", &m.tradesDropped)
	counter("tickerfan_tickers_superseded_total", "Tickers not sent because a newer trade of the product was pending in the same round of the fan-out.", &m.tickersSuperseded)
	counter("tickerfan_connections_rejected_per_ip_total", "Connections closed at accept: their address was over a per-address limit.", &ts.RejectedPerIP)
	counter("tickerfan_snapshots_deferred_total", "Snapshots held back until the connection's snapshot_bytes_per_second bucket refilled.", &ts.FreshDeferred)
	counter("tickerfan_handshakes_evicted_total", "Stalled handshakes closed to make room for new connections.", &ts.HandshakesEvicted)
	gauge := func(name, help string, f func() float64) {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
	}
	gauge("tickerfan_connections_max", "max_connections in force (lowered to fit the open-file limit).",
		func() float64 { return float64(s.tr.MaxConnections()) })
	gauge("tickerfan_queued_bytes", "Bytes queued for all connections (within 16 KiB per non-empty queue).",
		func() float64 { return float64(s.tr.Queued()) })
	gauge("tickerfan_queued_bytes_budget", "max_total_queue_bytes.", func() float64 { return float64(s.tr.QueueBudget()) })
	for k := transport.KindHandshake; k <= transport.KindHTTP; k++ {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tickerfan_connections", Help: "Open connections: websocket, http (plain HTTP, kept alive or busy), handshake (request head not read yet).",
			ConstLabels: prometheus.Labels{"kind": k.String()},
		}, func() float64 { return float64(s.tr.Open(k)) }))
	}
	m.reg.MustRegister(
		&delayCollector{desc: fanoutDelayDesc, h: &m.fanoutDelay},
		&delayCollector{desc: writeDelayDesc, h: &ts.WriteDelay})
	m.reg.MustRegister(&subscriptionCollector{s: s},
		&mapCollector{desc: closedDesc, read: ts.Closes}, &mapCollector{desc: internalErrorsDesc, read: ts.Errors})
	return m
}

var (
	closedDesc = prometheus.NewDesc("tickerfan_connections_closed_by_server_total",
		"Connections the server closed, by reason.", []string{"reason"}, nil)
	internalErrorsDesc = prometheus.NewDesc("tickerfan_internal_errors_total",
		"Errors inside the server that no client caused (a failed epoll re-arm, a socket option that would not set, ...), by operation; each is also logged, at most once a second per operation.",
		[]string{"op"}, nil)
)

var (
	fanoutDelayDesc = prometheus.NewDesc("tickerfan_fanout_delay_seconds",
		"How long a product's oldest pending book event waited for the fan-out (its inbox), per round of the fan-out.", nil, nil)
	writeDelayDesc = prometheus.NewDesc("tickerfan_write_delay_seconds",
		"How long the oldest frame of each socket write had waited in its connection's queue (5 ms resolution).", nil, nil)
)

// delayCollector reports a delay histogram.
type delayCollector struct {
	desc *prometheus.Desc
	h    *delay.Histogram
}

func (dc *delayCollector) Describe(ch chan<- *prometheus.Desc) { ch <- dc.desc }

func (dc *delayCollector) Collect(ch chan<- prometheus.Metric) {
	s := dc.h.Snapshot()
	ch <- prometheus.MustNewConstHistogram(dc.desc, s.Count, s.Seconds, s.Buckets)
}

// mapCollector reports a labelled counter kept by the transport as a map.
type mapCollector struct {
	desc *prometheus.Desc
	read func() map[string]uint64
}

func (mc *mapCollector) Describe(ch chan<- *prometheus.Desc) { ch <- mc.desc }

func (mc *mapCollector) Collect(ch chan<- prometheus.Metric) {
	for label, n := range mc.read() {
		ch <- prometheus.MustNewConstMetric(mc.desc, prometheus.CounterValue, float64(n), label)
	}
}

// subscriptionCollector reports subscriptions per channel, summed over
// products at scrape time from the topics' atomic counts: a scrape takes no
// topic lock.
type subscriptionCollector struct{ s *Server }

var subscriptionsDesc = prometheus.NewDesc("tickerfan_subscriptions",
	"Subscriptions, by channel (one per connection and product).", []string{"channel"}, nil)

func (sc *subscriptionCollector) Describe(ch chan<- *prometheus.Desc) { ch <- subscriptionsDesc }

func (sc *subscriptionCollector) Collect(ch chan<- prometheus.Metric) {
	var counts [numChannels]int
	for _, t := range sc.s.hub.topics {
		for c := range counts {
			counts[c] += int(t.counts[c].Load())
		}
	}
	counts[chStatus] = sc.s.hub.status.count()
	for c, n := range counts {
		ch <- prometheus.MustNewConstMetric(subscriptionsDesc, prometheus.GaugeValue, float64(n), channel(c).String())
	}
}
