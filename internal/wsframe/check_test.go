package wsframe

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

func closePayload(code uint16, reason string) []byte {
	return append([]byte{byte(code >> 8), byte(code)}, reason...)
}

func TestCheckClose(t *testing.T) {
	for _, tc := range []struct {
		name    string
		payload []byte
		code    ws.StatusCode
		reason  string
		err     error
	}{
		{"empty", nil, ws.StatusNoStatusRcvd, "", nil},
		{"one byte", []byte{0x03}, 0, "", ErrProtocol},
		{"normal", closePayload(1000, "bye"), 1000, "bye", nil},
		{"going away", closePayload(1001, ""), 1001, "", nil},
		{"1003", closePayload(1003, ""), 1003, "", nil},
		{"1007", closePayload(1007, ""), 1007, "", nil},
		{"1014 registered", closePayload(1014, ""), 1014, "", nil},
		{"library 3000", closePayload(3000, ""), 3000, "", nil},
		{"application 4999", closePayload(4999, "é"), 4999, "é", nil},
		{"999", closePayload(999, ""), 0, "", ErrProtocol},
		{"0", closePayload(0, ""), 0, "", ErrProtocol},
		{"1004 reserved", closePayload(1004, ""), 0, "", ErrProtocol},
		{"1005 never sent", closePayload(1005, ""), 0, "", ErrProtocol},
		{"1006 never sent", closePayload(1006, ""), 0, "", ErrProtocol},
		{"1015 never sent", closePayload(1015, ""), 0, "", ErrProtocol},
		{"1016 unassigned", closePayload(1016, ""), 0, "", ErrProtocol},
		{"2999 unassigned", closePayload(2999, ""), 0, "", ErrProtocol},
		{"5000", closePayload(5000, ""), 0, "", ErrProtocol},
		{"65535", closePayload(65535, ""), 0, "", ErrProtocol},
		{"reason not utf8", closePayload(1000, "a\xffb"), 0, "", ErrInvalidUTF8},
		{"reason cut rune", closePayload(1000, "\xe2\x82"), 0, "", ErrInvalidUTF8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, reason, err := CheckClose(tc.payload)
			if !errors.Is(err, tc.err) || code != tc.code || reason != tc.reason {
				t.Fatalf("CheckClose(%q) = %d %q %v, want %d %q %v", tc.payload, code, reason, err, tc.code, tc.reason, tc.err)
			}
		})
	}
}

// utf8Cases drive TestUTF8 and FuzzUTF8.
var utf8Cases = []string{
	"", "hello", "héllo €😀", "a\xffb", "\xe2\x82", "\xed\xa0\x80", "\xf4\x90\x80\x80",
	"\xc0\xaf", "😀😀", "ab\xf0\x9f", strings.Repeat("x", 100) + "€",
}

func TestUTF8(t *testing.T) {
	for _, s := range utf8Cases {
		for split := 1; split <= len(s)+1; split++ {
			if got, want := checkInParts(s, split), utf8.ValidString(s); got != want {
				t.Fatalf("%q in parts of %d: valid %v, want %v", s, split, got, want)
			}
		}
	}
}

// checkInParts writes s to a UTF8 in parts of n bytes.
func checkInParts(s string, n int) bool {
	var v UTF8
	ok := true
	for len(s) > 0 {
		k := min(n, len(s))
		ok = v.Write([]byte(s[:k])) && ok
		s = s[k:]
	}
	return ok && v.Complete()
}

func TestUTF8FailsAtTheBreakingFragment(t *testing.T) {
	var v UTF8
	if !v.Write([]byte("ab\xe2")) || !v.Write([]byte("\x82")) {
		t.Fatal("a rune cut across fragments was refused")
	}
	if v.Complete() {
		t.Fatal("an unfinished rune counts as complete")
	}
	if v.Write([]byte("A")) {
		t.Fatal("a rune broken by the next fragment was accepted")
	}
}

func FuzzUTF8(f *testing.F) {
	for _, s := range utf8Cases {
		f.Add(s, uint8(2))
	}
	f.Fuzz(func(t *testing.T, s string, split uint8) {
		n := int(split%8) + 1
		if got, want := checkInParts(s, n), utf8.ValidString(s); got != want {
			t.Fatalf("%q in parts of %d: valid %v, want %v", s, n, got, want)
		}
	})
}

func TestAssemblerChecksText(t *testing.T) {
	for _, tc := range []struct {
		name  string
		parts []Frame
		err   error
	}{
		{"valid split rune", []Frame{{Op: ws.OpText, Payload: []byte("a\xe2\x82")}, {Op: ws.OpContinuation, Fin: true, Payload: []byte("\xac")}}, nil},
		{"invalid single frame", []Frame{{Op: ws.OpText, Fin: true, Payload: []byte("a\xff")}}, ErrInvalidUTF8},
		{"unfinished rune at the end", []Frame{{Op: ws.OpText, Payload: []byte("a")}, {Op: ws.OpContinuation, Fin: true, Payload: []byte("\xe2")}}, ErrInvalidUTF8},
		{"binary is not checked", []Frame{{Op: ws.OpBinary, Fin: true, Payload: []byte{0xff}}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a Assembler
			var err error
			for _, f := range tc.parts {
				if _, _, err = a.Add(f, 100); err != nil {
					break
				}
			}
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
		})
	}
}
