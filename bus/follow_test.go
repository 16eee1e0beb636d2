package bus

import (
	"testing"
	"time"
)

// TestFollowStale: a product behind its source's Beat is stale only when it
// receives nothing for the whole timeout; one that makes progress is late.
func TestFollowStale(t *testing.T) {
	d := 100 * time.Millisecond
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	cases := []struct {
		name  string
		steps func(p *follow) bool // returns stale at the end
		want  bool
	}{
		{"caught up", func(p *follow) bool { p.announced(10, at(0)); return p.stale(at(500), d) }, false},
		{"tail lost", func(p *follow) bool { p.announced(15, at(0)); return p.stale(at(100), d) }, true},
		{"not yet", func(p *follow) bool { p.announced(15, at(0)); return p.stale(at(99), d) }, false},
		{"late but moving", func(p *follow) bool {
			p.announced(15, at(0))
			p.seq = 12
			return p.stale(at(100), d)
		}, false},
		{"moved, then stopped", func(p *follow) bool {
			p.announced(15, at(0))
			p.seq = 12
			p.stale(at(100), d)
			return p.stale(at(200), d)
		}, true},
		{"recovering", func(p *follow) bool {
			p.state = stateRecovering
			p.announced(15, at(0))
			return p.stale(at(500), d)
		}, false},
	}
	for _, c := range cases {
		p := &follow{state: stateFollowing, seq: 10}
		if got := c.steps(p); got != c.want {
			t.Errorf("%s: stale = %v, want %v", c.name, got, c.want)
		}
	}
}
