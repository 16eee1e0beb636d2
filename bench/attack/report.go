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
	fmt.Fprintln(tw, "attack\tverdict\tprobes ok/total (slow, worst)\tcanary\tRSS before->peak->after\theap\tgoroutines\tnotes")
	for _, o := range outs {
		p := o.Probes
		probes := fmt.Sprintf("%d/%d (%d slow, %s)", p.Total-p.Failed, p.Total, p.Slow, p.Worst.Round(time.Millisecond))
		b, pk, a := o.Before, o.Peak, o.After
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", o.Attack, o.Verdict, probes, o.Canary,
			span(b.RSS, pk.RSS, a.RSS, "MiB"), span(b.Heap, pk.Heap, a.Heap, "MiB"),
			span(int64(b.Goroutines), int64(pk.Goroutines), int64(a.Goroutines), ""), strings.Join(o.Notes, "; "))
	}
	tw.Flush()
	for _, o := range outs {
		if o.Probes.LastError != "" {
			fmt.Fprintf(w, "%s: last probe error: %s\n", o.Attack, o.Probes.LastError)
		}
	}
}
