package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"go.uber.org/zap"

	"github.com/tickerfan/tickerfan/internal/yamlconf"
)

// debugConfig holds operators' hooks, all off by default.
type debugConfig struct {
	// PprofListen, when set, serves net/http/pprof (/debug/pprof/) on this
	// address, a listener of its own apart from the feed. It must be a
	// loopback address (127.0.0.1:6060, [::1]:6060, localhost:6060): the
	// profiles reveal the process's internals. Default "": off.
	PprofListen string `yaml:"pprof_listen"`
}

// Validate checks that PprofListen, when set, is a loopback HOST:PORT.
func (d debugConfig) Validate() error {
	if d.PprofListen == "" {
		return nil
	}
	if err := validateListen(d.PprofListen); err != nil {
		return yamlconf.Errorf("pprof_listen", "%v", err)
	}
	host, _, _ := net.SplitHostPort(d.PprofListen)
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return yamlconf.Errorf("pprof_listen", "must be a loopback address such as 127.0.0.1:6060 (got %q): profiles expose the process's internals", d.PprofListen)
	}
	return nil
}

// startPprof serves net/http/pprof on addr until the returned stop is
// called; stop waits for the serving goroutine, which startPprof starts.
func startPprof(addr string, log *zap.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("debug.pprof_listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("pprof listener failed", zap.Error(err))
		}
	}()
	log.Info("pprof listening", zap.String("addr", ln.Addr().String()))
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	}, nil
}
