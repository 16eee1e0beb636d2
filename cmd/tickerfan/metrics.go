package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tickerfan/tickerfan/book"
)

// registerMetrics adds the upstream and book counters to the server's
// registry and returns the per-feed upstream message counter.
func registerMetrics(reg *prometheus.Registry, market *book.Market) *prometheus.CounterVec {
	upstream := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tickerfan_upstream_messages_total", Help: "Normalized updates received from upstream feeds.",
	}, []string{"feed"})
	reg.MustRegister(upstream, &bookCollector{market: market})
	return upstream
}

var bookErrorsDesc = prometheus.NewDesc("tickerfan_book_errors_total",
	"Upstream input rejected by the book, by reason; the book was left intact.", []string{"reason"}, nil)

var bookChangesDesc = prometheus.NewDesc("tickerfan_book_changes_total",
	"Level-2 changes applied to the books.", nil, nil)

var bookDepthDesc = prometheus.NewDesc("tickerfan_book_depth_dropped_total",
	"Upstream levels left out to keep book.max_levels per side: trimmed from the book, or beyond its kept depth.",
	[]string{"reason"}, nil)

// bookCollector reads the Market's counters at scrape time.
type bookCollector struct{ market *book.Market }

func (b *bookCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- bookErrorsDesc
	ch <- bookChangesDesc
	ch <- bookDepthDesc
}

func (b *bookCollector) Collect(ch chan<- prometheus.Metric) {
	c := b.market.Counters()
	for reason, v := range map[string]uint64{
		"crossed": c.RejectedCrossed, "unknown_level": c.RejectedUnknownLevel,
		"negative_size": c.RejectedNegativeSize, "bad_price": c.RejectedBadPrice,
		"bad_side": c.RejectedBadSide, "bad_snapshot": c.BadSnapshots, "bad_trade": c.BadTrades,
		"bad_update": c.BadUpdates, "unknown_product": c.UnknownProduct,
	} {
		ch <- prometheus.MustNewConstMetric(bookErrorsDesc, prometheus.CounterValue, float64(v), reason)
	}
	ch <- prometheus.MustNewConstMetric(bookChangesDesc, prometheus.CounterValue, float64(c.ChangesApplied))
	ch <- prometheus.MustNewConstMetric(bookDepthDesc, prometheus.CounterValue, float64(c.LevelsTrimmed), "trimmed")
	ch <- prometheus.MustNewConstMetric(bookDepthDesc, prometheus.CounterValue, float64(c.BeyondDepth), "beyond_depth")
}
