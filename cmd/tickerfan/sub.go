package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/tickerfan/tickerfan/client"
)

// subUsage heads `tickerfan sub -h`.
const subUsage = `Usage: tickerfan sub [-url URL] -products IDS [-channels CHANNELS] [flags]

Subscribes to a Coinbase-protocol feed (tickerfan, or the exchange) with the
Go client package and prints every message as one JSON object per line on
stdout, as received (pipe it to jq, grep or a file). Connection events go to
stderr. It reconnects by itself and keeps exact level-2 books (verified by the
sequence extension, and with -checksum by the checksum extension). When stdout
is a terminal it shows a live top of book instead (-format top); -format json
forces JSON lines.

  tickerfan sub -url ws://127.0.0.1:8080/ -products BTC-USD,ETH-USD -channels ticker,level2

Flags:
`

// subOptions are the sub command's flags.
type subOptions struct {
	url, products, channels, format string
	checksum                        bool
	count                           int
	duration                        time.Duration
}

// runSub is the sub subcommand; it returns the exit code.
func runSub(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tickerfan sub", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o subOptions
	fs.StringVar(&o.url, "url", "ws://127.0.0.1:8080/", "feed URL, ws://HOST:PORT/ or wss://HOST/")
	fs.StringVar(&o.products, "products", "", "comma-separated product ids, e.g. BTC-USD,ETH-USD (required unless -channels is status)")
	fs.StringVar(&o.channels, "channels", "ticker", "comma-separated channels: level2 (or level2_batch), ticker, ticker_batch, matches, heartbeat, status")
	fs.StringVar(&o.format, "format", "auto", "json (one message per line), top (live top of book), or auto: top when stdout is a terminal")
	fs.BoolVar(&o.checksum, "checksum", false, "ask for the checksum extension and verify every book update against it")
	fs.IntVar(&o.count, "count", 0, "exit after printing this many messages; 0: no limit")
	fs.DurationVar(&o.duration, "duration", 0, "exit after this long; 0: until SIGINT or SIGTERM")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), subUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := o.validate(fs.Args()); err != nil {
		fmt.Fprintf(stderr, "tickerfan sub: %v\n\n", err)
		fs.Usage()
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	top := o.format == "top" || (o.format == "auto" && isTerminal(stdout))
	return subscribeAndPrint(ctx, o, top, stdout, stderr)
}

func (o subOptions) validate(rest []string) error {
	if len(rest) > 0 {
		return fmt.Errorf("unexpected argument %q", rest[0])
	}
	if !slices.Contains([]string{"auto", "json", "top"}, o.format) {
		return fmt.Errorf("-format: must be auto, json or top (got %q)", o.format)
	}
	if o.count < 0 || o.duration < 0 {
		return fmt.Errorf("-count and -duration must be >= 0")
	}
	channels := splitList(o.channels)
	if len(channels) == 0 {
		return fmt.Errorf("-channels: name at least one channel")
	}
	if len(splitList(o.products)) == 0 && !slices.Equal(channels, []string{"status"}) {
		return fmt.Errorf("-products is required (e.g. -products BTC-USD,ETH-USD)")
	}
	return client.Config{URL: o.url}.Validate()
}

// subscribeAndPrint connects, subscribes and prints until ctx ends, -count
// messages were printed, or the server refuses the subscription.
func subscribeAndPrint(ctx context.Context, o subOptions, top bool, stdout, stderr io.Writer) int {
	c, err := client.Dial(ctx, client.Config{URL: o.url, Checksum: o.checksum})
	if err != nil {
		fmt.Fprintln(stderr, "tickerfan sub:", err)
		return 1
	}
	defer c.Close()
	products, channels := splitList(o.products), splitList(o.channels)
	refused := make(chan error, 1)
	go func() { refused <- c.Subscribe(ctx, products, channels...) }()
	var out printer = &jsonPrinter{w: stdout}
	if top {
		out = newTopPrinter(stdout, c, products)
	}
	printed := 0
	for {
		select {
		case err := <-refused:
			if err != nil && ctx.Err() == nil {
				fmt.Fprintln(stderr, "tickerfan sub:", err)
				return 1
			}
			refused = nil
		case m := <-c.Messages():
			if !report(m, stderr) {
				continue
			}
			if err := out.print(m); err != nil {
				return 0 // stdout closed (| head): done
			}
			if printed++; o.count > 0 && printed >= o.count {
				return 0
			}
		case <-ctx.Done():
			out.end()
			return 0
		}
	}
}

// report writes the client's own events to stderr; it returns true for a
// server message, to be printed.
func report(m client.Message, stderr io.Writer) bool {
	switch m := m.(type) {
	case *client.Connected:
		if m.Reconnect {
			fmt.Fprintf(stderr, "tickerfan sub: reconnected to %s\n", m.URL)
		}
		return false
	case *client.Disconnected:
		if m.Delay > 0 {
			fmt.Fprintf(stderr, "tickerfan sub: disconnected (%v); retrying in %s\n", m.Err, m.Delay.Round(time.Millisecond))
		}
		return false
	}
	return true
}

// printer shows messages.
type printer interface {
	print(m client.Message) error
	end()
}

// jsonPrinter writes each message as received, one per line.
type jsonPrinter struct{ w io.Writer }

func (p *jsonPrinter) print(m client.Message) error {
	_, err := fmt.Fprintf(p.w, "%s\n", m.Raw())
	return err
}

func (p *jsonPrinter) end() {}
