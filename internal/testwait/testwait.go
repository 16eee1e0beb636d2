// Package testwait is the one way tests wait: poll a condition until a
// deadline, and on failure say what the condition last saw (like nats-server's
// checkFor). It exists so no test sleeps for a fixed time and hopes.
package testwait

import (
	"testing"
	"time"
)

// Poll is how often For re-checks its condition.
const Poll = 10 * time.Millisecond

// For calls check until it returns ok or within has passed; then it fails t
// with what the condition last reported. check returns a description of what
// it saw, used only in that failure message.
func For(t testing.TB, within time.Duration, what string, check func() (seen string, ok bool)) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		seen, ok := check()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s; last saw: %s", within, what, seen)
			return
		}
		time.Sleep(Poll) // the one sleep: a poll interval, not a guess at how long something takes
	}
}
