package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/tickerfan/tickerfan/bus"
	"github.com/tickerfan/tickerfan/configs"
	"github.com/tickerfan/tickerfan/internal/yamlconf"
)

// demoUsage heads `tickerfan cluster -h`.
const demoUsage = `Usage: tickerfan cluster [flags]

Starts a NATS cluster on one machine, for trying it: an embedded NATS server,
an ingest (the simulated market, published to NATS) and -edges edges that
follow it, each serving WebSocket, REST and the dashboard on its own port.
Runs until SIGINT or SIGTERM.

Flags:
`

// runDemo is the cluster subcommand; it returns the exit code.
func runDemo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tickerfan cluster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	natsAddr := fs.String("nats-listen", "127.0.0.1:4222", "address of the embedded NATS server (port 0: any free port)")
	base := fs.Int("port", 8080, "the ingest's port on 127.0.0.1; edge i serves on port+i")
	edges := fs.Int("edges", 2, "number of edges")
	logLevel := fs.String("log-level", "warn", "debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), demoUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	log, err := newLogger(logConfig{Level: *logLevel}, os.Stderr)
	if err != nil || *edges < 1 || *base < 1 || *base+*edges > 65535 {
		fmt.Fprintln(stderr, "tickerfan cluster: bad -log-level, -edges or -port")
		return 2
	}
	defer log.Sync()
	ns, err := startDemoNATS(*natsAddr)
	if err != nil {
		fmt.Fprintln(stderr, "tickerfan cluster:", err)
		return 1
	}
	defer ns.Shutdown()
	url := "nats://" + ns.Addr().String()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var wg sync.WaitGroup
	failed := make(chan error, *edges+1)
	for i := 0; i <= *edges; i++ {
		role, name := bus.RoleIngest, "ingest"
		if i > 0 {
			role, name = bus.RoleEdge, "edge"+strconv.Itoa(i)
		}
		cfg, err := demoConfig(role, url, net.JoinHostPort("127.0.0.1", strconv.Itoa(*base+i)))
		if err != nil {
			fmt.Fprintln(stderr, "tickerfan cluster:", err)
			return 1
		}
		fmt.Fprintf(stdout, "%-7s http://%s/  ws://%s/\n", name, cfg.Server.Listen, cfg.Server.Listen)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := serve(ctx, cfg, log.Named(name)); err != nil {
				failed <- fmt.Errorf("%s: %w", name, err)
			}
		}()
	}
	fmt.Fprintf(stdout, "nats    %s (subjects %s.>)\n", url, "tickerfan.v1")
	code := 0
	select {
	case <-ctx.Done():
	case err := <-failed:
		fmt.Fprintln(stderr, "tickerfan cluster:", err)
		code = 1
		stop()
	}
	wg.Wait()
	return code
}

// startDemoNATS starts an embedded NATS server on addr.
func startDemoNATS(addr string) (*server.Server, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return nil, fmt.Errorf("-nats-listen: bad port %q", port)
	}
	if p == 0 {
		p = server.RANDOM_PORT // nats-server reads 0 as its default, 4222
	}
	ns, err := server.NewServer(&server.Options{Host: host, Port: p, NoLog: true, NoSigs: true})
	if err != nil {
		return nil, err
	}
	ns.Start()
	if !ns.ReadyForConnections(5 * time.Second) {
		ns.Shutdown()
		return nil, fmt.Errorf("nats server on %s not ready (port taken?)", addr)
	}
	return ns, nil
}

// demoConfig is the embedded default config in role, on listen.
func demoConfig(role, url, listen string) (config, error) {
	var cfg config
	if err := yamlconf.Decode("embedded configs/default.yaml", configs.Default, &cfg); err != nil {
		return cfg, err
	}
	cfg.Server.Listen = listen
	cfg.NATS = bus.Config{Role: role, URL: url, IngestID: "demo-ingest"}
	cfg = cfg.withDefaults()
	return cfg, cfg.Validate()
}
