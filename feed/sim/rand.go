package sim

import (
	"math"
	"math/rand/v2"
)

// poissonChunk bounds the mean drawn by one run of Knuth's method, where
// e^-mean stays far from underflow and the loop short.
const poissonChunk = 16

// poisson draws counts of events with a fixed mean: how many l2 events or
// trades happen in one simulation step.
type poisson struct {
	chunks   int     // whole chunks of mean poissonChunk
	expChunk float64 // e^-poissonChunk
	expRest  float64 // e^-(mean - chunks*poissonChunk)
}

// newPoisson returns a poisson of the given mean (>= 0). A sum of Poisson
// counts is a Poisson count of the summed means, so large means are drawn
// in chunks.
func newPoisson(mean float64) poisson {
	chunks := int(mean / poissonChunk)
	return poisson{
		chunks:   chunks,
		expChunk: math.Exp(-poissonChunk),
		expRest:  math.Exp(-(mean - float64(chunks)*poissonChunk)),
	}
}

// draw returns one count. It costs about mean+1 random numbers.
func (p poisson) draw(r *rand.Rand) int {
	n := 0
	for range p.chunks {
		n += knuthPoisson(r, p.expChunk)
	}
	return n + knuthPoisson(r, p.expRest)
}

// knuthPoisson draws a Poisson count by multiplying uniforms until the product
// falls to limit = e^-mean (Knuth, TAOCP vol. 2, 3.4.1).
func knuthPoisson(r *rand.Rand, limit float64) int {
	n := 0
	for prod := r.Float64(); prod > limit; prod *= r.Float64() {
		n++
	}
	return n
}

// topBiased returns an index in [0, n) that favours the top of a book: index
// 0 is drawn about sqrt(1/n) of the time, the last index rarely.
func topBiased(r *rand.Rand, n int) int {
	u := r.Float64()
	return int(u * u * float64(n))
}

// lotsNear returns a count of base increments spread log-normally around
// median (sigma is the std-dev of its logarithm), clamped to [1, maxLots].
func lotsNear(r *rand.Rand, median, sigma float64, maxLots int64) int64 {
	return clampLots(median*math.Exp(sigma*r.NormFloat64()), maxLots)
}

// clampLots rounds v to a count of increments in [1, maxLots].
func clampLots(v float64, maxLots int64) int64 {
	switch {
	case !(v >= 1): // also NaN
		return 1
	case v >= float64(maxLots):
		return maxLots
	}
	return int64(math.Round(v))
}

const hexDigits = "0123456789abcdef"

// orderID returns a random (version 4) UUID string drawn from r, so order ids
// repeat with the seed like everything else.
func orderID(r *rand.Rand) string {
	var b [16]byte
	hi, lo := r.Uint64(), r.Uint64()
	for i := range 8 {
		b[i] = byte(hi >> (56 - 8*i))
		b[8+i] = byte(lo >> (56 - 8*i))
	}
	b[6] = b[6]&0x0f | 0x40 // version 4 (RFC 9562, section 5.4)
	b[8] = b[8]&0x3f | 0x80 // variant 10
	var s [36]byte
	j := 0
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			s[j] = '-'
			j++
		}
		s[j], s[j+1] = hexDigits[c>>4], hexDigits[c&0x0f]
		j += 2
	}
	return string(s[:])
}
