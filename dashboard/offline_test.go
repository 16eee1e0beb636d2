package dashboard

import (
	"io"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestOfflineShell checks the service worker: once the page has loaded, it
// loads again with the server down, from the cached shell, showing
// "offline, reconnecting" and the last markets it saw; when the server comes
// back on the same port, it goes live by itself.
func TestOfflineShell(t *testing.T) {
	tf := startTickerfan(t, "127.0.0.1:0", busyMarket(31))
	p := newPage(t, 1280, 900)
	p.do(chromedp.Navigate(tf.url() + "#ETH-USD"))
	waitProduct(p, "ETH-USD")
	p.waitFor(wait, "controlled by the service worker with the shell cached", `navigator.serviceWorker.controller !== null &&
		caches.keys().then(ks => ks.some(k => k.startsWith('tickerfan-shell-')))`,
		`{controller: String(navigator.serviceWorker.controller)}`)
	p.waitFor(wait, "having saved the last tickers", `caches.open('tickerfan-last').then(c => c.match('/last/tickers')).then(r => Boolean(r))`, `'not yet'`)

	t.Log("server down: a reload shows the shell, offline")
	addr := tf.Addr
	tf.Shutdown()
	p.do(chromedp.Reload())
	p.waitFor(wait, "showing the offline shell", `typeof __tickerfan === 'object' && __tickerfan.offline &&
		__tickerfan.state === 'reconnecting' &&
		document.querySelector('[data-testid=conn-state]').dataset.offline === 'true' &&
		document.querySelector('[data-testid=conn-state]').textContent.includes('offline, reconnecting')`,
		`document.querySelector('[data-testid=conn-state]')?.textContent`)
	if n := eval[int](p, `document.querySelectorAll('[data-testid=product-price]:not(:empty)').length`); n == 0 {
		t.Errorf("the offline shell shows no last prices")
	}
	if title := eval[string](p, `document.querySelector('[data-testid=product-title]').textContent`); !strings.Contains(title, "ETH-USD") {
		t.Errorf("the offline shell's title is %q, want the product of the URL, ETH-USD", title)
	}

	t.Log("server back on the same port: live by itself")
	tf2 := startTickerfan(t, addr, busyMarket(32))
	p.waitFor(2*wait, "live again", `__tickerfan.state === 'live' && !__tickerfan.offline`, pageState)
	waitProduct(p, "ETH-USD")
	checkLadderMatchesREST(t, p, tf2, "ETH-USD")
	if st := eval[string](p, `document.querySelector('[data-testid=conn-state]').textContent`); strings.Contains(st, "offline") {
		t.Errorf("live, but the page still says %q", st)
	}
	p.noExceptions()
}

// TestServiceWorkerVersion checks that the service worker is served allowed
// the root scope, with its shell and version filled in, and that a change to
// any asset changes the version.
func TestServiceWorkerVersion(t *testing.T) {
	resp := do(newMux(), "GET", "/dashboard/sw.js", nil)
	b, _ := io.ReadAll(resp.Body)
	body := string(b)
	if resp.StatusCode != 200 || resp.Header.Get("Service-Worker-Allowed") != "/" {
		t.Fatalf("status %d, Service-Worker-Allowed %q", resp.StatusCode, resp.Header.Get("Service-Worker-Allowed"))
	}
	for _, want := range []string{`["/",`, `"/dashboard/app.js"`, `"/dashboard/worker.js"`, `"/dashboard/style.css"`, `"/dashboard/favicon.svg"`} {
		if !strings.Contains(body, want) {
			t.Errorf("sw.js does not list %s", want)
		}
	}
	if strings.Contains(body, "{{") || strings.Contains(body, `"/dashboard/sw.js"`) {
		t.Errorf("sw.js has a placeholder left or caches itself:\n%s", body)
	}
	tmpl := []byte("const VERSION = \"" + shellVersion + "\"; const SHELL = " + shellPaths + ";")
	a := map[string]*asset{"app.js": newAsset([]byte("one"), ""), "sw.js": nil}
	first := string(versionShell(tmpl, a))
	a["app.js"] = newAsset([]byte("two"), "")
	if second := string(versionShell(tmpl, a)); first == second {
		t.Errorf("a changed asset leaves the service worker as it was: %s", first)
	}
}
