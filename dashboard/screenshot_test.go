package dashboard

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/tickerfan/tickerfan/feed/sim"
)

// screenshotEnv names the file TestScreenshot writes the dashboard's picture
// to; the README's picture is made with
//
//	TICKERFAN_SCREENSHOT=$PWD/docs/dashboard.png go test ./dashboard -run Screenshot
const screenshotEnv = "TICKERFAN_SCREENSHOT"

// TestScreenshot renders the dashboard with live data at a laptop, a tablet
// and a phone width, in the light and the dark theme, and checks that the page
// filled in, fits the width, follows the theme and is not a blank picture.
func TestScreenshot(t *testing.T) {
	tf := startTickerfan(t, "127.0.0.1:0", sim.Config{Seed: 3, UpdatesPerSecond: 60, TradesPerSecond: 3})
	out := os.Getenv(screenshotEnv)
	p := newPage(t, 1360, 860)
	for _, tc := range []struct {
		name          string
		width, height int
		scheme        string
		background    string // of the body, from style.css
		file          string
	}{
		{"laptop", 1360, 860, "light", "rgb(245, 246, 248)", out},
		{"tablet", 1024, 768, "light", "rgb(245, 246, 248)", ""},
		{"phone", 390, 844, "light", "rgb(245, 246, 248)", variant(out, "phone")},
		{"dark", 1360, 860, "dark", "rgb(15, 17, 22)", variant(out, "dark")},
	} {
		t.Logf("%s: %dx%d, %s theme", tc.name, tc.width, tc.height, tc.scheme)
		p.do(chromedp.EmulateViewport(int64(tc.width), int64(tc.height)))
		p.setColorScheme(tc.scheme)
		p.do(chromedp.Navigate(tf.url() + "#BTC-USD"))
		p.waitFor(wait, "showing a book and trades",
			`__tickerfan.rendered.ready && document.querySelectorAll('[data-testid=trade]').length >= 8 &&
			 document.querySelectorAll('[data-testid=product-price]:not(:empty)').length === 8`,
			`{state: __tickerfan.state, rendered: __tickerfan.rendered}`)
		settle := 1500 * time.Millisecond // a full second of message rate and latency
		if tc.file != "" {
			settle = 6 * time.Second // a longer price history for the picture
		}
		time.Sleep(settle)
		if w := eval[float64](p, `document.documentElement.scrollWidth`); w > float64(tc.width) {
			t.Errorf("%s: page is %v px wide in a %d px viewport: it scrolls sideways", tc.name, w, tc.width)
		}
		if bg := eval[string](p, `getComputedStyle(document.body).backgroundColor`); bg != tc.background {
			t.Errorf("%s: background %s, want %s for the %s theme", tc.name, bg, tc.background, tc.scheme)
		}
		shot := run(p, chromedp.CaptureScreenshot())
		checkPicture(t, shot, tc.width, tc.height)
		if tc.file != "" {
			if err := os.WriteFile(tc.file, shot, 0o644); err != nil {
				t.Fatalf("write screenshot: %v", err)
			}
			t.Logf("wrote %s", filepath.Clean(tc.file))
		}
	}
	p.noExceptions()
}

// variant names another picture beside the main one: dashboard.png ->
// dashboard-phone.png. It is "" when no picture is wanted.
func variant(file, name string) string {
	if file == "" {
		return ""
	}
	ext := filepath.Ext(file)
	return strings.TrimSuffix(file, ext) + "-" + name + ext
}

// checkPicture decodes a PNG of the viewport and checks that it is not a
// blank page: a dashboard with data has many distinct colors.
func checkPicture(t *testing.T, shot []byte, width, height int) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != width || b.Dy() != height {
		t.Errorf("screenshot is %dx%d, want %dx%d", b.Dx(), b.Dy(), width, height)
	}
	if n := colorsIn(img); n < 50 {
		t.Errorf("screenshot has only %d distinct colors: the page looks empty", n)
	}
}

func colorsIn(img image.Image) int {
	seen := make(map[[3]uint32]bool)
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
		}
	}
	return len(seen)
}
