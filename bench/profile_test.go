package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestShippedProfilesLoad(t *testing.T) {
	paths, _ := filepath.Glob("../configs/bench-*.yaml")
	if len(paths) != 5 {
		t.Fatalf("found %v; want the five bench profiles", paths)
	}
	modes := map[string]bool{}
	for _, path := range paths {
		p, err := LoadProfile(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("%s after defaults: %v", path, err)
		}
		modes[p.Mode] = true
	}
	for _, m := range []string{ModeThroughput, ModeIdle, ModeRamp, ModeSlow} {
		if !modes[m] {
			t.Errorf("no shipped profile for mode %s", m)
		}
	}
}

func TestProfileProblemsNameFileLineAndField(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	bad := "mode: sprint\nconections: 5\nchannels: [level2, level2_batch, full]\nramp:\n  min_delivery: 2\nduration: 2h\ndistribution: zipf\nzipf_s: 0.5\n"
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadProfile(path)
	if err == nil {
		t.Fatal("a bad profile loaded")
	}
	for _, want := range []string{
		path + ":1: mode: must be throughput, idle, ramp or slow",
		path + `:2: conections: unknown field "conections"`,
		path + `:3: channels[2]: unknown channel "full"`,
		path + ":3: channels: take one of level2",
		path + ":5: ramp.min_delivery: must be between 0 and 1",
		path + ":6: duration: must be between 0 and 1h0m0s",
		path + ":8: zipf_s: must be above 1",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestProfileDefaults(t *testing.T) {
	p := Profile{Connections: 5000}.WithDefaults()
	if p.Mode != ModeThroughput || p.Ramp.Max != 5000 || p.Duration != 10*time.Second || len(p.Channels) != 3 || p.Readers < 1 {
		t.Fatalf("defaults %+v", p)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := (Profile{Connections: FileLimit()}).Validate(); err == nil || !strings.Contains(err.Error(), "open-file limit") {
		t.Fatalf("connections at the file limit: %v", err)
	}
}

// TestPicker checks the product picks: k distinct, repeatable per seed, and
// skewed towards the first products under Zipf.
func TestPicker(t *testing.T) {
	for _, dist := range []string{DistUniform, DistZipf} {
		pk := newPicker(Profile{PerConnection: 3, Distribution: dist, ZipfS: 1.5, Seed: 7}, 20)
		hits := make([]int, 20)
		for i := range 2000 {
			got := pk.pick(i)
			if len(got) != 3 || got[0] >= got[1] || got[1] >= got[2] {
				t.Fatalf("%s pick %d = %v; want 3 distinct ascending", dist, i, got)
			}
			if again := pk.pick(i); again[0] != got[0] || again[2] != got[2] {
				t.Fatalf("%s pick %d not repeatable: %v then %v", dist, i, got, again)
			}
			for _, p := range got {
				hits[p]++
			}
		}
		first, last := hits[0], hits[19]
		switch dist {
		case DistUniform:
			if first < 200 || first > 400 || last < 200 || last > 400 {
				t.Errorf("uniform: product 0 picked %d times, product 19 %d; want about 300", first, last)
			}
		case DistZipf:
			if first < 5*last {
				t.Errorf("zipf: product 0 picked %d times, product 19 %d; want heavy skew", first, last)
			}
		}
	}
	if got := newPicker(Profile{PerConnection: 5}, 3).pick(0); len(got) != 3 {
		t.Fatalf("k above the product count: %v", got)
	}
}

func TestIsSlowSpreadsTheShare(t *testing.T) {
	n := 0
	for i := range 1000 {
		if isSlow(i, 0.1) {
			n++
		}
	}
	if n != 100 {
		t.Fatalf("%d of 1000 slow at share 0.1", n)
	}
}
