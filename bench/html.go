package bench

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"os"
	"strings"
)

// series is one line of a chart.
type series struct {
	name   string
	color  string
	points [][2]float64
}

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"}

// chart geometry, in SVG user units.
const (
	chartW, chartH         = 760, 300
	padL, padR, padT, padB = 70, 150, 30, 45
)

// lineChart renders series as an inline SVG line chart. With xNines the x
// values are percentiles drawn on the 1/(1-p) log scale of HDR plots.
func lineChart(title, xLabel, yLabel string, ss []series, xNines bool) template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img">`, chartW, chartH, chartW, chartH)
	fmt.Fprintf(&b, `<text x="%d" y="18" font-size="14" font-weight="bold">%s</text>`, padL, template.HTMLEscapeString(title))
	sc, ok := newScale(ss, xNines)
	if !ok {
		b.WriteString(`<text x="300" y="150">no data</text></svg>`)
		return template.HTML(b.String())
	}
	sc.axes(&b, xLabel, yLabel)
	for i, s := range ss {
		sc.line(&b, i, s)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// scale maps data to the plot area.
type scale struct {
	xNines           bool
	xmin, xmax, ymax float64
	pw, ph           float64
}

// newScale fits the data; it reports false when there is none.
func newScale(ss []series, xNines bool) (scale, bool) {
	sc := scale{xNines: xNines, xmin: math.Inf(1), xmax: math.Inf(-1),
		pw: float64(chartW - padL - padR), ph: float64(chartH - padT - padB)}
	for _, s := range ss {
		for _, p := range s.points {
			x := sc.xOf(p[0])
			sc.xmin, sc.xmax, sc.ymax = math.Min(sc.xmin, x), math.Max(sc.xmax, x), math.Max(sc.ymax, p[1])
		}
	}
	if math.IsInf(sc.xmin, 1) {
		return sc, false
	}
	if sc.xmax == sc.xmin {
		sc.xmax = sc.xmin + 1
	}
	if sc.ymax == 0 {
		sc.ymax = 1
	}
	sc.ymax = niceCeil(sc.ymax)
	return sc, true
}

func (sc scale) xOf(v float64) float64 {
	if sc.xNines {
		return nines(v)
	}
	return v
}

func (sc scale) px(x float64) float64 { return float64(padL) + (x-sc.xmin)/(sc.xmax-sc.xmin)*sc.pw }
func (sc scale) py(y float64) float64 { return float64(padT) + sc.ph - y/sc.ymax*sc.ph }

// axes draws the frame, the grid, the tick labels and the axis titles.
func (sc scale) axes(b *strings.Builder, xLabel, yLabel string) {
	bottom := float64(padT) + sc.ph
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%.0f" height="%.0f" fill="none" stroke="#999"/>`, padL, padT, sc.pw, sc.ph)
	for i := 0; i <= 4; i++ {
		y := sc.ymax * float64(i) / 4
		fmt.Fprintf(b, `<line x1="%d" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#eee"/>`, padL, float64(padL)+sc.pw, sc.py(y), sc.py(y))
		fmt.Fprintf(b, `<text x="%d" y="%.1f" font-size="11" text-anchor="end">%s</text>`, padL-5, sc.py(y)+4, axisNum(y))
	}
	if sc.xNines {
		labels := []string{"0%", "90%", "99%", "99.9%", "99.99%", "99.999%", "99.9999%"}
		for n := 0; float64(n) <= sc.xmax+1e-9 && n < len(labels); n++ {
			x := sc.px(float64(n))
			fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%.0f" stroke="#eee"/>`, x, x, padT, bottom)
			fmt.Fprintf(b, `<text x="%.1f" y="%.0f" font-size="11" text-anchor="middle">%s</text>`, x, bottom+15, labels[n])
		}
	} else {
		for i := 0; i <= 5; i++ {
			x := math.Round(sc.xmin + (sc.xmax-sc.xmin)*float64(i)/5)
			fmt.Fprintf(b, `<text x="%.1f" y="%.0f" font-size="11" text-anchor="middle">%s</text>`, sc.px(x), bottom+15, axisNum(x))
		}
	}
	fmt.Fprintf(b, `<text x="%.0f" y="%d" font-size="12" text-anchor="middle">%s</text>`, float64(padL)+sc.pw/2, chartH-8, template.HTMLEscapeString(xLabel))
	fmt.Fprintf(b, `<text x="14" y="%.0f" font-size="12" text-anchor="middle" transform="rotate(-90 14 %.0f)">%s</text>`,
		float64(padT)+sc.ph/2, float64(padT)+sc.ph/2, template.HTMLEscapeString(yLabel))
}

// line draws the i-th series and its legend entry.
func (sc scale) line(b *strings.Builder, i int, s series) {
	pts := make([]string, 0, len(s.points))
	for _, p := range s.points {
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", sc.px(sc.xOf(p[0])), sc.py(p[1])))
	}
	fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="1.8" points="%s"/>`, s.color, strings.Join(pts, " "))
	lx, ly := float64(padL)+sc.pw, padT+14+18*i
	fmt.Fprintf(b, `<line x1="%.0f" x2="%.0f" y1="%d" y2="%d" stroke="%s" stroke-width="3"/>`, lx+10, lx+28, ly-4, ly-4, s.color)
	fmt.Fprintf(b, `<text x="%.0f" y="%d" font-size="12">%s</text>`, lx+33, ly, template.HTMLEscapeString(s.name))
}

// nines maps a percentile to the count of nines in it: 90 -> 1, 99 -> 2.
func nines(p float64) float64 {
	if p >= 99.9999 {
		return 6
	}
	return -math.Log10(1 - p/100)
}

func niceCeil(v float64) float64 {
	mag := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if v <= m*mag {
			return m * mag
		}
	}
	return 10 * mag
}

func axisNum(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.3gM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.3gk", v/1e3)
	}
	return fmt.Sprintf("%.3g", v)
}

// charts builds the report's charts from a result.
func charts(res *Result) []template.HTML {
	var out []template.HTML
	if m := res.Measured; m != nil {
		ss := []series{{name: "all", color: palette[0], points: percentilePoints(m.Distribution)}}
		for _, name := range res.latencyGroups() {
			ss = append(ss, series{name: name, color: palette[(len(ss))%len(palette)], points: percentilePoints(res.Groups[name].Distribution)})
		}
		out = append(out, lineChart("Latency distribution (measured window)", "percentile", "latency, ms", ss, true))
	}
	tl := res.Timeline
	pts := func(f func(TimePoint) float64) [][2]float64 {
		p := make([][2]float64, len(tl))
		for i, t := range tl {
			p[i] = [2]float64{t.T, f(t)}
		}
		return p
	}
	out = append(out,
		lineChart("Throughput over time", "seconds", "messages per second", []series{
			{name: "msg/s", color: palette[0], points: pts(func(t TimePoint) float64 { return t.MsgsPerSec })},
		}, false),
		lineChart("Latency over time (each second)", "seconds", "ms", []series{
			{name: "p50", color: palette[2], points: pts(func(t TimePoint) float64 { return t.P50 })},
			{name: "p99", color: palette[1], points: pts(func(t TimePoint) float64 { return t.P99 })},
		}, false),
		lineChart("Connections over time", "seconds", "connections", []series{
			{name: "open", color: palette[0], points: pts(func(t TimePoint) float64 { return float64(t.Open) })},
			{name: "subscribed", color: palette[3], points: pts(func(t TimePoint) float64 { return float64(t.Subscribed) })},
		}, false),
		lineChart("CPU over time", "seconds", "% of one core", []series{
			{name: "server", color: palette[1], points: pts(func(t TimePoint) float64 { return t.ServerCPU })},
			{name: "tickerbench", color: palette[4], points: pts(func(t TimePoint) float64 { return t.ClientCPU })},
		}, false),
	)
	if r := res.Ramp; r != nil && len(r.Steps) > 0 {
		var p99, thr [][2]float64
		for _, s := range r.Steps {
			p99 = append(p99, [2]float64{float64(s.Connections), s.Measured.Latency.P99})
			thr = append(thr, [2]float64{float64(s.Connections), r.MaxP99Ms})
		}
		out = append(out, lineChart("Ramp: p99 latency by connections", "connections", "ms", []series{
			{name: "p99", color: palette[1], points: p99}, {name: "threshold", color: "#999", points: thr},
		}, false))
	}
	return out
}

// latencyGroups names the groups worth a line of their own.
func (res *Result) latencyGroups() []string {
	var out []string
	for _, name := range groupNames {
		if g := res.Groups[name]; g != nil && len(g.Distribution) > 0 {
			out = append(out, name)
		}
	}
	return out
}

func percentilePoints(d []Percentile) [][2]float64 {
	p := make([][2]float64, 0, len(d))
	for _, q := range d {
		if q.Percent < 100 {
			p = append(p, [2]float64{q.Percent, q.Ms})
		}
	}
	return p
}

var reportPage = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>tickerbench {{.Res.Mode}} {{.Res.StartedAt.Format "2006-01-02 15:04:05"}}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1000px}pre{background:#f6f6f6;padding:1em;overflow-x:auto;font-size:12px}
svg{display:block;margin:1em 0;background:#fff}</style></head><body>
<h1>tickerbench: {{.Res.Mode}} run</h1>
<p>Target <code>{{.Res.Target}}</code>, started {{.Res.StartedAt.Format "2006-01-02 15:04:05 UTC"}}, {{printf "%.1f" .Res.Elapsed}} s.</p>
{{range .Charts}}{{.}}{{end}}
<h2>Summary</h2>
<pre>{{.Table}}</pre>
<p>Latency is the receive wall time minus each message's <code>time</code> field, on this machine's clock; the full figures are in the JSON result.</p>
</body></html>
`))

// WriteHTML writes a self-contained report (inline SVG, no scripts) to path.
func WriteHTML(path string, res *Result) error {
	var table bytes.Buffer
	WriteTable(&table, res)
	var out bytes.Buffer
	err := reportPage.Execute(&out, struct {
		Res    *Result
		Charts []template.HTML
		Table  string
	}{res, charts(res), table.String()})
	if err != nil {
		return err
	}
	return os.WriteFile(path, out.Bytes(), 0o644)
}
