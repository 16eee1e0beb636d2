package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/PID/stat times: 100 on every
// Linux architecture Go supports (proc(5)).
const clockTicks = 100

// ProcStat is one reading of a process's CPU time and resident memory.
type ProcStat struct {
	CPUSeconds float64
	RSSBytes   int64
}

// ReadProc reads /proc/PID/stat (utime + stime, fields 14 and 15) and
// /proc/PID/status (VmRSS).
func ReadProc(pid int) (ProcStat, error) {
	var ps ProcStat
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ps, err
	}
	// The command name (field 2) may hold spaces: fields count from its ')'.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return ps, fmt.Errorf("bench: /proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(stat[i+1:])) // f[0] is field 3 (state)
	if len(f) < 13 {
		return ps, fmt.Errorf("bench: /proc/%d/stat: %d fields", pid, len(f)+2)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return ps, fmt.Errorf("bench: /proc/%d/stat: bad utime/stime %q %q", pid, f[11], f[12])
	}
	ps.CPUSeconds = float64(utime+stime) / clockTicks
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ps, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return ps, fmt.Errorf("bench: /proc/%d/status: VmRSS %q", pid, rest)
			}
			ps.RSSBytes = kb << 10
		}
	}
	return ps, nil
}

// Metrics are the samples of a Prometheus text page, labelled samples of one
// name summed.
type Metrics map[string]float64

// ParseMetrics reads the Prometheus text exposition format.
func ParseMetrics(r io.Reader) (Metrics, error) {
	m := Metrics{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest, ok := cutSample(line)
		if !ok {
			continue
		}
		fs := strings.Fields(rest)
		if len(fs) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fs[0], 64)
		if err != nil {
			continue
		}
		m[name] += v
	}
	return m, sc.Err()
}

// cutSample splits a sample line into its metric name and what follows the
// labels.
func cutSample(line string) (name, rest string, ok bool) {
	if i := strings.IndexByte(line, '{'); i >= 0 {
		j := strings.LastIndexByte(line, '}')
		if j < i {
			return "", "", false
		}
		if name := line[:i]; strings.HasSuffix(name, "_bucket") {
			// A histogram's buckets stay apart: name{le="0.005"}.
			if k := strings.Index(line[i:j], `le="`); k >= 0 {
				le, _, _ := strings.Cut(line[i+k+4:j], `"`)
				return name + `{le="` + le + `"}`, line[j+1:], true
			}
		}
		return line[:i], line[j+1:], true
	}
	return strings.Cut(line, " ")
}

// ServerSample is one reading of the server under test: its CPU and memory
// (from /proc when its pid is known, else its /metrics process_* samples)
// and its own counters from /metrics.
type ServerSample struct {
	At         time.Time `json:"-"`
	Source     string    `json:"source"` // "proc", "metrics" or "" (nothing known)
	CPUSeconds float64   `json:"cpu_seconds"`
	RSSBytes   int64     `json:"rss_bytes"`
	Metrics    Metrics   `json:"-"`
}

// serverProbe reads a server's resource use.
type serverProbe struct {
	pid     int
	metrics string
	client  *http.Client
}

func newServerProbe(pid int, metricsURL string) *serverProbe {
	return &serverProbe{pid: pid, metrics: metricsURL, client: &http.Client{Timeout: 2 * time.Second}}
}

// sample reads what is available; a server that cannot be read gives an
// empty Source, never an error that would stop a run.
func (p *serverProbe) sample() ServerSample {
	s := ServerSample{At: time.Now()}
	if p.metrics != "" {
		if m, err := p.scrape(); err == nil {
			s.Metrics = m
			if rss, ok := m["process_resident_memory_bytes"]; ok {
				s.Source = "metrics"
				s.RSSBytes = int64(rss)
				s.CPUSeconds = m["process_cpu_seconds_total"]
			}
		}
	}
	if p.pid > 0 {
		if ps, err := ReadProc(p.pid); err == nil {
			s.Source, s.CPUSeconds, s.RSSBytes = "proc", ps.CPUSeconds, ps.RSSBytes
		}
	}
	return s
}

func (p *serverProbe) scrape() (Metrics, error) {
	resp, err := p.client.Get(p.metrics)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("bench: %s: HTTP %d", p.metrics, resp.StatusCode)
	}
	return ParseMetrics(resp.Body)
}
