package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/tickerfan/tickerfan/feed"
	"github.com/tickerfan/tickerfan/feed/coinbase"
	"github.com/tickerfan/tickerfan/internal/yamlconf"
	"github.com/tickerfan/tickerfan/model"
)

// recordUsage heads `tickerfan record -h`.
const recordUsage = `Usage: tickerfan record -products IDS -out FILE [flags]

Connects to a Coinbase-protocol feed (the exchange or another tickerfan) and
writes every message with its receive time to FILE, JSON lines (gzip when FILE
ends in .gz, appended to when it exists), until -duration passes or SIGINT.
Reconnects, and resyncs after gaps, as a coinbase feed does. Replay the file
with a feed of kind replay.

Credentials, when the channels need them, come from the environment:
TICKERFAN_API_KEY, TICKERFAN_API_SECRET, TICKERFAN_API_PASSPHRASE.

Flags:
`

// runRecord is the record subcommand; it returns the exit code.
func runRecord(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("tickerfan record", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", coinbase.DefaultURL, "upstream WebSocket URL, ws:// or wss://")
	products := fs.String("products", "", "comma-separated upstream product ids, e.g. BTC-USD,ETH-USD (required)")
	channels := fs.String("channels", strings.Join(coinbase.DefaultChannels, ","), "comma-separated channels: level2 or level2_batch, ticker, matches, heartbeat")
	out := fs.String("out", "", "file to write; .gz compresses (required)")
	duration := fs.Duration("duration", 0, "stop after this long; 0 records until SIGINT or SIGTERM")
	progress := fs.Duration("progress", time.Second, "interval of the progress line on stderr; 0 turns it off")
	logLevel := fs.String("log-level", "warn", "debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), recordUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *products == "" || *out == "" {
		fmt.Fprintln(stderr, "tickerfan record: -products and -out are required")
		return 2
	}
	cfg := coinbase.Config{
		URL: *url, Channels: splitList(*channels), Record: *out,
		Credentials: coinbase.Credentials{
			Key: os.Getenv("TICKERFAN_API_KEY"), Secret: os.Getenv("TICKERFAN_API_SECRET"),
			Passphrase: os.Getenv("TICKERFAN_API_PASSPHRASE"),
		},
	}
	var catalog []model.Product
	for _, id := range splitList(*products) {
		catalog = append(catalog, model.Product{ID: id}.WithDefaults())
	}
	log, err := newLogger(logConfig{Level: *logLevel}, os.Stderr)
	if err != nil {
		fmt.Fprintln(stderr, "tickerfan record:", err)
		return 2
	}
	defer log.Sync()
	src, err := coinbase.New("record", cfg, catalog, log)
	if err != nil {
		for _, e := range yamlconf.Flatten(err) {
			fmt.Fprintln(stderr, "tickerfan record:", e)
		}
		return 2
	}
	return record(src, *duration, *progress, stderr, log)
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// record runs src until d passes (0: no limit) or a signal, printing a
// progress line every interval, and a summary at the end.
func record(src *coinbase.Feed, d, interval time.Duration, stderr io.Writer, log *zap.Logger) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, func(model.Update) {}) }()
	start := time.Now()
	p := progressLine{w: stderr, tty: isTerminal(stderr)}
	var tick <-chan time.Time
	if interval > 0 {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-tick:
			p.print(src.Status(), time.Since(start))
		case err := <-done:
			st := src.Status()
			p.end(st, time.Since(start))
			if err != nil {
				log.Error("recording failed", zap.Error(err))
				return 1
			}
			if st.Messages == 0 {
				fmt.Fprintf(stderr, "tickerfan record: recorded nothing from %s%s\n", st.Source, lastError(st))
				return 1
			}
			return 0
		}
	}
}

// progressLine writes "recording: N messages, X MiB, R msg/s, state": in
// place on a terminal, a line each time otherwise.
type progressLine struct {
	w   io.Writer
	tty bool
}

func (p progressLine) format(st feed.Status, took time.Duration) string {
	return fmt.Sprintf("recording %s: %d messages, %.2f MiB, %.0f msg/s, %s, %d reconnects, %s",
		st.Source, st.Messages, float64(st.Bytes)/(1<<20), st.Rate, st.State, st.Reconnects, took.Round(time.Second))
}

func (p progressLine) print(st feed.Status, took time.Duration) {
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", p.format(st, took))
		return
	}
	fmt.Fprintln(p.w, p.format(st, took))
}

func (p progressLine) end(st feed.Status, took time.Duration) {
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintln(p.w, p.format(st, took))
}

// lastError is ": last error: ..." when the feed saw one, else "".
func lastError(st feed.Status) string {
	if st.LastError == "" {
		return ""
	}
	return "; last error: " + st.LastError
}
