package dashboard

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// newMux registers Handler as cmd/tickerfan does, beside a catch-all like
// the REST server's 404.
func newMux() *http.ServeMux {
	mux := http.NewServeMux()
	h := Handler()
	mux.Handle("GET /{$}", h)
	mux.Handle("GET "+AssetPrefix, h)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"message":"NotFound"}`, http.StatusNotFound)
	})
	return mux
}

func do(mux http.Handler, method, target string, header http.Header) *http.Response {
	r := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	return w.Result()
}

func TestHandler(t *testing.T) {
	mux := newMux()
	for _, tc := range []struct {
		method, path string
		code         int
		ctype        string
		body         string // a substring of the body
	}{
		{"GET", "/", 200, "text/html; charset=utf-8", `<script type="module" src="/dashboard/app.js">`},
		{"HEAD", "/", 200, "text/html; charset=utf-8", ""},
		{"GET", "/dashboard/app.js", 200, "text/javascript; charset=utf-8", "new Worker("},
		{"GET", "/dashboard/worker.js", 200, "text/javascript; charset=utf-8", "new Feed("},
		{"GET", "/dashboard/book.js", 200, "text/javascript; charset=utf-8", "export class Book"},
		{"GET", "/dashboard/style.css", 200, "text/css; charset=utf-8", "prefers-color-scheme: dark"},
		{"GET", "/dashboard/favicon.svg", 200, "image/svg+xml", "<svg"},
		{"GET", "/dashboard/", 302, "", ""},
		{"GET", "/dashboard/index.html", 404, "application/json", `"NotFound"`},
		{"GET", "/dashboard/nope.js", 404, "application/json", `"NotFound"`},
		{"POST", "/", 404, "", ""}, // the patterns are GET only; REST's catch-all answers
	} {
		resp := do(mux, tc.method, tc.path, nil)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != tc.code {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, resp.StatusCode, tc.code)
			continue
		}
		if tc.ctype != "" && resp.Header.Get("Content-Type") != tc.ctype {
			t.Errorf("%s %s: Content-Type %q, want %q", tc.method, tc.path, resp.Header.Get("Content-Type"), tc.ctype)
		}
		if !strings.Contains(string(body), tc.body) {
			t.Errorf("%s %s: body does not contain %q", tc.method, tc.path, tc.body)
		}
		if tc.code == 200 {
			for _, k := range []string{"ETag", "Cache-Control", "X-Content-Type-Options"} {
				if resp.Header.Get(k) == "" {
					t.Errorf("%s %s: no %s header", tc.method, tc.path, k)
				}
			}
		}
	}
}

// TestHandlerOnlyEmbedded calls the handler without a mux, which would clean
// the path first: only embedded files are ever served.
func TestHandlerOnlyEmbedded(t *testing.T) {
	for _, path := range []string{"/dashboard/../go.mod", "/dashboard/../dashboard.go", "/dashboard/web/app.js", "/index.html"} {
		if resp := do(Handler(), "GET", path, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, resp.StatusCode)
		}
	}
}

func TestHandlerSecurityHeaders(t *testing.T) {
	resp := do(newMux(), "GET", "http://127.0.0.1:8080/", nil)
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self' ws://127.0.0.1:8080 wss://127.0.0.1:8080", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-cache" {
		t.Errorf("Cache-Control %q, want no-cache", got)
	}
}

func TestHandlerRevalidation(t *testing.T) {
	mux := newMux()
	first := do(mux, "GET", "/dashboard/app.js", nil)
	etag := first.Header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) {
		t.Fatalf("ETag %q is not a strong validator", etag)
	}
	again := do(mux, "GET", "/dashboard/app.js", http.Header{"If-None-Match": {etag}})
	if again.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation with the ETag: status %d, want 304", again.StatusCode)
	}
	other := do(mux, "GET", "/dashboard/style.css", nil).Header.Get("ETag")
	if other == etag {
		t.Errorf("two assets share the ETag %s", etag)
	}
}

// TestAssetsReferenced checks that every file the page and its modules refer
// to is served: a renamed module would otherwise only fail in a browser.
func TestAssetsReferenced(t *testing.T) {
	mux := newMux()
	refs := map[string]bool{}
	imports := regexp.MustCompile(`(?m)^import .* from "\./([a-z]+\.js)";$`)
	links := regexp.MustCompile(`(?:src|href)="(/dashboard/[^"]+)"`)
	err := fs.WalkDir(webFS, "web", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := webFS.ReadFile(name)
		if err != nil {
			return err
		}
		for _, m := range imports.FindAllStringSubmatch(string(b), -1) {
			refs[AssetPrefix+m[1]] = true
		}
		for _, m := range links.FindAllStringSubmatch(string(b), -1) {
			refs[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) < 10 {
		t.Fatalf("found only %d references: %v", len(refs), refs)
	}
	for ref := range refs {
		if resp := do(mux, "GET", ref, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("%s is referenced but answers %d", ref, resp.StatusCode)
		}
	}
}
