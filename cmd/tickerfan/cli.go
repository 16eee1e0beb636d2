package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/tickerfan/tickerfan/internal/buildinfo"
	"github.com/tickerfan/tickerfan/internal/yamlconf"
)

// usageText heads `tickerfan -h` and every command-line error.
const usageText = `Usage: tickerfan [flags]                serve (default: simulated market on 127.0.0.1:8080)
       tickerfan record [flags]         record an upstream feed to a file (tickerfan record -h)
       tickerfan sub [flags]            subscribe and print messages, one JSON per line (tickerfan sub -h)
       tickerfan healthcheck [flags]    exit 0 when a tickerfan's /healthz answers 200 (for containers)
       tickerfan cluster [flags]        NATS, an ingest and two edges on one machine (tickerfan cluster -h)
       tickerfan help                   this text
       tickerfan version                the build (as -version)

Serves a Coinbase-protocol market-data WebSocket feed.

Flags:
`

// commands are the subcommands; each returns its exit code.
var commands = map[string]func(args []string, stdout, stderr io.Writer) int{
	"record":      func(args []string, _, stderr io.Writer) int { return runRecord(args, stderr) },
	"sub":         runSub,
	"healthcheck": runHealthcheck,
	"cluster":     runDemo,
	"version": func(args []string, stdout, stderr io.Writer) int {
		if len(args) > 0 {
			return usageError(stderr, nil, "version takes no arguments (got %q)", args)
		}
		fmt.Fprintln(stdout, buildinfo.String("tickerfan"))
		return 0
	},
}

// runCommand runs the subcommand args name, if they name one: ok is false
// when args start with a flag (or are empty) and the caller serves.
func runCommand(args []string, fs *flag.FlagSet, stdout, stderr io.Writer) (code int, ok bool) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return 0, false
	}
	name := args[0]
	if name == "help" {
		fs.SetOutput(stdout)
		fs.Usage()
		return 0, true
	}
	cmd, found := commands[name]
	if !found {
		return usageError(stderr, fs, "unknown command %q", name), true
	}
	return cmd(args[1:], stdout, stderr), true
}

// usageError prints "tickerfan: problem" and, given fs, the usage; it
// returns 2, the exit code of a command-line error.
func usageError(stderr io.Writer, fs *flag.FlagSet, format string, args ...any) int {
	fmt.Fprintf(stderr, "tickerfan: "+format+"\n\n", args...)
	if fs != nil {
		fs.SetOutput(stderr)
		fs.Usage()
	}
	return 2
}

// overrides are the flags that override config keys. They are validated as
// the keys they override, and named as flags in the errors.
type overrides struct {
	listen, natsURL, logFormat, logLevel string
}

// Validate checks each flag given as its config key would be checked.
func (o overrides) Validate() error {
	var errs []error
	if o.listen != "" {
		if err := validateListen(o.listen); err != nil {
			errs = append(errs, fmt.Errorf("-listen: %w", err))
		}
	}
	for _, e := range yamlconf.Flatten(logConfig{Level: o.logLevel, Format: o.logFormat}.Validate()) {
		var fe *yamlconf.FieldError
		if errors.As(e, &fe) {
			errs = append(errs, fmt.Errorf("-log-%s: %s", fe.Field, fe.Msg))
		}
	}
	return errors.Join(errs...)
}

// apply sets the config keys of the flags given.
func (o overrides) apply(cfg *config) {
	if o.listen != "" {
		cfg.Server.Listen = o.listen
	}
	if o.natsURL != "" {
		cfg.NATS.URL = o.natsURL
	}
	if o.logFormat != "" {
		cfg.Log.Format = o.logFormat
	}
	if o.logLevel != "" {
		cfg.Log.Level = o.logLevel
	}
}

// validateListen checks a listen address's form: HOST:PORT (HOST may be
// empty for every interface) with a port from 0 to 65535.
func validateListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want HOST:PORT, e.g. 127.0.0.1:8080 or :8080 (got %q)", addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("invalid port %q in %q: want a number from 0 to 65535", port, addr)
	}
	if strings.ContainsAny(host, " /") {
		return fmt.Errorf("invalid host %q in %q", host, addr)
	}
	return nil
}
