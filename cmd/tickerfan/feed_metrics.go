package main

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tickerfan/tickerfan/feed"
)

// feedCollector exports the health of every feed that reports it
// (feed.StatusReporter), read at scrape time.
type feedCollector struct{ feeds []feed.StatusReporter }

var (
	feedStateDesc = prometheus.NewDesc("tickerfan_feed_state",
		"1 for the state each feed is in (connecting, live, resyncing, stale, stopped), 0 for the others.", []string{"feed", "state"}, nil)
	feedMessagesDesc = prometheus.NewDesc("tickerfan_feed_messages_total",
		"Raw messages received from the upstream.", []string{"feed"}, nil)
	feedBytesDesc = prometheus.NewDesc("tickerfan_feed_bytes_total",
		"Bytes of the raw upstream messages.", []string{"feed"}, nil)
	feedRateDesc = prometheus.NewDesc("tickerfan_feed_messages_per_second",
		"Upstream messages per second over the last 10 seconds.", []string{"feed"}, nil)
	feedAgeDesc = prometheus.NewDesc("tickerfan_feed_last_message_age_seconds",
		"Seconds since the last upstream message (absent before the first).", []string{"feed"}, nil)
	feedReconnectsDesc = prometheus.NewDesc("tickerfan_feed_reconnects_total",
		"Upstream connections lost or refused, each followed by a new attempt.", []string{"feed"}, nil)
	feedResyncsDesc = prometheus.NewDesc("tickerfan_feed_resyncs_total",
		"Books resynced from a fresh snapshot after a gap or a malformed update.", []string{"feed"}, nil)
	feedGapsDesc = prometheus.NewDesc("tickerfan_feed_gaps_total",
		"Upstream sequence gaps detected.", []string{"feed"}, nil)
	feedMalformedDesc = prometheus.NewDesc("tickerfan_feed_malformed_total",
		"Upstream messages dropped as malformed or unexpected, by reason.", []string{"feed", "reason"}, nil)
)

func newFeedCollector(sources []feed.Source) *feedCollector {
	c := &feedCollector{}
	for _, s := range sources {
		if r, ok := s.(feed.StatusReporter); ok {
			c.feeds = append(c.feeds, r)
		}
	}
	return c
}

func (c *feedCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{feedStateDesc, feedMessagesDesc, feedBytesDesc, feedRateDesc, feedAgeDesc,
		feedReconnectsDesc, feedResyncsDesc, feedGapsDesc, feedMalformedDesc} {
		ch <- d
	}
}

func (c *feedCollector) Collect(ch chan<- prometheus.Metric) {
	now := time.Now()
	for _, f := range c.feeds {
		st := f.Status()
		for _, s := range feed.States {
			v := 0.0
			if st.State == s {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(feedStateDesc, prometheus.GaugeValue, v, st.Name, string(s))
		}
		counter := func(d *prometheus.Desc, v uint64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), st.Name)
		}
		counter(feedMessagesDesc, st.Messages)
		counter(feedBytesDesc, st.Bytes)
		counter(feedReconnectsDesc, st.Reconnects)
		counter(feedResyncsDesc, st.Resyncs)
		counter(feedGapsDesc, st.Gaps)
		ch <- prometheus.MustNewConstMetric(feedRateDesc, prometheus.GaugeValue, st.Rate, st.Name)
		if !st.LastMessage.IsZero() {
			ch <- prometheus.MustNewConstMetric(feedAgeDesc, prometheus.GaugeValue, now.Sub(st.LastMessage).Seconds(), st.Name)
		}
		for _, r := range feed.Reasons {
			ch <- prometheus.MustNewConstMetric(feedMalformedDesc, prometheus.CounterValue, float64(st.Malformed[r]), st.Name, r)
		}
	}
}
