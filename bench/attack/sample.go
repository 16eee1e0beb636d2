package attack

import (
	"fmt"
	"net/http"
	"time"

	"github.com/tickerfan/tickerfan/bench"
)

// Sample is the server's memory and goroutines at one moment: RSS from
// /proc (with a pid), heap and goroutines from its /metrics. A field not
// read is zero.
type Sample struct {
	RSS, Heap  int64 // bytes
	Goroutines int
}

// readSample reads what it can of a Sample.
func readSample(host string, pid int) Sample {
	var s Sample
	if pid != 0 {
		if ps, err := bench.ReadProc(pid); err == nil {
			s.RSS = ps.RSSBytes
		}
	}
	client := http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://" + host + "/metrics")
	if err != nil {
		return s
	}
	defer resp.Body.Close()
	m, err := bench.ParseMetrics(resp.Body)
	if err != nil {
		return s
	}
	s.Heap = int64(m["go_memstats_heap_inuse_bytes"])
	s.Goroutines = int(m["go_goroutines"])
	return s
}

// peak keeps the larger of each field.
func (s Sample) peak(o Sample) Sample {
	return Sample{RSS: max(s.RSS, o.RSS), Heap: max(s.Heap, o.Heap), Goroutines: max(s.Goroutines, o.Goroutines)}
}

// grewBy reports whether RSS or heap is up by more than slack from before.
func (s Sample) grewBy(before Sample, slack int64) bool {
	return (before.RSS > 0 && s.RSS > before.RSS+slack) || (before.Heap > 0 && s.Heap > before.Heap+slack)
}

// span formats before -> peak -> after of one field.
func span(before, peak, after int64, unit string) string {
	if before == 0 && after == 0 {
		return "-"
	}
	if unit == "MiB" {
		return fmt.Sprintf("%.0f->%.0f->%.0f MiB", mb(before), mb(peak), mb(after))
	}
	return fmt.Sprintf("%d->%d->%d", before, peak, after)
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }
