package main

import (
	"strings"
	"testing"
	"time"

	"github.com/tickerfan/tickerfan/feed/coinbase"
	"github.com/tickerfan/tickerfan/model"
)

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  feedConfig
		want []string // each must appear; none means valid
	}{
		{"simulator default", feedConfig{}, nil},
		{"coinbase default", feedConfig{Kind: kindCoinbase}, nil},
		{"coinbase full", feedConfig{Kind: kindCoinbase, Products: []string{"BTC-USD"}, Coinbase: coinbase.Config{
			URL: "ws://127.0.0.1:8080/", Channels: []string{"level2", "ticker", "matches", "heartbeat"},
			UpstreamIDs: map[string]string{"BTC-USD": "XBT-USD"}, StaleTimeout: 5 * time.Second,
			Credentials: coinbase.Credentials{Key: "k", Secret: "c2VjcmV0", Passphrase: "p"}, Record: "day.jsonl.gz",
		}}, nil},
		{"replay", feedConfig{Kind: kindReplay, Replay: coinbase.ReplayConfig{Path: "x.jsonl", Speed: 2, Loop: true}}, nil},
		{"bad url", feedConfig{Kind: kindCoinbase, Coinbase: coinbase.Config{URL: "https://example.com"}},
			[]string{"coinbase.url: must be ws:// or wss://"}},
		{"bad channels", feedConfig{Kind: kindCoinbase, Coinbase: coinbase.Config{Channels: []string{"full", "level2", "level2_batch", "level2"}}},
			[]string{`coinbase.channels[0]: unknown channel "full"`, "coinbase.channels[3]: level2 is listed twice",
				"coinbase.channels: subscribe level2 or level2_batch, not both"}},
		{"partial credentials", feedConfig{Kind: kindCoinbase, Coinbase: coinbase.Config{Credentials: coinbase.Credentials{Key: "k", Secret: "%%%"}}},
			[]string{"coinbase.credentials.passphrase: is required", "coinbase.credentials.secret: must be base64"}},
		{"timeouts", feedConfig{Kind: kindCoinbase, Coinbase: coinbase.Config{StaleTimeout: time.Millisecond, BackoffMin: time.Minute, BackoffMax: time.Second, MaxMessageBytes: 10}},
			[]string{"coinbase.stale_timeout: must be between", "coinbase.backoff_max: must be >= backoff_min", "coinbase.max_message_bytes: must be at least 1024"}},
		{"upstream id of another feed", feedConfig{Kind: kindCoinbase, Products: []string{"ETH-USD"}, Coinbase: coinbase.Config{UpstreamIDs: map[string]string{"BTC-USD": "XBT-USD"}}},
			[]string{"coinbase.upstream_ids: BTC-USD is not one of the feed's products"}},
		{"replay without path", feedConfig{Kind: kindReplay, Replay: coinbase.ReplayConfig{Speed: -1}},
			[]string{"replay.path: is required", "replay.speed: must be between 0"}},
		{"settings of another kind", feedConfig{Coinbase: coinbase.Config{URL: "ws://x/"}},
			[]string{"coinbase: is set, but the feed's kind is simulator"}},
		{"unknown kind", feedConfig{Kind: "carrier-pigeon"}, []string{`kind: unknown feed kind "carrier-pigeon"; use one of: simulator, coinbase, replay`}},
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
	ps := model.DefaultProducts()[:2]
	if _, err := newSource(feedConfig{Kind: kindCoinbase, Name: "cb"}, ps, nil); err != nil {
		t.Fatalf("coinbase: %v", err)
	}
	if _, err := newSource(feedConfig{Kind: kindCoinbase, Coinbase: coinbase.Config{UpstreamIDs: map[string]string{"ETH-USD": "BTC-USD"}}}, ps, nil); err == nil {
		t.Fatal("two products on one upstream id accepted")
	}
	if _, err := newSource(feedConfig{Kind: kindReplay, Replay: coinbase.ReplayConfig{Path: "testdata/none.jsonl"}}, ps, nil); err == nil || !strings.Contains(err.Error(), "none.jsonl") {
		t.Fatalf("missing recording: %v", err)
	}
}
