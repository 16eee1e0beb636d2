package main

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tickerfan/tickerfan/bus"
)

// clusterCollector exports the cluster's state, read at scrape time.
type clusterCollector struct{ c *cluster }

var (
	clusterConnectedDesc = prometheus.NewDesc("tickerfan_cluster_nats_connected",
		"1 while the NATS connection is up, by use (publish, follow).", []string{"conn"}, nil)
	clusterLagDesc = prometheus.NewDesc("tickerfan_cluster_lag_seconds",
		"Age of the last event an edge received (now minus its upstream time).", nil, nil)
	clusterBeatLagDesc = prometheus.NewDesc("tickerfan_cluster_beat_lag_seconds",
		"How late an ingest's last beat reached the edge (receipt minus the ingest's stamp).", []string{"ingest"}, nil)
	clusterIngestDesc = prometheus.NewDesc("tickerfan_cluster_ingest_alive",
		"1 for each ingest whose beats an edge hears, 0 once silent past ingest_timeout; epoch is its start.", []string{"ingest", "epoch"}, nil)
	clusterEpochDesc = prometheus.NewDesc("tickerfan_cluster_epoch_info",
		"This ingest's id and epoch.", []string{"ingest", "epoch"}, nil)
	clusterCounterDescs = map[string]*prometheus.Desc{}
)

// clusterCounters name the counters of both sides and how to read them.
var clusterCounters = []struct {
	name, help string
	pub        func(bus.PublisherStats) uint64
	fol        func(*bus.FollowerStats) uint64
}{
	{"events_published_total", "Events an ingest published.", func(s bus.PublisherStats) uint64 { return s.Published }, nil},
	{"publish_failures_total", "Events an ingest failed to publish (NATS down past its buffer).", func(s bus.PublisherStats) uint64 { return s.Failed }, nil},
	{"snapshots_served_total", "Snapshot requests an ingest answered.", func(s bus.PublisherStats) uint64 { return s.Snapshots }, nil},
	{"events_total", "Events an edge received from the ingests it follows.", nil, func(s *bus.FollowerStats) uint64 { return s.Events }},
	{"gaps_total", "Seq gaps an edge detected.", nil, func(s *bus.FollowerStats) uint64 { return s.Gaps }},
	{"stale_total", "Streams an edge recovered because a beat announced events it never got.", nil, func(s *bus.FollowerStats) uint64 { return s.Stale }},
	{"slow_consumer_total", "Times NATS dropped events for an edge that fell behind.", nil, func(s *bus.FollowerStats) uint64 { return s.SlowConsumer }},
	{"recoveries_total", "Product recoveries from a snapshot, whatever the cause.", nil, func(s *bus.FollowerStats) uint64 { return s.Recoveries }},
	{"failovers_total", "Product recoveries from another ingest after the followed one went silent.", nil, func(s *bus.FollowerStats) uint64 { return s.Failovers }},
	{"epochs_total", "Ingest restarts (new epochs) an edge saw.", nil, func(s *bus.FollowerStats) uint64 { return s.Epochs }},
	{"snapshot_timeouts_total", "Snapshot requests an edge repeated for want of a reply.", nil, func(s *bus.FollowerStats) uint64 { return s.Timeouts }},
}

func init() {
	for _, k := range clusterCounters {
		clusterCounterDescs[k.name] = prometheus.NewDesc("tickerfan_cluster_"+k.name, k.help, nil, nil)
	}
}

func (cc *clusterCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- clusterConnectedDesc
	ch <- clusterLagDesc
	ch <- clusterBeatLagDesc
	ch <- clusterIngestDesc
	ch <- clusterEpochDesc
	for _, d := range clusterCounterDescs {
		ch <- d
	}
}

func (cc *clusterCollector) Collect(ch chan<- prometheus.Metric) {
	st := cc.c.state()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, k := range clusterCounters {
		d := clusterCounterDescs[k.name]
		switch {
		case k.pub != nil && st.Publisher != nil:
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(k.pub(st.Publisher.PublisherStats)))
		case k.fol != nil && st.Follower != nil:
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(k.fol(st.Follower)))
		}
	}
	if p := st.Publisher; p != nil {
		gauge(clusterConnectedDesc, boolValue(p.Connected), "publish")
		gauge(clusterEpochDesc, 1, p.ID, fmt.Sprint(p.Epoch))
	}
	if f := st.Follower; f != nil {
		gauge(clusterConnectedDesc, boolValue(f.Connected), "follow")
		gauge(clusterLagDesc, f.LagSeconds)
		for _, in := range f.Ingests {
			gauge(clusterIngestDesc, boolValue(in.Alive), in.ID, fmt.Sprint(in.Epoch))
			gauge(clusterBeatLagDesc, in.LagSecs, in.ID)
		}
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
