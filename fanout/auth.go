package fanout

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/tickerfan/tickerfan/internal/yamlconf"
)

// AuthConfig turns on verification of the signed subscribe fields (key,
// passphrase, signature, timestamp), signed as the anchor signs them: base64
// of HMAC-SHA256, keyed with the base64-decoded secret, over timestamp + "GET"
// + "/users/self/verify". With no keys, the fields are accepted and ignored.
type AuthConfig struct {
	// Keys are the accepted API keys. Default none: authentication off.
	Keys []APIKey `yaml:"keys"`
	// Required makes every subscribe carry a valid signature; otherwise only
	// a subscribe that carries one has it checked. Default false.
	Required bool `yaml:"required"`
	// MaxSkew is how far the timestamp may be from the server's clock.
	// Default 30s, as the anchor allows.
	MaxSkew time.Duration `yaml:"max_skew"`
}

// APIKey is one accepted key with its base64 secret and passphrase.
type APIKey struct {
	Key        string `yaml:"key"`
	Secret     string `yaml:"secret"`
	Passphrase string `yaml:"passphrase"`
}

// Validate checks that every secret is base64 and every key is named once.
func (a AuthConfig) Validate() error {
	var errs []error
	seen := map[string]bool{}
	for i, k := range a.Keys {
		field := fmt.Sprintf("keys[%d]", i)
		if k.Key == "" || seen[k.Key] {
			errs = append(errs, yamlconf.Errorf(field+".key", "must be non-empty and unique (got %q)", k.Key))
		}
		seen[k.Key] = true
		if _, err := base64.StdEncoding.DecodeString(k.Secret); err != nil || k.Secret == "" {
			errs = append(errs, yamlconf.Errorf(field+".secret", "must be the base64 secret of the key"))
		}
	}
	if a.Required && len(a.Keys) == 0 {
		errs = append(errs, yamlconf.Errorf("required", "needs at least one entry in keys"))
	}
	if a.MaxSkew < 0 {
		errs = append(errs, yamlconf.Errorf("max_skew", "must be a positive duration (got %s)", a.MaxSkew))
	}
	return errors.Join(errs...)
}

// authenticator verifies signed subscribes against the configured keys.
type authenticator struct {
	keys     map[string]APIKey
	secrets  map[string][]byte
	required bool
	skew     time.Duration
	now      func() time.Time
}

func newAuthenticator(a AuthConfig) *authenticator {
	if len(a.Keys) == 0 {
		return nil
	}
	au := &authenticator{keys: map[string]APIKey{}, secrets: map[string][]byte{}, required: a.Required, skew: a.MaxSkew, now: time.Now}
	if au.skew == 0 {
		au.skew = 30 * time.Second
	}
	for _, k := range a.Keys {
		au.keys[k.Key] = k
		au.secrets[k.Key], _ = base64.StdEncoding.DecodeString(k.Secret) // Validate rejected a bad one
	}
	return au
}

// signedFields are the authentication fields of a client message.
type signedFields struct {
	key, passphrase, signature string
	timestamp                  json.RawMessage
}

// verify returns the reason a subscribe is refused, or "" when it may go on.
func (au *authenticator) verify(f signedFields) string {
	if f.signature == "" && f.key == "" {
		if au.required {
			return "authentication required: sign the subscribe with key, passphrase, timestamp and signature"
		}
		return ""
	}
	k, ok := au.keys[f.key]
	if !ok || !hmac.Equal([]byte(k.Passphrase), []byte(f.passphrase)) {
		return "authentication failed: unknown key or wrong passphrase"
	}
	ts, secs, ok := timestampText(f.timestamp)
	if !ok {
		return "authentication failed: timestamp must be seconds since the epoch"
	}
	if d := au.now().Sub(time.Unix(0, int64(secs*1e9))); math.Abs(float64(d)) > float64(au.skew) {
		return "authentication failed: timestamp too far from the server's time"
	}
	mac := hmac.New(sha256.New, au.secrets[f.key])
	mac.Write([]byte(ts + "GET/users/self/verify"))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(f.signature)) {
		return "authentication failed: invalid signature"
	}
	return ""
}

// timestampText returns the timestamp as the client wrote it (a JSON number
// or string) and its value in seconds.
func timestampText(raw json.RawMessage) (string, float64, bool) {
	raw = bytes.TrimSpace(raw)
	text := string(raw)
	if len(raw) > 0 && raw[0] == '"' {
		if err := json.Unmarshal(raw, &text); err != nil {
			return "", 0, false
		}
	}
	secs, err := strconv.ParseFloat(text, 64)
	if err != nil || secs <= 0 {
		return "", 0, false
	}
	return text, secs, true
}
