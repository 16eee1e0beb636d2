package bench

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tickerfan/tickerfan/internal/testwait"
)

var (
	buildDir  string
	buildOnce sync.Once
	buildBin  string
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tickerbench-test")
	if err != nil {
		panic(err)
	}
	buildDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// tickerfanBinary builds ./cmd/tickerfan once per test run; the
// TICKERFAN_BIN environment variable names a prebuilt one instead.
func tickerfanBinary(t testing.TB) string {
	t.Helper()
	if bin := os.Getenv("TICKERFAN_BIN"); bin != "" {
		return bin
	}
	buildOnce.Do(func() {
		buildBin = filepath.Join(buildDir, "tickerfan")
		out, err := exec.Command("go", "build", "-o", buildBin, "../cmd/tickerfan").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("build tickerfan: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildBin
}

// tickerfan is a tickerfan process started for a test.
type tickerfan struct {
	addr string
	pid  int
}

// startTickerfan runs tickerfan on a free 127.0.0.1 port with the given
// config (YAML; "" for the embedded default) until the test ends.
func startTickerfan(t *testing.T, config string) *tickerfan {
	t.Helper()
	bin := tickerfanBinary(t)
	addr, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"-listen", addr, "-log-level", "warn"}
	if config != "" {
		path := filepath.Join(t.TempDir(), "tickerfan.yaml")
		if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-config", path)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	testwait.For(t, 15*time.Second, "tickerfan healthy", func() (string, bool) {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return err.Error(), false
		}
		resp.Body.Close()
		return resp.Status, resp.StatusCode == http.StatusOK
	})
	return &tickerfan{addr: addr, pid: cmd.Process.Pid}
}

// quickProfile is a short, small run against addr.
func quickProfile(addr string) Profile {
	return Profile{
		Target: "ws://" + addr + "/", Connections: 100, ConnectRate: 2000, Warmup: time.Second,
		Duration: 2 * time.Second, Output: OutputProfile{Quiet: true},
	}
}

func execute(t *testing.T, p Profile) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := Execute(ctx, p, nil)
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	if res.StoppedEarly {
		t.Fatal("run stopped early")
	}
	return res
}
