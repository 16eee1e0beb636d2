package bench

import (
	"os"
	"strings"
	"testing"
)

func TestReadProcOfSelf(t *testing.T) {
	buf := make([]byte, 8<<20)
	for i := range buf {
		buf[i] = 1
	}
	ps, err := ReadProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if ps.RSSBytes < 8<<20 || ps.CPUSeconds < 0 {
		t.Fatalf("own stats %+v; want at least the 8 MiB just touched", ps)
	}
	if _, err := ReadProc(1 << 30); err == nil {
		t.Fatal("no error for a pid that does not exist")
	}
	_ = buf[len(buf)-1]
}

func TestParseMetrics(t *testing.T) {
	page := `# HELP process_resident_memory_bytes Resident memory size in bytes.
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 2.5e+07
tickerfan_connections_closed_by_server_total{reason="slow consumer"} 3
tickerfan_connections_closed_by_server_total{reason="rate limit, too fast"} 4
go_goroutines 24
bad line
`
	m, err := ParseMetrics(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	if m["process_resident_memory_bytes"] != 25e6 || m["tickerfan_connections_closed_by_server_total"] != 7 || m["go_goroutines"] != 24 {
		t.Fatalf("parsed %v", m)
	}
}
