// Command tickerfan serves a real-time market-data feed to WebSocket
// subscribers, speaking the Coinbase Exchange feed protocol.
//
//	tickerfan                          # embedded default: simulated market on 127.0.0.1:8080
//	tickerfan -config my.yaml -listen :9000
//	tickerfan -check -config my.yaml   # validate and exit
//	tickerfan record -url wss://... -products BTC-USD -out day.jsonl.gz
//	tickerfan cluster                  # NATS, an ingest and two edges on one machine
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap"

	"github.com/tickerfan/tickerfan/configs"
	"github.com/tickerfan/tickerfan/internal/yamlconf"
)

const defaultConfigPath = "configs/default.yaml"

func main() {
	os.Exit(run(os.Args[1:]))
}

// run is main with an exit code, so deferred cleanups run.
func run(args []string) int {
	if len(args) > 0 && args[0] == "record" {
		return runRecord(args[1:], os.Stderr)
	}
	if len(args) > 0 && args[0] == "cluster" {
		return runDemo(args[1:], os.Stdout, os.Stderr)
	}
	fs := flag.NewFlagSet("tickerfan", flag.ContinueOnError)
	path := fs.String("config", defaultConfigPath, "YAML config file; when the default path does not exist the embedded default is used")
	listen := fs.String("listen", "", "listen address, overriding server.listen (e.g. 127.0.0.1:8080)")
	check := fs.Bool("check", false, "validate the config, print the problems, and exit (0 valid, 1 invalid)")
	natsURL := fs.String("nats", "", "NATS URL, overriding nats.url (e.g. nats://127.0.0.1:4222)")
	logFormat := fs.String("log-format", "", "console or json, overriding log.format")
	logLevel := fs.String("log-level", "", "debug, info, warn or error, overriding log.level")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: tickerfan [flags]\n       tickerfan record [flags]   (tickerfan record -h)\n\n"+
			"Serves a Coinbase-protocol market-data WebSocket feed.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "config" })

	cfg, source, err := loadConfig(*path, explicit)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if *check {
		fmt.Printf("%s: ok (%d products, %d feeds)\n", source, len(cfg.Products), len(cfg.Feeds))
		return 0
	}
	if *listen != "" {
		cfg.Server.Listen = *listen
	}
	if *natsURL != "" {
		cfg.NATS.URL = *natsURL
	}
	if *logFormat != "" {
		cfg.Log.Format = *logFormat
	}
	if *logLevel != "" {
		cfg.Log.Level = *logLevel
	}
	log, err := newLogger(cfg.Log)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer log.Sync()
	log.Info("config loaded", zap.String("source", source))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, cfg, log); err != nil {
		log.Error("tickerfan stopped", zap.Error(err))
		return 1
	}
	return 0
}

// loadConfig reads the file at path, or the embedded default when path is the
// default and no such file exists. It returns the config and where it came from.
func loadConfig(path string, explicit bool) (config, string, error) {
	var cfg config
	if _, err := os.Stat(path); err != nil && !explicit && path == defaultConfigPath {
		const name = "embedded configs/default.yaml"
		if err := yamlconf.Decode(name, configs.Default, &cfg); err != nil {
			return cfg, name, err
		}
		return cfg.withDefaults(), name, nil
	}
	if err := yamlconf.Load(path, &cfg); err != nil {
		return cfg, path, err
	}
	return cfg.withDefaults(), path, nil
}
