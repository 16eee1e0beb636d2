package coinbase

import (
	"math/rand/v2"
	"time"
)

// backoff computes reconnect delays: exponential from min, capped at max,
// with "equal jitter" (half the delay fixed, half random), so a fleet of
// relays that lost the same upstream does not reconnect in lockstep, and no
// delay is ever shorter than half the step. (AWS Architecture Blog,
// "Exponential Backoff And Jitter".)
//
// Not safe for concurrent use; each feed's Run owns one.
type backoff struct {
	min, max time.Duration
	attempt  int
	rng      *rand.Rand
}

func newBackoff(min, max time.Duration, seed uint64) *backoff {
	return &backoff{min: min, max: max, rng: rand.New(rand.NewPCG(seed, 0x7469636b))}
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
	return half + time.Duration(b.rng.Int64N(int64(d-half)+1))
}

// reset starts over from min, after a connection that went live.
func (b *backoff) reset() { b.attempt = 0 }
