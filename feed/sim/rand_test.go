package sim

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestPoissonMean(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, mean := range []float64{0, 0.02, 0.4, 3, 16, 40.5} {
		p := newPoisson(mean)
		const n = 20000
		sum, sumSq := 0.0, 0.0
		for range n {
			k := float64(p.draw(r))
			sum += k
			sumSq += k * k
		}
		got := sum / n
		variance := sumSq/n - got*got
		// Poisson: the variance equals the mean; 5 standard errors of slack.
		if math.Abs(got-mean) > 5*math.Sqrt(mean/n)+1e-9 || math.Abs(variance-mean) > 0.1*mean+1e-9 {
			t.Errorf("mean %g: drew mean %.4f, variance %.4f", mean, got, variance)
		}
	}
}

func TestOrderID(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	seen := map[string]bool{}
	for range 1000 {
		id := orderID(r)
		if !uuidPattern.MatchString(id) || seen[id] {
			t.Fatalf("orderID %q: not a fresh v4 UUID", id)
		}
		seen[id] = true
	}
	a, b := orderID(rand.New(rand.NewPCG(5, 6))), orderID(rand.New(rand.NewPCG(5, 6)))
	if a != b {
		t.Errorf("same seed, ids %s and %s", a, b)
	}
}

func TestClampLots(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want int64
	}{{math.NaN(), 1}, {-5, 1}, {0.4, 1}, {1.5, 2}, {41.49, 41}, {1e30, 1000}, {math.Inf(1), 1000}} {
		if got := clampLots(tc.v, 1000); got != tc.want {
			t.Errorf("clampLots(%g) = %d, want %d", tc.v, got, tc.want)
		}
	}
}

func TestTopBiased(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const n, draws = 50, 100000
	var counts [n]int
	for range draws {
		counts[topBiased(r, n)]++
	}
	// P(index 0) = sqrt(1/n) ~ 0.141; the top decile outweighs the bottom one.
	if p0 := float64(counts[0]) / draws; math.Abs(p0-math.Sqrt(1.0/n)) > 0.01 {
		t.Errorf("index 0 drawn %.3f of the time, want %.3f", p0, math.Sqrt(1.0/n))
	}
	top, bottom := 0, 0
	for i := range 5 {
		top += counts[i]
		bottom += counts[n-1-i]
	}
	if top < 4*bottom {
		t.Errorf("top five %d, bottom five %d: not biased to the top", top, bottom)
	}
}
