// Package backoff computes reconnect delays for the two reconnecting
// clients, the coinbase feed adapter and the Go client package: exponential
// from a minimum, capped at a maximum, with "equal jitter" (half the delay
// fixed, half random), so a fleet that lost the same server does not come
// back in lockstep and no delay is shorter than half its step (AWS
// Architecture Blog, "Exponential Backoff And Jitter").
package backoff

import (
	"math/rand/v2"
	"time"
)

// Backoff is one reconnect loop's delays. Not safe for concurrent use: the
// goroutine that reconnects owns it.
type Backoff struct {
	min, max time.Duration
	attempt  int
	rng      *rand.Rand
}

// New returns a Backoff from min to max whose jitter comes from seed.
func New(min, max time.Duration, seed uint64) *Backoff {
	return &Backoff{min: min, max: max, rng: rand.New(rand.NewPCG(seed, 0x7469636b))}
}

// Next returns the delay before the next attempt and counts the attempt.
func (b *Backoff) Next() time.Duration {
	d := b.max
	if b.attempt < 62 {
		if step := b.min << b.attempt; step > 0 && step < b.max {
			d = step
		}
	}
	b.attempt++
	half := d / 2
	return half + time.Duration(b.rng.Int64N(int64(d-half)+1))
}

// Reset starts over from min, after a connection that was answered.
func (b *Backoff) Reset() { b.attempt = 0 }
