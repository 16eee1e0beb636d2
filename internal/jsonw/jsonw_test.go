package jsonw

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// stringCases drive TestAppendString and BenchmarkAppendString.
var stringCases = []struct {
	name, in, want string
}{
	{"empty", "", `""`},
	{"product id", "BTC-USD", `"BTC-USD"`},
	{"bell", "A\aB", `"A\u0007B"`},
	{"nul", "\x00", `"\u0000"`},
	{"unit separator", "\x1f", `"\u001f"`},
	{"named escapes", "\"\\\n\r\t", `"\"\\\n\r\t"`},
	{"backspace formfeed", "\b\f", `"\u0008\u000c"`},
	{"del", "\x7f", "\"\x7f\""},
	{"html kept", "<a&b>", `"<a&b>"`},
	{"utf8 kept", "héllo €😀", `"héllo €😀"`},
	{"invalid byte", "a\xffb", `"a\ufffdb"`},
	{"truncated rune", "\xe2\x82", `"\ufffd\ufffd"`},
	{"surrogate half", "\xed\xa0\x80", `"\ufffd\ufffd\ufffd"`},
	{"line separators", "a\u2028b\u2029c", `"a\u2028b\u2029c"`},
	{"long order id", "3b0f1e2a-6e7c-4c3d-9f8a-1b2c3d4e5f60", `"3b0f1e2a-6e7c-4c3d-9f8a-1b2c3d4e5f60"`},
}

func TestAppendString(t *testing.T) {
	for _, tc := range stringCases {
		t.Run(tc.name, func(t *testing.T) {
			got := string(AppendString([]byte("x"), tc.in))
			if got != "x"+tc.want {
				t.Fatalf("AppendString(%+q) = %s, want x%s", tc.in, got, tc.want)
			}
			checkOracle(t, tc.in, []byte(got[1:]))
		})
	}
}

// checkOracle decodes out and compares it with what encoding/json makes of s
// on a Marshal/Unmarshal round trip.
func checkOracle(t *testing.T, s string, out []byte) {
	t.Helper()
	var got string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("output for %+q is not JSON: %v: %s", s, err, out)
	}
	m, err := json.Marshal(s)
	if err != nil {
		t.Fatalf("json.Marshal(%+q): %v", s, err)
	}
	var want string
	if err := json.Unmarshal(m, &want); err != nil {
		t.Fatalf("oracle round trip of %+q: %v", s, err)
	}
	if got != want {
		t.Fatalf("%+q decodes to %+q, encoding/json gives %+q", s, got, want)
	}
	if !utf8.Valid(out) {
		t.Fatalf("output for %+q is not valid UTF-8: %q", s, out)
	}
}

func TestAppendStringNoAlloc(t *testing.T) {
	buf := make([]byte, 0, 256)
	in := "A\aB \xff \u2028 \"quoted\" BTC-USD"
	if n := testing.AllocsPerRun(100, func() { buf = AppendString(buf[:0], in) }); n != 0 {
		t.Fatalf("AppendString with room allocates %v times, want 0", n)
	}
}

func FuzzAppendString(f *testing.F) {
	for _, tc := range stringCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkOracle(t, s, AppendString(nil, s))
	})
}

func BenchmarkAppendString(b *testing.B) {
	for _, tc := range stringCases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 4*len(tc.in)+8)
			for b.Loop() {
				buf = AppendString(buf[:0], tc.in)
			}
		})
	}
}

func TestClip(t *testing.T) {
	long := strings.Repeat("x", 100)
	for _, tc := range []struct {
		name, in string
		max      int
		want     string
	}{
		{"fits", "BTC-USD", 64, "BTC-USD"},
		{"exact", long[:64], 64, long[:64]},
		{"cut", long, 64, long[:64] + Ellipsis},
		{"rune boundary", "ab€", 3, "ab" + Ellipsis},
		{"invalid utf8 still cut", strings.Repeat("\xff", 10), 4, "\xff\xff\xff\xff" + Ellipsis},
		{"zero", "abc", 0, Ellipsis},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Clip(tc.in, tc.max)
			if got != tc.want {
				t.Fatalf("Clip(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
			}
			if len(got) > tc.max+len(Ellipsis) {
				t.Fatalf("Clip(%q, %d) is %d bytes, over %d", tc.in, tc.max, len(got), tc.max+len(Ellipsis))
			}
		})
	}
}
