package fanout

import (
	"fmt"
	"testing"
)

func TestHistory(t *testing.T) {
	h := newHistory(3)
	for seq := uint64(11); seq <= 15; seq++ {
		h.add(seq, []byte(fmt.Sprint(seq)))
	}
	cases := []struct {
		seen uint64
		want string
		ok   bool
	}{
		{seen: 15, want: "[]", ok: true},         // up to date
		{seen: 14, want: "[15]", ok: true},       // one missed
		{seen: 12, want: "[13 14 15]", ok: true}, // all kept
		{seen: 11, ok: false},                    // 12 fell out of the ring
		{seen: 16, ok: false},                    // from the future: another server's
		{seen: 3, ok: false},
	}
	for _, tc := range cases {
		frames, ok := h.since(tc.seen, 15)
		var got []string
		for _, f := range frames {
			got = append(got, string(f))
		}
		if ok != tc.ok || (ok && fmt.Sprint(got) != tc.want) {
			t.Errorf("since(%d) = %v %v, want %s %v", tc.seen, got, ok, tc.want, tc.ok)
		}
	}
	h.add(20, []byte("20")) // not after 15: the ring restarts
	if _, ok := h.since(14, 20); ok {
		t.Error("resume across a discontinuity")
	}
	if frames, ok := h.since(19, 20); !ok || string(frames[0]) != "20" {
		t.Errorf("after restart: %q %v", frames, ok)
	}
	off := newHistory(0)
	if _, ok := off.since(1, 2); ok {
		t.Error("a disabled history resumed")
	}
}
