package bench

import (
	"math/rand/v2"
	"sort"
)

// picker chooses each connection's products, repeatably for a seed.
type picker struct {
	k, n int
	zipf bool
	s    float64
	seed uint64
}

func newPicker(p Profile, n int) *picker {
	return &picker{k: min(p.PerConnection, n), n: n, zipf: p.Distribution == DistZipf, s: p.ZipfS, seed: p.Seed}
}

// pick returns connection i's k distinct product indices, ascending.
// Uniform picks use Floyd's sampling; Zipf picks draw product ranks from
// Zipf(s) (rank 0 the most popular) until k are distinct, then fill up with
// the most popular not yet taken, so a pick always ends.
func (p *picker) pick(i int) []int32 {
	rng := rand.New(rand.NewPCG(p.seed, uint64(i)))
	chosen := make(map[int]bool, p.k)
	if p.zipf {
		z := rand.NewZipf(rng, p.s, 1, uint64(p.n-1))
		for tries := 0; len(chosen) < p.k && tries < 64*p.k; tries++ {
			chosen[int(z.Uint64())] = true
		}
		for r := 0; len(chosen) < p.k; r++ {
			chosen[r] = true
		}
	} else {
		for j := p.n - p.k; j < p.n; j++ {
			t := rng.IntN(j + 1)
			if chosen[t] {
				t = j
			}
			chosen[t] = true
		}
	}
	out := make([]int32, 0, p.k)
	for idx := range chosen {
		out = append(out, int32(idx))
	}
	sort.Slice(out, func(a, b int) bool { return out[a] < out[b] })
	return out
}
