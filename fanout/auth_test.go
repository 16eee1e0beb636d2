package fanout

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func sign(secret, ts string) string {
	key, _ := base64.StdEncoding.DecodeString(secret)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(ts + "GET/users/self/verify"))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func TestAuthVerify(t *testing.T) {
	secret := base64.StdEncoding.EncodeToString([]byte("s3cret-bytes"))
	au := newAuthenticator(AuthConfig{Keys: []APIKey{{Key: "k1", Secret: secret, Passphrase: "pp"}}, Required: true})
	now := time.Unix(1700000000, 0)
	au.now = func() time.Time { return now }
	cases := []struct {
		name   string
		f      signedFields
		reason string
	}{
		{name: "valid, numeric timestamp", f: signedFields{key: "k1", passphrase: "pp", timestamp: json.RawMessage(`1700000000.5`), signature: sign(secret, "1700000000.5")}},
		{name: "valid, string timestamp", f: signedFields{key: "k1", passphrase: "pp", timestamp: json.RawMessage(`"1700000001"`), signature: sign(secret, "1700000001")}},
		{name: "unsigned but required", f: signedFields{}, reason: "authentication required"},
		{name: "bad signature", f: signedFields{key: "k1", passphrase: "pp", timestamp: json.RawMessage(`1700000000`), signature: sign(secret, "1700000001")}, reason: "authentication failed: invalid signature"},
		{name: "wrong passphrase", f: signedFields{key: "k1", passphrase: "nope", timestamp: json.RawMessage(`1700000000`), signature: sign(secret, "1700000000")}, reason: "authentication failed: unknown key"},
		{name: "stale timestamp", f: signedFields{key: "k1", passphrase: "pp", timestamp: json.RawMessage(`1699999000`), signature: sign(secret, "1699999000")}, reason: "authentication failed: timestamp too far"},
		{name: "garbage timestamp", f: signedFields{key: "k1", passphrase: "pp", timestamp: json.RawMessage(`"soon"`), signature: "x"}, reason: "authentication failed: timestamp must be"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := au.verify(tc.f)
			if (tc.reason == "") != (got == "") || !strings.HasPrefix(got, tc.reason) {
				t.Fatalf("verify = %q, want prefix %q", got, tc.reason)
			}
		})
	}
}

func TestAuthOverTheWire(t *testing.T) {
	secret := base64.StdEncoding.EncodeToString([]byte("wire-secret"))
	ts := startServer(t, Config{Auth: AuthConfig{Keys: []APIKey{{Key: "k", Secret: secret, Passphrase: "p"}}, Required: true}}, simOpts{updates: 10, trades: 1})
	c := dial(t, ts.addr)
	c.send(`{"type":"subscribe","product_ids":["BTC-USD"],"channels":["heartbeat"]}`)
	if m := c.next(2 * time.Second); m["type"] != "error" || !strings.HasPrefix(m["reason"].(string), "authentication required") {
		t.Fatalf("unsigned subscribe got %v", m)
	}
	stamp := time.Now().Unix()
	tsText := itoa(stamp)
	c.send(`{"type":"subscribe","product_ids":["BTC-USD"],"channels":["heartbeat"],"key":"k","passphrase":"p","timestamp":"` +
		tsText + `","signature":"` + sign(secret, tsText) + `"}`)
	if m := c.next(2 * time.Second); m["type"] != "subscriptions" {
		t.Fatalf("signed subscribe got %v", m)
	}
}

func itoa(v int64) string { b, _ := json.Marshal(v); return string(b) }
