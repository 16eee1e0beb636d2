// Command tickerfan serves a real-time market-data feed to WebSocket
// subscribers, speaking the Coinbase Exchange feed protocol.
//
//	tickerfan                          # embedded default: simulated market on 127.0.0.1:8080
//	tickerfan -config my.yaml -listen :9000
//	tickerfan -check -config my.yaml   # validate and exit
//	tickerfan record -url wss://... -products BTC-USD -out day.jsonl.gz
//	tickerfan sub -url ws://127.0.0.1:8080/ -products BTC-USD -channels ticker
//	tickerfan cluster                  # NATS, an ingest and two edges on one machine
//	tickerfan -version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap"

	"github.com/tickerfan/tickerfan/configs"
	"github.com/tickerfan/tickerfan/internal/buildinfo"
	"github.com/tickerfan/tickerfan/internal/yamlconf"
)

const defaultConfigPath = "configs/default.yaml"

func main() {
	os.Exit(run(os.Args[1:]))
}

// run is main with an exit code, so deferred cleanups run.
func run(args []string) int {
	stdout, stderr := io.Writer(os.Stdout), io.Writer(os.Stderr)
	fs := flag.NewFlagSet("tickerfan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", defaultConfigPath, "YAML config file; when the default path does not exist the embedded default is used")
	var o overrides
	fs.StringVar(&o.listen, "listen", "", "listen address, overriding server.listen (e.g. 127.0.0.1:8080)")
	check := fs.Bool("check", false, "check the config as startup would (files, addresses, feeds), print the problems, and exit (0 ok, 1 not)")
	fs.StringVar(&o.natsURL, "nats", "", "NATS URL, overriding nats.url (e.g. nats://127.0.0.1:4222)")
	fs.StringVar(&o.logFormat, "log-format", "", "console or json, overriding log.format")
	fs.StringVar(&o.logLevel, "log-level", "", "debug, info, warn or error, overriding log.level")
	version := fs.Bool("version", false, "print the version and VCS revision of this build, and exit")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageText)
		fs.PrintDefaults()
	}
	if code, ok := runCommand(args, fs, stdout, stderr); ok {
		return code
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		return usageError(stderr, fs, "unexpected argument %q: the server takes flags only; a subcommand (record, sub, cluster, healthcheck, help, version) comes first", fs.Arg(0))
	}
	if *version {
		fmt.Fprintln(stdout, buildinfo.String("tickerfan"))
		return 0
	}
	if err := o.Validate(); err != nil {
		for _, e := range yamlconf.Flatten(err) {
			fmt.Fprintln(stderr, "tickerfan:", e)
		}
		return 2
	}
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "config" })

	cfg, source, err := loadConfig(*path, explicit)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	o.apply(&cfg)
	if *check {
		return checkConfig(cfg, source, stdout, stderr)
	}
	log, err := newLogger(cfg.Log, os.Stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
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
