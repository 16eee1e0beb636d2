package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tickerfan/tickerfan/bench"
	"github.com/tickerfan/tickerfan/internal/testwait"
)

func TestHelpDocumentsEveryFlag(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"-h"}, &out, &out); code != 0 {
		t.Fatalf("-h exit %d", code)
	}
	help := out.String()
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	var p bench.Profile
	bindFlags(fs, &p)
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		n++
		if !strings.Contains(help, "  -"+f.Name+" ") && !strings.Contains(help, "  -"+f.Name+"\n") {
			t.Errorf("-h does not list -%s", f.Name)
		}
		if len(f.Usage) < 15 {
			t.Errorf("-%s has no real description: %q", f.Name, f.Usage)
		}
	})
	for _, name := range []string{"profile", "check"} {
		if !strings.Contains(help, "  -"+name) {
			t.Errorf("-h does not list -%s", name)
		}
	}
	if n < 40 {
		t.Fatalf("only %d profile flags", n)
	}
}

func TestCheckValidatesProfilesAndFlags(t *testing.T) {
	paths, _ := filepath.Glob("../../configs/bench-*.yaml")
	for _, path := range paths {
		var out bytes.Buffer
		if code := run([]string{"-check", "-profile", path}, &out, &out); code != 0 {
			t.Errorf("-check %s: exit %d\n%s", path, code, out.String())
		}
	}
	var out bytes.Buffer
	code := run([]string{"-check", "-profile", "../../configs/bench-ramp.yaml", "-mode", "sprint", "-connections", "-3"}, &out, &out)
	if code != 1 || !strings.Contains(out.String(), "mode: must be") || !strings.Contains(out.String(), "connections: must be") {
		t.Fatalf("bad flags: exit %d\n%s", code, out.String())
	}
	// A flag overrides the profile; the profile's other keys stay.
	p, err := profileOf(t, "-profile", "../../configs/bench-idle.yaml", "-connections", "77")
	if err != nil || p.Connections != 77 || p.Mode != bench.ModeIdle || p.Channels[0] != "ticker" {
		t.Fatalf("profile %+v, %v", p, err)
	}
}

func profileOf(t *testing.T, args ...string) (bench.Profile, error) {
	t.Helper()
	shown := bench.Profile{}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	path := fs.String("profile", "", "")
	bindFlags(fs, &shown)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return buildProfile(fs, *path)
}

// TestRunAgainstTickerfan runs the command as a user does against a local
// tickerfan: progress on stderr, the table on stdout, and a JSON result.
func TestRunAgainstTickerfan(t *testing.T) {
	addr := startTickerfan(t)
	dir := t.TempDir()
	jsonPath, htmlPath := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.html")
	var stdout, stderr bytes.Buffer
	code := run([]string{"-target", "ws://" + addr + "/", "-connections", "100", "-warmup", "1s", "-duration", "2s",
		"-json", jsonPath, "-html", htmlPath}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stderr.String(), "conns 100/100") || !strings.Contains(stderr.String(), "p99") {
		t.Errorf("no progress line on stderr:\n%s", stderr.String())
	}
	for _, want := range []string{"delivery ratio", "latency", "l2update", "JSON result: " + jsonPath} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, stdout.String())
		}
	}
	var res bench.Result
	b, err := os.ReadFile(jsonPath)
	if err != nil || json.Unmarshal(b, &res) != nil {
		t.Fatalf("JSON result: %v", err)
	}
	if res.Measured == nil || res.Measured.Messages == 0 || res.Measured.DeliveryRatio != 1 || res.Connections.Opened != 100 {
		t.Fatalf("JSON result %+v", res.Measured)
	}
	if _, err := os.Stat(htmlPath); err != nil {
		t.Fatal(err)
	}
}

// startTickerfan builds and runs tickerfan on a free 127.0.0.1 port
// (TICKERFAN_BIN names a prebuilt binary instead).
func startTickerfan(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("TICKERFAN_BIN")
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "tickerfan")
		if out, err := exec.Command("go", "build", "-o", bin, "../tickerfan").CombinedOutput(); err != nil {
			t.Fatalf("build tickerfan: %v\n%s", err, out)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "-listen", addr, "-log-level", "warn")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	testwait.For(t, 15*time.Second, "tickerfan healthy", func() (string, bool) {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return err.Error(), false
		}
		resp.Body.Close()
		return resp.Status, resp.StatusCode == http.StatusOK
	})
	return addr
}
