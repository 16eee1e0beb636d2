package coinbase

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"time"

	"github.com/tickerfan/tickerfan/internal/yamlconf"
)

// Credentials authenticate a subscription to a Coinbase Exchange feed, which
// some channels (level2, full) require. All three are given or none.
type Credentials struct {
	// Key is the API key.
	Key string `yaml:"key"`
	// Secret is the API secret, base64 as the exchange issues it.
	Secret string `yaml:"secret"`
	// Passphrase is the API passphrase.
	Passphrase string `yaml:"passphrase"`
}

// The request Coinbase Exchange has a WebSocket subscription sign, in place
// of a REST request (docs.cdp.coinbase.com, Exchange WebSocket authentication).
const (
	authMethod = "GET"
	authPath   = "/users/self/verify"
)

// IsZero reports whether no credentials are configured.
func (c Credentials) IsZero() bool { return c.Key == "" && c.Secret == "" && c.Passphrase == "" }

// Validate checks that all three fields are given, or none, and that the
// secret is base64.
func (c Credentials) Validate() error {
	if c.IsZero() {
		return nil
	}
	var errs []error
	for _, f := range []struct{ name, v string }{{"key", c.Key}, {"secret", c.Secret}, {"passphrase", c.Passphrase}} {
		if f.v == "" {
			errs = append(errs, yamlconf.Errorf(f.name, "is required when any credential is set"))
		}
	}
	if c.Secret != "" {
		if _, err := base64.StdEncoding.DecodeString(c.Secret); err != nil {
			errs = append(errs, yamlconf.Errorf("secret", "must be base64, as the exchange issues it (%v)", err))
		}
	}
	return errors.Join(errs...)
}

// Sign returns the signature of an authenticated request: the base64 of
// HMAC-SHA256, keyed with the base64-decoded secret, over timestamp + method
// + path + body. It fails only when secret is not base64.
func Sign(secret, timestamp, method, path, body string) (string, error) {
	key, err := base64.StdEncoding.DecodeString(secret)
	if err != nil {
		return "", ErrBadSecret
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(timestamp + method + path + body))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// authFields are the fields an authenticated subscribe message carries.
type authFields struct {
	Key        string `json:"key,omitempty"`
	Passphrase string `json:"passphrase,omitempty"`
	Signature  string `json:"signature,omitempty"`
	Timestamp  string `json:"timestamp,omitempty"`
}

// sign returns the fields for a subscribe sent at now; empty without
// credentials.
func (c Credentials) sign(now time.Time) (authFields, error) {
	if c.IsZero() {
		return authFields{}, nil
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	sig, err := Sign(c.Secret, ts, authMethod, authPath, "")
	if err != nil {
		return authFields{}, err
	}
	return authFields{Key: c.Key, Passphrase: c.Passphrase, Signature: sig, Timestamp: ts}, nil
}
