// Command tickerbench drives a Coinbase-protocol market-data server (such as
// tickerfan) with many WebSocket subscribers and reports delivered messages,
// latency, delivery, errors and the server's CPU and memory.
//
//	tickerbench -profile configs/bench-throughput.yaml -connections 2000 -json out.json
//	tickerbench -upstream -start-server /tmp/tickerfan -duration 10s
//	tickerbench -check -profile configs/bench-ramp.yaml
//	tickerbench -version
//	tickerbench attack -target ws://127.0.0.1:9100/ -server-pid 1234
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/tickerfan/tickerfan/bench"
	"github.com/tickerfan/tickerfan/internal/buildinfo"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main with an exit code and its outputs, so tests can call it.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "attack" {
		return runAttack(args[1:], stdout, stderr)
	}
	shown := bench.Profile{}.WithDefaults()
	shown.Ramp.Max = 0 // derived from -connections unless set
	fs := flag.NewFlagSet("tickerbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	profile := fs.String("profile", "", "YAML profile `file` (e.g. configs/bench-throughput.yaml); flags given override its values")
	check := fs.Bool("check", false, "validate the profile and flags, print the problems, and exit (0 valid, 1 invalid)")
	version := fs.Bool("version", false, "print the version and VCS revision of this build, and exit")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of tickerbench itself to `file` (is the tool or the server the bottleneck?)")
	maxFailed := fs.Float64("max-failed", 0.01, "exit 1 when more than this fraction of the attempted connections failed (0.01 = 1%)")
	bindFlags(fs, &shown)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: tickerbench [flags]\n       tickerbench attack [flags]   (tickerbench attack -h)\n\n"+
			"Load-tests a Coinbase-protocol WebSocket market-data server (tickerfan) with many subscribers.\n"+
			"Progress goes to stderr each second, the summary table to stdout. Ctrl-C stops early, still\n"+
			"writes the results and exits 130. Traffic goes only to the target (and an upstream it runs on\n"+
			"loopback), bounded by -connections and the durations.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "tickerbench: unexpected argument %q: tickerbench takes flags only (or the attack subcommand first)\n\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	if *version {
		fmt.Fprintln(stdout, buildinfo.String("tickerbench"))
		return 0
	}
	if *maxFailed < 0 || *maxFailed > 1 {
		fmt.Fprintf(stderr, "tickerbench: -max-failed: must be between 0 and 1 (got %g)\n", *maxFailed)
		return 2
	}
	p, err := buildProfile(fs, *profile)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *check {
		fmt.Fprintf(stdout, "ok: %s mode, %d connections, channels %v\n", p.Mode, p.Connections, p.Channels)
		return 0
	}

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(stderr, "tickerbench: -cpuprofile:", err)
			return 1
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() { // a second Ctrl-C kills at once
		<-ctx.Done()
		stop()
	}()
	res, err := bench.Execute(ctx, p, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "tickerbench:", err)
		return 1
	}
	code := writeResults(res, p, stdout, stderr)
	if code == 0 && res.StoppedEarly {
		return 130 // interrupted, as shells report SIGINT; the results are written
	}
	if err := verdict(res, *maxFailed); err != nil && code == 0 {
		fmt.Fprintln(stderr, "tickerbench: FAILED:", err)
		code = 1
	}
	return code
}

// buildProfile loads the profile file (if any) and applies the flags the
// user set over it.
func buildProfile(parsed *flag.FlagSet, path string) (bench.Profile, error) {
	var p bench.Profile
	if path != "" {
		loaded, err := bench.LoadProfile(path)
		if err != nil {
			return p, err
		}
		p = loaded
	}
	apply := flag.NewFlagSet("apply", flag.ContinueOnError)
	bindFlags(apply, &p)
	var err error
	parsed.Visit(func(f *flag.Flag) {
		if apply.Lookup(f.Name) != nil && err == nil {
			err = apply.Set(f.Name, f.Value.String())
		}
	})
	if err != nil {
		return p, err
	}
	p = p.WithDefaults()
	return p, p.Validate()
}

func writeResults(res *bench.Result, p bench.Profile, stdout, stderr io.Writer) int {
	bench.WriteTable(stdout, res)
	code := 0
	if p.Output.JSON != "" {
		if err := bench.WriteJSON(p.Output.JSON, res); err != nil {
			fmt.Fprintln(stderr, "tickerbench: json:", err)
			code = 1
		} else {
			fmt.Fprintf(stdout, "JSON result: %s\n", p.Output.JSON)
		}
	}
	if p.Output.HTML != "" {
		if err := bench.WriteHTML(p.Output.HTML, res); err != nil {
			fmt.Fprintln(stderr, "tickerbench: html:", err)
			code = 1
		} else {
			fmt.Fprintf(stdout, "HTML report: %s\n", p.Output.HTML)
		}
	}
	return code
}
