package bench

import (
	"errors"
	"testing"

	"github.com/shopspring/decimal"
)

var canonicalCases = []struct{ in, want string }{
	{"100.50", "100.5"}, {"100.5", "100.5"}, {"0012.3400", "12.34"}, {"0.00000000", "0"}, {"-0.0", "0"},
	{"0", "0"}, {"000", "0"}, {"7", "7"}, {"7.", "7"}, {".5", "0.5"}, {"-1.230", "-1.23"},
	{"0.12345678", "0.12345678"}, {"1e3", "1000"}, {"1.5E-2", "0.015"}, {"+2.50", "2.5"},
	{"123456789012345678901234567890.100", "123456789012345678901234567890.1"},
}

func TestAppendCanonical(t *testing.T) {
	for _, tc := range canonicalCases {
		got, ok := appendCanonical(nil, []byte(tc.in))
		if !ok || string(got) != tc.want {
			t.Errorf("appendCanonical(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
	for _, bad := range []string{"", "-", ".", "1.2.3", "abc", "1,5", " 1", "0x10", "--1", "1e999999999", "1e-100"} {
		if got, ok := appendCanonical(nil, []byte(bad)); ok {
			t.Errorf("appendCanonical(%q) = %q, want not a number", bad, got)
		}
	}
}

// FuzzCanonical checks the in-place rewriting against shopspring/decimal: the
// same number gets the same spelling, and two spellings are equal exactly
// when the numbers are.
func FuzzCanonical(f *testing.F) {
	for _, tc := range canonicalCases {
		f.Add(tc.in, tc.want)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ca, okA := appendCanonical(nil, []byte(a))
		cb, okB := appendCanonical(nil, []byte(b))
		da, errA := parseBounded(a)
		db, errB := parseBounded(b)
		if okA && errA == nil && string(ca) != da.String() {
			t.Fatalf("%q: canonical %q, decimal %q", a, ca, da.String())
		}
		if okA && okB && errA == nil && errB == nil && (string(ca) == string(cb)) != da.Equal(db) {
			t.Fatalf("%q (%q) and %q (%q): spelling equality differs from numeric equality", a, ca, b, cb)
		}
		if _, err := decimal.NewFromString(a); okA && err != nil {
			t.Fatalf("%q accepted as %q, but it is not a decimal", a, ca)
		}
	})
}

// parseBounded is decimal.NewFromString within appendCanonical's exponents.
func parseBounded(s string) (decimal.Decimal, error) {
	d, err := decimal.NewFromString(s)
	if err == nil && (d.Exponent() > maxExponent || d.Exponent() < -maxExponent) {
		err = errors.New("exponent out of range")
	}
	return d, err
}

func TestInternerSharesStrings(t *testing.T) {
	var in interner
	a, _ := in.canonical([]byte("1.50"))
	b, _ := in.canonical([]byte("1.5"))
	if a != "1.5" || b != "1.5" || len(in.m) != 1 {
		t.Fatalf("got %q and %q, %d entries; want one shared \"1.5\"", a, b, len(in.m))
	}
	if n := testing.AllocsPerRun(100, func() { in.canonical([]byte("1.500")) }); n != 0 {
		t.Fatalf("%v allocations for a spelling already interned", n)
	}
}
