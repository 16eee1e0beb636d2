package coinbase

import (
	"errors"
	"testing"
	"time"
)

func TestSign(t *testing.T) {
	// Computed independently: HMAC-SHA256 keyed with base64-decoded
	// "secret-key-bytes" over "1700000000GET/users/self/verify", base64.
	const want = "LTBfSbfC1tvjwVJYfVRytowqY81Fec8WZXblW+pGw+8="
	got, err := Sign("c2VjcmV0LWtleS1ieXRlcw==", "1700000000", "GET", "/users/self/verify", "")
	if err != nil || got != want {
		t.Fatalf("Sign = %q, %v; want %q", got, err, want)
	}
	if _, err := Sign("not base64!", "1", "GET", "/", ""); !errors.Is(err, ErrBadSecret) {
		t.Fatalf("bad secret: %v, want ErrBadSecret", err)
	}
	c := Credentials{Key: "k", Secret: "c2VjcmV0LWtleS1ieXRlcw==", Passphrase: "p"}
	f, err := c.sign(time.Unix(1700000000, 0))
	if err != nil || f.Signature != want || f.Timestamp != "1700000000" || f.Key != "k" || f.Passphrase != "p" {
		t.Fatalf("subscribe fields %+v, %v", f, err)
	}
	if f, _ := (Credentials{}).sign(time.Now()); f != (authFields{}) {
		t.Fatalf("no credentials signed as %+v", f)
	}
}
