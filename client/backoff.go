package client

import (
	"math/rand/v2"
	"time"
)

// backoff computes reconnect delays: exponential from min, capped at max,
// with "equal jitter" (half the delay fixed, half random), so many clients
// that lost the same server do not come back in lockstep (AWS Architecture
// Blog, "Exponential Backoff And Jitter"). The run goroutine owns it.
type backoff struct {
	min, max time.Duration
	attempt  int
}

// next returns the delay before the next attempt and counts the attempt.
func (b *backoff) next() time.Duration {
	d := b.max
	if b.attempt < 62 {
		if step := b.min << b.attempt; step > 0 && step < b.max {
			d = step
		}
	}
	b.attempt++
	half := d / 2
	return half + rand.N(d-half+1)
}

// reset starts over from min, after a connection that was answered.
func (b *backoff) reset() { b.attempt = 0 }
