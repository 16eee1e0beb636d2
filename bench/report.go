package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
)

// printProgress writes the live line: on a terminal it rewrites one line,
// elsewhere (a log, CI) it prints a line per second.
func (r *runner) printProgress(tp TimePoint) {
	if r.progress == nil {
		return
	}
	line := fmt.Sprintf("[%5.0fs] conns %d/%d subscribed %d | %s msg/s %s/s | p50 %s p99 %s | errors %d failed %d",
		tp.T, tp.Open, r.swarm.requested(), tp.Subscribed, count(int64(tp.MsgsPerSec)), bytesHuman(tp.BytesPerSec),
		ms(tp.P50), ms(tp.P99), tp.Errors, tp.ConnectFailed)
	if tp.ServerRSS > 0 {
		line += fmt.Sprintf(" | server cpu %.0f%% rss %s", tp.ServerCPU, bytesHuman(float64(tp.ServerRSS)))
	}
	line += fmt.Sprintf(" | self cpu %.0f%%", tp.ClientCPU)
	if isTerminal(r.progress) {
		fmt.Fprintf(r.progress, "\r\x1b[K%s", line)
	} else {
		fmt.Fprintln(r.progress, line)
	}
}

// finishProgress ends a rewritten line so what follows starts clean.
func (r *runner) finishProgress() {
	if r.progress != nil && isTerminal(r.progress) {
		fmt.Fprintln(r.progress)
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// WriteJSON writes the result as indented JSON to path.
func WriteJSON(path string, res *Result) error {
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// WriteTable writes the human summary of a result.
func WriteTable(w io.Writer, res *Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	defer tw.Flush()
	early := ""
	if res.StoppedEarly {
		early = "  (stopped early)"
	}
	fmt.Fprintf(tw, "tickerbench %s against %s, %.1f s%s\n", res.Mode, res.Target, res.Elapsed, early)
	s := res.Settings
	fmt.Fprintf(tw, "subscribers\t%d x %d of %d products (%s), channels %s\n",
		s.Connections, s.PerConnection, len(s.Products), s.Distribution, strings.Join(s.Channels, ","))
	c := res.Connections
	fmt.Fprintf(tw, "connections\topened %d of %d, failed %d, open at end %d, subscribed %d, source addresses %d\n",
		c.Opened, c.Requested, c.Failed, c.OpenAtEnd, c.SubscribedAtEnd, c.SourceAddrs)
	fmt.Fprintf(tw, "connect\tp50 %s  p90 %s  p99 %s  max %s   subscribe reply p50 %s  p99 %s\n",
		ms(c.Connect.P50), ms(c.Connect.P90), ms(c.Connect.P99), ms(c.Connect.Max), ms(c.Subscribe.P50), ms(c.Subscribe.P99))
	fmt.Fprintf(tw, "errors\tconnect %s;  closed early %s;  protocol errors %d\n",
		mapLine(c.ConnectErrors), mapLine(c.Closed), c.ProtocolErrors)
	if res.Idle != nil {
		writeIdle(tw, res.Idle)
	}
	if res.Ramp != nil {
		tw.Flush()
		writeRamp(w, res.Ramp)
	}
	if res.Measured != nil {
		writeMeasured(tw, "", res.Measured)
	}
	if res.Books != nil {
		writeBooks(tw, res.Books)
	}
	if res.Groups != nil {
		tw.Flush()
		writeGroups(w, res.Groups)
	}
}

// shownMismatches is how many mismatched books the table names.
const shownMismatches = 3

func writeBooks(tw *tabwriter.Writer, b *Books) {
	fmt.Fprintf(tw, "books\t%d of %d level2 subscribers' books exact (%s of %s product books), compared %.1f s after the upstream froze",
		b.Exact, b.Subscribers, count(int64(b.ExactBooks)), count(int64(b.ProductBooks)), b.WaitS)
	if !b.Settled {
		fmt.Fprintf(tw, "; messages still arriving at the %s deadline", bookDeadline)
	}
	fmt.Fprintln(tw)
	for i, m := range b.Mismatches {
		if i == shownMismatches {
			break
		}
		fmt.Fprintf(tw, "  not exact\t%s\n", m)
	}
	if more := b.ProductBooks - b.ExactBooks - min(len(b.Mismatches), shownMismatches); more > 0 {
		fmt.Fprintf(tw, "  not exact\t%d more product books (the JSON result names up to %d)\n", more, maxBookMismatches)
	}
	if b.Capped > 0 {
		fmt.Fprintf(tw, "  depth\t%s product books compared only as deep as the server's snapshots (%d levels a side at the least; the upstream's have %d)\n",
			count(int64(b.Capped)), b.CappedDepth, b.UpstreamDepth)
	}
	if len(b.Unchecked) > 0 {
		fmt.Fprintf(tw, "  not checked\t%s\n", mapLine(b.Unchecked))
	}
}

func writeMeasured(tw *tabwriter.Writer, title string, m *Measured) {
	fmt.Fprintf(tw, "window%s\t%.2f s, %d subscribers\n", title, m.Seconds, m.Subscribers)
	fmt.Fprintf(tw, "delivered\t%s msgs, %s msg/s (%.1f per subscriber), %s/s\n",
		count(m.Messages), count(int64(m.MessagesPerSec)), m.MessagesPerSubscriber, bytesHuman(m.BytesPerSec))
	fmt.Fprintf(tw, "by type\t%s\n", mapLine(m.ByType))
	fmt.Fprintf(tw, "delivery ratio\t%.4f (%s)\n", m.DeliveryRatio, m.DeliveryBasis)
	if l := m.Level2; l != nil {
		fmt.Fprintf(tw, "  level2 sequence\texpected %s delivered %s ratio %.4f; gaps %d (%d msgs), out of order %d, conflated %d, resyncs %d\n",
			count(l.Expected), count(l.Delivered), l.Ratio, l.Gaps, l.GapMessages, l.OutOfOrder, l.Conflated, l.Resyncs)
	}
	if u := m.Upstream; u != nil {
		fmt.Fprintf(tw, "  upstream sent\texpected %s delivered %s ratio %.4f\n", count(u.Expected), count(u.Delivered), u.Ratio)
	}
	if s := m.ServerSent; s != nil {
		fmt.Fprintf(tw, "  server wrote\t%s msgs, received %s, ratio %.4f\n", count(s.Messages), count(s.Received), s.Ratio)
	}
	if in := m.Ingest; in != nil {
		fmt.Fprintf(tw, "ingest\tupstream sent %s msg/s, server read %s msg/s, ratio %.4f\n",
			count(int64(in.OfferedPer)), count(int64(in.ReadPer)), in.Ratio)
	}
	fmt.Fprintf(tw, "out of order\t%d on ticker/match/heartbeat; %d messages stamped after receipt\n", m.OutOfOrder, m.NegativeLatency)
	fmt.Fprintf(tw, "latency\tcount\tp50\tp90\tp99\tp99.9\tmax\n")
	row := func(name string, l Latency) {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, count(l.Count), ms(l.P50), ms(l.P90), ms(l.P99), ms(l.P999), ms(l.Max))
	}
	row("all", m.Latency)
	for _, k := range sortedKeys(m.LatencyByType) {
		row(k, m.LatencyByType[k])
	}
	row("staleness", m.Staleness)
	if d := m.ServerDelays; d != nil {
		part := func(name string, q *DelayQuantiles) string {
			if q == nil {
				return ""
			}
			return fmt.Sprintf("%s mean %s, p50 <= %s, p99 <= %s; ", name, ms(q.Mean*1000), ms(q.P50*1000), ms(q.P99*1000))
		}
		fmt.Fprintf(tw, "  server's part\t%s(of staleness: waits in the server's inbox and queues)\n",
			part("fan-out inbox", d.Fanout)+part("connection queue", d.Write))
	}
	if u := m.Server; u != nil {
		fmt.Fprintf(tw, "server\tcpu %.2f s (%.0f%% of a core), rss %s before connections, %s at end: %s per connection [%s]\n",
			u.CPUSeconds, u.CPUPercent, bytesHuman(float64(u.RSSBase)), bytesHuman(float64(u.RSSEnd)),
			bytesHuman(u.RSSPerConn), u.Source)
	}
	if u := m.Client; u != nil {
		fmt.Fprintf(tw, "tickerbench\tcpu %.2f s (%.0f%% of a core), rss %s: %s per connection\n",
			u.CPUSeconds, u.CPUPercent, bytesHuman(float64(u.RSSEnd)), bytesHuman(u.RSSPerConn))
	}
	if len(m.ServerCounters) > 0 {
		fmt.Fprintf(tw, "server counters\t%s\n", floatMapLine(m.ServerCounters))
	}
}

func writeIdle(tw *tabwriter.Writer, id *IdleResult) {
	fmt.Fprintf(tw, "idle\t%d connections held %.1f s after %d warm-up ones [%s]\n", id.Connections, id.HoldS, id.WarmupConnections, id.Source)
	fmt.Fprintf(tw, "  server rss\t%s -> %s: %s per connection\n",
		bytesHuman(float64(id.RSSBefore)), bytesHuman(float64(id.RSSAfter)), bytesHuman(id.RSSPerConn))
	if id.GoroutinesAfter > 0 {
		fmt.Fprintf(tw, "  server goroutines\t%.0f -> %.0f\n", id.GoroutinesBefore, id.GoroutinesAfter)
	}
	fmt.Fprintf(tw, "  tickerbench rss\t%s per connection\n", bytesHuman(id.ClientRSSPerConn))
}

func writeRamp(w io.Writer, rr *RampResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "connections\tmsg/s\tp50\tp99\tp99.9\tmax\tdelivery\tserver cpu\tserver rss\tpass\t\n")
	for _, s := range rr.Steps {
		m := s.Measured
		cpu, rss := "-", "-"
		if m.Server != nil {
			cpu, rss = fmt.Sprintf("%.0f%%", m.Server.CPUPercent), bytesHuman(float64(m.Server.RSSEnd))
		}
		pass := "yes"
		if !s.Pass {
			pass = "NO: " + s.Reason
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%.4f\t%s\t%s\t%s\t\n", s.Connections, count(int64(m.MessagesPerSec)),
			ms(m.Latency.P50), ms(m.Latency.P99), ms(m.Latency.P999), ms(m.Latency.Max), m.DeliveryRatio, cpu, rss, pass)
	}
	tw.Flush()
	fmt.Fprintf(w, "knee: %d connections (p99 <= %.0f ms, delivery >= %.4f); %s\n", rr.Knee, rr.MaxP99Ms, rr.MinDelivery, rr.Reason)
}

func writeGroups(w io.Writer, groups map[string]*Measured) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "group\tsubscribers\tmsg/s each\tKB/s each\tp50\tp99\tmax\tlevel2 ratio\tconflated\tresyncs\tgaps\t\n")
	for _, name := range groupNames {
		m := groups[name]
		if m == nil || m.Subscribers == 0 {
			continue
		}
		var l2 Level2Delivery
		if m.Level2 != nil {
			l2 = *m.Level2
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%s\t%s\t%s\t%.4f\t%d\t%d\t%d\t\n", name, m.Subscribers, m.MessagesPerSubscriber,
			m.BytesPerSec/float64(m.Subscribers)/1024, ms(m.Latency.P50), ms(m.Latency.P99), ms(m.Latency.Max),
			l2.Ratio, l2.Conflated, l2.Resyncs, l2.Gaps)
	}
	tw.Flush()
}

func ms(v float64) string {
	switch {
	case v == 0:
		return "-"
	case v < 10:
		return fmt.Sprintf("%.2fms", v)
	case v < 1000:
		return fmt.Sprintf("%.1fms", v)
	}
	return fmt.Sprintf("%.2fs", v/1000)
}

// count renders n with thousands separators.
func count(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func bytesHuman(v float64) string {
	units := []string{"B", "KiB", "MiB", "GiB"}
	i := 0
	for ; i < len(units)-1 && (v >= 1024 || v <= -1024); i++ {
		v /= 1024
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

func mapLine(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %s", k, count(m[k]))
	}
	return strings.Join(parts, ", ")
}

func floatMapLine(m map[string]float64) string {
	parts := []string{}
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %g", strings.TrimPrefix(k, "tickerfan_"), m[k]))
	}
	return strings.Join(parts, ", ")
}
