package bench

import (
	"strings"
	"testing"
)

func TestServerDelaysFromHistogram(t *testing.T) {
	scrape := func(text string) Metrics {
		m, err := ParseMetrics(strings.NewReader(text))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	from := scrape(`tickerfan_write_delay_seconds_bucket{le="0.005"} 10
tickerfan_write_delay_seconds_bucket{le="0.05"} 10
tickerfan_write_delay_seconds_bucket{le="+Inf"} 10
tickerfan_write_delay_seconds_sum 0.02
tickerfan_write_delay_seconds_count 10
tickerfan_upstream_messages_total{feed="a"} 100
`)
	// In the window: 60 writes within 5 ms, 39 more within 50 ms, 1 above.
	to := scrape(`tickerfan_write_delay_seconds_bucket{le="0.005"} 70
tickerfan_write_delay_seconds_bucket{le="0.05"} 109
tickerfan_write_delay_seconds_bucket{le="+Inf"} 110
tickerfan_write_delay_seconds_sum 2.02
tickerfan_write_delay_seconds_count 110
tickerfan_upstream_messages_total{feed="a"} 1090
`)
	d := serverDelays(from, to)
	if d == nil || d.Fanout != nil || d.Write == nil {
		t.Fatalf("delays %+v: want the write histogram only", d)
	}
	if w := *d.Write; w.Count != 100 || w.Mean != 0.02 || w.P50 != 0.005 || w.P99 != 0.05 {
		t.Errorf("write delays %+v: want 100 writes, mean 0.02 s, p50 <= 0.005, p99 <= 0.05", w)
	}
	sent := func(n int64) []Sent { return []Sent{{Product: "A", Tickers: n, Matches: n}} }
	in := ingest(sent(0), sent(500), from, to, 2)
	if in == nil || in.Offered != 1000 || in.Read != 990 || in.ReadPer != 495 || in.Ratio != 0.99 {
		t.Errorf("ingest %+v: want 1000 offered, 990 read (495/s), ratio 0.99", in)
	}
}
