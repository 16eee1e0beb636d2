package dashboard

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/tickerfan/tickerfan/internal/testwait"
)

// The end-to-end tests drive a real headless Chromium (Debian package
// "chromium"). go test never installs it (.ci/run does): without it, the
// tests fail under CI (env CI set), saying how to install it, and skip
// loudly elsewhere.

var chromiumPaths = []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"}

// chromiumHint says how to get the browser.
const chromiumHint = "install it with: apt-get update && apt-get install -y chromium (Debian package chromium)"

// requireChromium returns the browser's path, or ends the test: t.Fatal when
// env CI is set, t.Skip (with the same message) otherwise.
func requireChromium(t *testing.T) string {
	t.Helper()
	if p := lookChromium(); p != "" {
		return p
	}
	msg := fmt.Sprintf("headless Chromium is needed for the dashboard tests and was not found in %v or PATH; %s", chromiumPaths, chromiumHint)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip("SKIPPED, NOT PASSED: " + msg)
	return ""
}

func lookChromium() string {
	for _, p := range chromiumPaths {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

// page is one browser tab, with the uncaught exceptions of its scripts.
type page struct {
	t   *testing.T
	ctx context.Context

	mu         sync.Mutex
	exceptions []string
}

// newPage starts a headless Chromium with a fresh profile, width x height
// CSS pixels, and returns its first tab. The browser stops at the end of the
// test.
func newPage(t *testing.T, width, height int) *page {
	t.Helper()
	bin := requireChromium(t)
	// Without the background-networking flags Chromium's own connections are
	// refused in a closed network and slow it down.
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("force-color-profile", "srgb"),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	p := &page{t: t, ctx: ctx}
	if err := chromedp.Do(ctx); err != nil { // starts the browser, without a deadline
		t.Fatalf("start chromium: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		t.Fatalf("viewport: %v", err)
	}
	exceptions := chromedp.Events(ctx, runtime.ExceptionThrown)
	go func() {
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.exceptions = append(p.exceptions, exceptionText(ev))
			p.mu.Unlock()
		}
	}()
	return p
}

func exceptionText(ev runtime.EventExceptionThrown) string {
	d := ev.ExceptionDetails
	if d == nil {
		return "exception"
	}
	text := d.Text
	if d.Exception != nil && d.Exception.Description != "" {
		text += ": " + d.Exception.Description
	}
	return fmt.Sprintf("%s (%s:%d)", text, d.URL, d.LineNumber)
}

// do runs actions with a 15 s bound.
func (p *page) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("browser: %v", err)
	}
}

// run runs one action with a 15 s bound and returns its value.
func run[T any](p *page, a chromedp.Action[T]) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		p.t.Fatalf("browser: %v", err)
	}
	return v
}

// eval evaluates a JavaScript expression (awaiting a promise) and decodes
// its value.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	return run(p, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

// waitFor polls a JavaScript condition (a value, or a promise of one) until
// it is true, failing the test after d with what and the last value of show
// (an expression explaining the state).
func (p *page) waitFor(d time.Duration, what, cond, show string) {
	p.t.Helper()
	type result struct {
		OK   bool
		Show string
	}
	// A condition that throws (an element not drawn yet) is not met yet; show
	// is read in the same evaluation, only while the condition is not met.
	check := "(async () => { let ok = false; try { ok = Boolean(await (" + cond + ")); } catch (e) {}\n" +
		"if (ok) return {OK: true, Show: ''};\n" +
		"try { return {OK: false, Show: JSON.stringify(" + show + ")}; } catch (e) { return {OK: false, Show: String(e)}; } })()"
	testwait.For(p.t, d, what, func() (string, bool) {
		r := eval[result](p, check)
		if r.OK {
			return "", true
		}
		p.mu.Lock()
		thrown := strings.Join(p.exceptions, "\n")
		p.mu.Unlock()
		return "page: " + r.Show + "\nuncaught exceptions: " + thrown, false
	})
}

// setColorScheme makes the page see the system theme as "light" or "dark"
// (the prefers-color-scheme media feature).
func (p *page) setColorScheme(scheme string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
	})
	if err != nil {
		p.t.Fatalf("emulate prefers-color-scheme %s: %v", scheme, err)
	}
}

// noExceptions fails the test if a script of the page threw.
func (p *page) noExceptions() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.exceptions) > 0 {
		p.t.Errorf("the page threw %d uncaught exceptions:\n%s", len(p.exceptions), strings.Join(p.exceptions, "\n"))
	}
}
