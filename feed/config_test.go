package feed

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want []string // each must appear; none means valid
	}{
		{"simulator default", Config{}, nil},
		{"coinbase default", Config{Kind: KindCoinbase}, nil},
		{"coinbase full", Config{Kind: KindCoinbase, Products: []string{"BTC-USD"}, Coinbase: CoinbaseConfig{
			URL: "ws://127.0.0.1:8080/", Channels: []string{"level2", "ticker", "matches", "heartbeat"},
			UpstreamIDs: map[string]string{"BTC-USD": "XBT-USD"}, StaleTimeout: 5 * time.Second,
			Credentials: Credentials{Key: "k", Secret: "c2VjcmV0", Passphrase: "p"}, Record: "day.jsonl.gz",
		}}, nil},
		{"replay", Config{Kind: KindReplay, Replay: ReplayConfig{Path: "x.jsonl", Speed: 2, Loop: true}}, nil},
		{"bad url", Config{Kind: KindCoinbase, Coinbase: CoinbaseConfig{URL: "https://example.com"}},
			[]string{"coinbase.url: must be ws:// or wss://"}},
		{"bad channels", Config{Kind: KindCoinbase, Coinbase: CoinbaseConfig{Channels: []string{"full", "level2", "level2_batch", "level2"}}},
			[]string{`coinbase.channels[0]: unknown channel "full"`, "coinbase.channels[3]: level2 is listed twice",
				"coinbase.channels: subscribe level2 or level2_batch, not both"}},
		{"partial credentials", Config{Kind: KindCoinbase, Coinbase: CoinbaseConfig{Credentials: Credentials{Key: "k", Secret: "%%%"}}},
			[]string{"coinbase.credentials.passphrase: is required", "coinbase.credentials.secret: must be base64"}},
		{"timeouts", Config{Kind: KindCoinbase, Coinbase: CoinbaseConfig{StaleTimeout: time.Millisecond, BackoffMin: time.Minute, BackoffMax: time.Second, MaxMessageBytes: 10}},
			[]string{"coinbase.stale_timeout: must be between", "coinbase.backoff_max: must be >= backoff_min", "coinbase.max_message_bytes: must be at least 1024"}},
		{"upstream id of another feed", Config{Kind: KindCoinbase, Products: []string{"ETH-USD"}, Coinbase: CoinbaseConfig{UpstreamIDs: map[string]string{"BTC-USD": "XBT-USD"}}},
			[]string{"coinbase.upstream_ids: BTC-USD is not one of the feed's products"}},
		{"replay without path", Config{Kind: KindReplay, Replay: ReplayConfig{Speed: -1}},
			[]string{"replay.path: is required", "replay.speed: must be between 0"}},
		{"settings of another kind", Config{Coinbase: CoinbaseConfig{URL: "ws://x/"}},
			[]string{"coinbase: is set, but the feed's kind is simulator"}},
		{"unknown kind", Config{Kind: "carrier-pigeon"}, []string{`kind: unknown feed kind "carrier-pigeon"; use one of: simulator, coinbase, replay`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("valid config rejected: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestNewChecksProducts(t *testing.T) {
	ps := DefaultProducts()[:2]
	if _, err := New(Config{Kind: KindCoinbase, Name: "cb"}, ps, nil); err != nil {
		t.Fatalf("coinbase: %v", err)
	}
	if _, err := New(Config{Kind: KindCoinbase, Coinbase: CoinbaseConfig{UpstreamIDs: map[string]string{"ETH-USD": "BTC-USD"}}}, ps, nil); err == nil {
		t.Fatal("two products on one upstream id accepted")
	}
	if _, err := New(Config{Kind: KindReplay, Replay: ReplayConfig{Path: "testdata/none.jsonl"}}, ps, nil); err == nil || !strings.Contains(err.Error(), "none.jsonl") {
		t.Fatalf("missing recording: %v", err)
	}
}
