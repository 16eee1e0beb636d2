package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"

	"go.uber.org/zap"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/bus"
	"github.com/tickerfan/tickerfan/internal/yamlconf"
)

// checkConfig is -check: cfg has loaded and validated; it now checks what
// startup would still fail on, without listening or connecting, prints
// every problem (or "ok"), and returns the exit code.
func checkConfig(cfg config, source string, stdout, stderr io.Writer) int {
	errs := yamlconf.Flatten(startupProblems(cfg))
	if len(errs) == 0 {
		fmt.Fprintf(stdout, "%s: ok (%d products, %d feeds)\n", source, len(cfg.Products), len(cfg.Feeds))
		return 0
	}
	for _, err := range errs {
		fmt.Fprintf(stderr, "%s: %s\n", source, err)
	}
	return 1
}

// startupProblems returns every reason startup would fail, or leave part
// of the catalog without data: listen addresses the machine cannot bind,
// files that do not exist (relative paths resolved from the working
// directory, as at startup), products no feed serves, and whatever building
// the feeds and the book rejects.
func startupProblems(cfg config) error {
	errs := []error{
		checkAddr("server.listen", cfg.Server.Listen),
		checkAddr("debug.pprof_listen", cfg.Debug.PprofListen),
		unservedProducts(cfg),
	}
	for i, fc := range cfg.Feeds {
		field := fmt.Sprintf("feeds[%d]", i)
		if err := checkFeedFiles(fc); err != nil {
			errs = append(errs, yamlconf.Prefix(field, err))
			continue // building it would only say the same
		}
		if _, err := newSource(fc, cfg.feedProducts(fc), zap.NewNop()); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", field, err))
		}
	}
	if _, err := book.NewMarket(cfg.Book, cfg.Products, func(book.Event) {}, zap.NewNop()); err != nil {
		errs = append(errs, fmt.Errorf("book: %w", err))
	}
	return errors.Join(errs...)
}

// checkAddr checks that the host of a listen address is one this machine
// can listen on (binding port 0 of it, at once released). It does not
// check that the port is free: the port may be held by the instance the
// config is meant to replace.
func checkAddr(field, addr string) error {
	if addr == "" {
		return nil
	}
	if err := validateListen(addr); err != nil {
		return yamlconf.Errorf(field, "%v", err)
	}
	host, _, _ := net.SplitHostPort(addr)
	if host == "" {
		return nil
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return yamlconf.Errorf(field, "cannot listen on %s: %v", host, errors.Unwrap(err))
	}
	ln.Close()
	return nil
}

// checkFeedFiles checks the files a feed opens at startup: a replay's
// recording must exist; a coinbase feed's record file must be creatable.
func checkFeedFiles(fc feedConfig) error {
	switch fc.WithDefaults().Kind {
	case kindReplay:
		if fc.Replay.Path == "" {
			return nil // Validate reported it
		}
		f, err := os.Open(fc.Replay.Path)
		if err != nil {
			return yamlconf.Errorf("replay.path", "%s", pathProblem(err, fc.Replay.Path))
		}
		f.Close()
	case kindCoinbase:
		if fc.Coinbase.Record == "" {
			return nil
		}
		dir := filepath.Dir(fc.Coinbase.Record)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return yamlconf.Errorf("coinbase.record", "directory %s does not exist%s", dir, relativeNote(dir))
		}
	}
	return nil
}

// pathProblem says what is wrong with opening path, and where a relative
// path was looked for.
func pathProblem(err error, path string) string {
	msg := err.Error()
	var pe *fs.PathError
	if errors.As(err, &pe) {
		msg = pe.Op + " " + pe.Path + ": " + pe.Err.Error()
		if errors.Is(err, fs.ErrNotExist) {
			msg = pe.Op + " " + pe.Path + ": no such file"
		}
	}
	return msg + relativeNote(path)
}

// relativeNote is " (relative to CWD)" for a relative path, else "".
func relativeNote(path string) string {
	if filepath.IsAbs(path) {
		return ""
	}
	wd, err := os.Getwd()
	if err != nil {
		return " (relative to the working directory)"
	}
	return " (relative to " + wd + ")"
}

// unservedProducts reports catalog products that the node serves but that
// neither a feed of its own nor, on an edge, NATS carries: they would stay
// offline forever.
func unservedProducts(cfg config) error {
	served := map[string]bool{}
	if cfg.NATS.Role != bus.RoleEdge {
		for _, fc := range cfg.Feeds {
			for _, p := range cfg.feedProducts(fc) {
				served[p.ID] = true
			}
		}
	}
	if cfg.NATS.Follows() {
		for _, id := range cfg.followedProducts() {
			served[id] = true
		}
	}
	var errs []error
	for i, p := range cfg.servedProducts() {
		if !served[p.ID] {
			errs = append(errs, yamlconf.Errorf(fmt.Sprintf("products[%d]", i),
				"%s comes from no feed, so it would stay offline; add it to a feed's products or remove it", p.ID))
		}
	}
	return errors.Join(errs...)
}
