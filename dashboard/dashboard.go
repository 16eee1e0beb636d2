// Package dashboard serves tickerfan's browser dashboard: a page that is an
// ordinary client of the WebSocket feed and the REST endpoints beside it. The
// assets (plain HTML, CSS and JavaScript modules; no build step) are embedded
// in the binary.
//
// Handler serves the page at "/" and its assets under AssetPrefix, the page's
// service worker (AssetPrefix+"sw.js", allowed the scope "/") among them.
// Register it on the server for both:
//
//	h := dashboard.Handler()
//	srv.Handle("GET /{$}", h)
//	srv.Handle("GET "+dashboard.AssetPrefix, h)
package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
)

// AssetPrefix is the path under which the dashboard's assets are served. It
// is distinct from every REST path (/products, /currencies, /time, /healthz,
// /metrics, /feeds) and from the WebSocket paths (/ and /ws).
const AssetPrefix = "/dashboard/"

//go:embed web
var webFS embed.FS

// asset is one embedded file, ready to serve.
type asset struct {
	body  []byte
	ctype string
	etag  string
}

// contentTypes are set explicitly rather than sniffed, so that modules are
// served as JavaScript whatever the system's MIME table says.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
}

// serviceWorker is the service worker's file; shellVersion and shellPaths
// are filled in when it is loaded.
const (
	serviceWorker = "sw.js"
	shellVersion  = `{{VERSION}}`
	shellPaths    = `{{SHELL}}`
)

var loadAssets = sync.OnceValues(func() (map[string]*asset, error) {
	assets := make(map[string]*asset)
	err := fs.WalkDir(webFS, "web", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := webFS.ReadFile(name)
		if err != nil {
			return err
		}
		ctype, ok := contentTypes[path.Ext(name)]
		if !ok {
			ctype = "application/octet-stream"
		}
		assets[strings.TrimPrefix(name, "web/")] = newAsset(body, ctype)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if sw := assets[serviceWorker]; sw != nil {
		assets[serviceWorker] = newAsset(versionShell(sw.body, assets), sw.ctype)
	}
	return assets, nil
})

func newAsset(body []byte, ctype string) *asset {
	sum := sha256.Sum256(body)
	return &asset{body: body, ctype: ctype, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`}
}

// versionShell fills in the service worker's version and shell: the version
// is a hash of every other asset's name and body, so any change to the
// dashboard makes a new service worker, which replaces the cached shell.
func versionShell(sw []byte, assets map[string]*asset) []byte {
	names := slices.Sorted(maps.Keys(assets))
	h := sha256.New()
	shell := []string{"/"}
	for _, name := range names {
		if name == serviceWorker {
			continue
		}
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(assets[name].body))
		h.Write(assets[name].body)
		if name != "index.html" {
			shell = append(shell, AssetPrefix+name)
		}
	}
	paths, _ := json.Marshal(shell) // a []string always encodes
	version := base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:12])
	sw = bytes.Replace(sw, []byte(shellVersion), []byte(version), 1)
	return bytes.Replace(sw, []byte(shellPaths), paths, 1)
}

// Handler returns the dashboard's handler: GET / serves the page, GET
// AssetPrefix+name serves an asset, anything else is 404. Responses carry a
// strong ETag and "Cache-Control: no-cache", so browsers revalidate (a cheap
// 304) and never run a stale script after an upgrade.
func Handler() http.Handler {
	assets, err := loadAssets()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case err != nil:
			// The files are compiled in: only a broken build gets here.
			writeError(w, http.StatusInternalServerError, "dashboard assets unreadable: "+err.Error())
		case r.Method != http.MethodGet && r.Method != http.MethodHead:
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed")
		case r.URL.Path == AssetPrefix:
			http.Redirect(w, r, "/", http.StatusFound)
		default:
			a := assets[assetName(r.URL.Path)]
			if a == nil {
				writeError(w, http.StatusNotFound, "NotFound")
				return
			}
			serve(w, r, a)
		}
	})
}

// assetName maps a request path to an embedded file name, "" for none. The
// page itself is served only at "/".
func assetName(p string) string {
	if p == "/" {
		return "index.html"
	}
	rest, ok := strings.CutPrefix(p, AssetPrefix)
	if !ok || rest == "index.html" {
		return ""
	}
	return rest
}

func serve(w http.ResponseWriter, r *http.Request, a *asset) {
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if r.URL.Path == AssetPrefix+serviceWorker {
		// The worker lives under AssetPrefix but keeps the page at "/" too.
		h.Set("Service-Worker-Allowed", "/")
	}
	if strings.HasPrefix(a.ctype, "text/html") {
		h.Set("Content-Security-Policy", contentSecurityPolicy(r.Host))
		h.Set("X-Frame-Options", "DENY")
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}

// contentSecurityPolicy allows the page its own scripts, workers, styles and
// images, and connections to its own origin, the WebSocket included (a bare
// 'self' does not cover ws: in every browser).
func contentSecurityPolicy(host string) string {
	connect := "'self'"
	if host != "" && !strings.ContainsAny(host, " ;,'\"") {
		connect += " ws://" + host + " wss://" + host
	}
	return "default-src 'none'; script-src 'self'; worker-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src " + connect + "; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

// writeError answers like the REST endpoints do: {"message":"NotFound"}.
func writeError(w http.ResponseWriter, code int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"message": message})
}
