package attack

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTable writes one row per attack: the verdict, the probes, the canary,
// the server's RSS before, at its peak and after, and the attack's notes.
func WriteTable(w io.Writer, outs []Outcome) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "attack\tverdict\tprobes ok/total (slow, worst)\tcanary\tRSS before -> peak -> after\tnotes")
	for _, o := range outs {
		p := o.Probes
		probes := fmt.Sprintf("%d/%d (%d slow, %s)", p.Total-p.Failed, p.Total, p.Slow, p.Worst.Round(time.Millisecond))
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s -> %s -> %s\t%s\n", o.Attack, o.Verdict, probes, o.Canary,
			mib(o.RSSBefore), mib(o.RSSPeak), mib(o.RSSAfter), strings.Join(o.Notes, "; "))
	}
	tw.Flush()
	for _, o := range outs {
		if o.Probes.LastError != "" {
			fmt.Fprintf(w, "%s: last probe error: %s\n", o.Attack, o.Probes.LastError)
		}
	}
}

func mib(b int64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
}
