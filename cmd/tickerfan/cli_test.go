package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runBinary runs the built tickerfan in dir and returns its exit code and
// combined output.
func runBinary(t *testing.T, dir string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return 0, string(out)
}

// The command line is strict: every mistake is an error naming it, with
// exit code 2, and flag values are checked as their config keys.
func TestCommandLine(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want []string // substrings of the output
	}{
		{[]string{"help"}, 0, []string{"Usage: tickerfan [flags]", "tickerfan sub [flags]", "-version"}},
		{[]string{"recrod"}, 2, []string{`tickerfan: unknown command "recrod"`, "Usage: tickerfan"}},
		{[]string{"-check", "stray"}, 2, []string{`unexpected argument "stray"`, "Usage: tickerfan"}},
		{[]string{"-log-format", "xml"}, 2, []string{`-log-format: must be console or json (got "xml")`}},
		{[]string{"-log-level", "verbose"}, 2, []string{`-log-level: must be debug, info, warn or error (got "verbose")`}},
		{[]string{"-listen", "127.0.0.1:80800"}, 2, []string{`-listen: invalid port "80800"`}},
		{[]string{"-version"}, 0, []string{"tickerfan ", "go1."}},
		{[]string{"version"}, 0, []string{"tickerfan ", "revision"}},
		{[]string{"version", "x"}, 2, []string{"version takes no arguments"}},
		{[]string{"sub"}, 2, []string{"-products is required", "Usage: tickerfan sub"}},
		{[]string{"sub", "-products", "BTC-USD", "-url", "http://x/"}, 2, []string{"want ws://HOST:PORT/"}},
		{[]string{"sub", "-products", "BTC-USD", "-format", "xml"}, 2, []string{"-format: must be auto, json or top"}},
		{[]string{"record", "-products", "BTC-USD"}, 2, []string{"-products and -out are required"}},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out := runBinary(t, t.TempDir(), tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s", code, tc.code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// -check reports what startup would fail on, each problem with its field:
// a missing replay file (saying where a relative path was looked for), a
// listen host the machine does not have, a product no feed serves, a
// profiling address that is not loopback.
func TestCheckStartupProblems(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bad := write("bad.yaml", `server:
  listen: 192.0.2.1:8080
products:
  - {id: BTC-USD}
  - {id: ETH-USD}
feeds:
  - {name: rec, kind: replay, products: [BTC-USD], replay: {path: data.jsonl}}
`)
	code, out := runBinary(t, dir, "-check", "-config", bad)
	if code != 1 {
		t.Errorf("exit %d, want 1\n%s", code, out)
	}
	for _, w := range []string{
		bad + ": feeds[0].replay.path: open data.jsonl: no such file (relative to " + dir + ")",
		bad + ": server.listen: cannot listen on 192.0.2.1",
		bad + ": products[1]: ETH-USD comes from no feed",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	// The same file is fine once the recording exists and every product is served.
	write("data.jsonl", "")
	good := write("good.yaml", `products:
  - {id: BTC-USD}
feeds:
  - {name: rec, kind: replay, products: [BTC-USD], replay: {path: data.jsonl}}
debug:
  pprof_listen: 127.0.0.1:0
`)
	if code, out := runBinary(t, dir, "-check", "-config", good); code != 0 || !strings.Contains(out, "ok (1 products, 1 feeds)") {
		t.Errorf("good config: exit %d\n%s", code, out)
	}
	pprof := write("pprof.yaml", "debug:\n  pprof_listen: 0.0.0.0:6060\n")
	code, out = runBinary(t, dir, "-check", "-config", pprof)
	if want := pprof + ":2: debug.pprof_listen: must be a loopback address"; code != 1 || !strings.Contains(out, want) {
		t.Errorf("exit %d, want 1 and %q:\n%s", code, want, out)
	}
}

// Console logs carry colour codes only on a terminal; a pipe gets none.
func TestLogsWithoutColourOnAPipe(t *testing.T) {
	code, out := runBinary(t, t.TempDir(), "record", "-url", "ws://127.0.0.1:1/", "-products", "BTC-USD",
		"-out", filepath.Join(t.TempDir(), "x.jsonl"), "-duration", "1s", "-progress", "0")
	if code != 1 || !strings.Contains(out, "recorded nothing") || !strings.Contains(out, "connection refused") {
		t.Errorf("record from a refused upstream: exit %d, want 1 naming the cause:\n%s", code, out)
	}
	if !strings.Contains(out, "WARN") || strings.Contains(out, "\x1b[") {
		t.Errorf("want plain WARN lines without ANSI codes:\n%q", out)
	}
}
