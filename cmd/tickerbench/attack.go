package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"strings"
	"syscall"

	"github.com/tickerfan/tickerfan/bench/attack"
)

// runAttack is `tickerbench attack`: issue 9's attacks against a running
// server, each with a canary and a probe, and a held/degraded/failed table.
func runAttack(args []string, stdout, stderr io.Writer) int {
	var cfg attack.Config
	fs := flag.NewFlagSet("tickerbench attack", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Target, "target", "ws://127.0.0.1:9100/", "the server's WebSocket `URL`, on loopback")
	fs.IntVar(&cfg.ServerPID, "server-pid", 0, "the server's `pid`, to read its RSS (0: not reported)")
	fs.DurationVar(&cfg.Duration, "duration", 0, "how long each attack runs (default 10s)")
	fs.IntVar(&cfg.Conns, "conns", 0, "connections per attack (default 1000)")
	fs.DurationVar(&cfg.Trickle, "trickle", 0, "pause between the bytes of the slow attacks (default 1s)")
	fs.StringVar(&cfg.Product, "product", "", "the canary's and attackers' product (default BTC-USD)")
	fs.IntVar(&cfg.MaxConnections, "max-connections", 0, "the server's max_connections, checked by connect-flood (0: not checked)")
	rssSlack := fs.Int64("rss-slack-mib", 0, "RSS growth that may remain after an attack before it counts as degraded (default 64)")
	only := fs.String("only", "", "comma-separated attacks to run (default all: "+strings.Join(attack.Names(), ",")+")")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: tickerbench attack [flags]\n\n"+
			"Replays issue 9's attacks against a running tickerfan on loopback, one after the other, each\n"+
			"beside a level2 canary and a once-a-second /healthz + upgrade probe, and prints held, degraded\n"+
			"or failed per attack. Traffic goes only to the target, bounded by -conns and -duration.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	cfg.RSSSlack = *rssSlack << 20
	if *only != "" {
		cfg.Only = strings.Split(*only, ",")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	outs, err := attack.Run(ctx, cfg, stderr)
	attack.WriteTable(stdout, outs)
	if err != nil {
		fmt.Fprintln(stderr, "tickerbench attack:", err)
		return 1
	}
	return 0
}
