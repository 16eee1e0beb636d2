package deploy

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tickerfan/tickerfan/client"
	"github.com/tickerfan/tickerfan/feed/sim"
	"github.com/tickerfan/tickerfan/internal/testwait"
	"github.com/tickerfan/tickerfan/internal/tftest"
	"github.com/tickerfan/tickerfan/model"
)

// TestTLSInFront starts the real nginx with nginx.conf and a throw-away
// certificate in front of an in-process tickerfan, subscribes through
// wss:// with the Go client (trusting only the test CA), and checks the
// snapshot-then-updates book is exact against the REST book read through
// https://.
func TestTLSInFront(t *testing.T) {
	bin := findNginx(t)
	dir := t.TempDir()
	pool := writeCertificate(t, dir)
	tf := startTickerfan(t)
	listen := freeAddr(t)
	startNginx(t, bin, dir, listen, tf.Addr)
	tlsCfg := &tls.Config{RootCAs: pool}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Config{URL: "wss://" + listen + "/", TLS: tlsCfg, Checksum: true})
	if err != nil {
		t.Fatalf("dial through nginx: %v", err)
	}
	defer c.Close()
	go func() {
		if err := c.Subscribe(ctx, []string{"BTC-USD"}, "level2"); err != nil {
			t.Errorf("Subscribe: %v", err)
		}
	}()
	var types []string
	for m := range c.Messages() {
		if m.Type() == "snapshot" || m.Type() == "l2update" {
			types = append(types, m.Type())
		}
		if len(types) == 30 || ctx.Err() != nil {
			break
		}
	}
	if len(types) < 30 || types[0] != "snapshot" || slices.Index(types[1:], "snapshot") >= 0 {
		t.Fatalf("level2 through nginx: %v, want a snapshot then 29 l2updates", types)
	}
	go func() { // keep reading until the client is closed
		for range c.Messages() {
		}
	}()
	tf.Quiet()
	https := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg}, Timeout: 5 * time.Second}
	checkFor(t, 10*time.Second, func() string { return sameBook(t, https, listen, c) })
	if st := c.Stats(); st.Checksums < 30 || st.Resyncs != 0 {
		t.Errorf("stats %+v: want every update checksum-verified, no resync", st)
	}
}

// findNginx returns the nginx binary. Missing, the test fails under CI
// (.ci/run installs Debian's nginx-light) and is skipped, loudly, elsewhere.
func findNginx(t *testing.T) string {
	for _, p := range []string{"nginx", "/usr/sbin/nginx"} {
		if bin, err := exec.LookPath(p); err == nil {
			return bin
		}
	}
	const msg = "nginx not found: install the Debian package nginx-light (.ci/run does) to run the TLS test"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Log("SKIPPING: " + msg)
	t.Skip(msg)
	return ""
}

// writeCertificate makes a CA and a certificate for 127.0.0.1 signed by it,
// writes cert.pem and key.pem into dir, and returns a pool trusting the CA.
func writeCertificate(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tickerfan test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	writePEM(t, filepath.Join(dir, "cert.pem"), "CERTIFICATE", der)
	writePEM(t, filepath.Join(dir, "key.pem"), "EC PRIVATE KEY", keyDER)
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return pool
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// startNginx fills the placeholders of nginx.conf and runs nginx in the
// foreground with its prefix in dir, until the test ends.
func startNginx(t *testing.T, bin, dir, listen, upstream string) {
	t.Helper()
	conf, err := os.ReadFile("nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	filled := strings.NewReplacer("__LISTEN__", listen, "__UPSTREAM__", upstream,
		"__CERT__", filepath.Join(dir, "cert.pem"), "__KEY__", filepath.Join(dir, "key.pem"), "__RUNDIR__", dir).Replace(string(conf))
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(filled), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "-p", dir, "-c", path, "-e", "stderr", "-g", "daemon off;")
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGQUIT) // graceful: nginx's own workers stop with it
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx output:\n%s\nerror.log:\n%s", stderr.String(), log)
		}
	})
	checkFor(t, 10*time.Second, func() string {
		select {
		case err := <-exited:
			t.Fatalf("nginx exited: %v\n%s", err, stderr.String())
		default:
		}
		conn, err := tls.Dial("tcp", listen, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			return "nginx not answering TLS: " + err.Error()
		}
		conn.Close()
		return ""
	})
}

// sameBook compares the client's BTC-USD book with the REST book read
// through nginx; "" when they are equal, text for text.
func sameBook(t *testing.T, https *http.Client, listen string, c *client.Client) string {
	resp, err := https.Get("https://" + listen + "/products/BTC-USD/book?level=2")
	if err != nil {
		return "GET book over https: " + err.Error()
	}
	defer resp.Body.Close()
	var rest struct {
		Bids, Asks []client.Level
		Sequence   uint64
	}
	if err := json.NewDecoder(resp.Body).Decode(&rest); err != nil {
		return err.Error()
	}
	b, ok := c.Book("BTC-USD")
	if !ok {
		return "the client holds no book"
	}
	if b.Sequence != rest.Sequence {
		return fmt.Sprintf("client at sequence %d, server at %d", b.Sequence, rest.Sequence)
	}
	text := func(ls []client.Level) (out []string) {
		for _, l := range ls {
			out = append(out, l.PriceText()+"@"+l.SizeText())
		}
		return out
	}
	if !slices.Equal(text(b.Bids()), text(rest.Bids)) || !slices.Equal(text(b.Asks()), text(rest.Asks)) || len(rest.Bids) == 0 {
		return fmt.Sprintf("books differ:\nclient %v / %v\nserver %v / %v", text(b.Bids()), text(b.Asks()), text(rest.Bids), text(rest.Asks))
	}
	return ""
}

// startTickerfan starts an in-process tickerfan (internal/tftest) with two
// products.
func startTickerfan(t *testing.T) *tftest.Server {
	t.Helper()
	return tftest.Start(t, tftest.Options{Products: model.DefaultProducts()[:2], Sim: sim.Config{UpdatesPerSecond: 100}})
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// checkFor polls cond until it returns "" or d passes, then fails with what
// cond last said.
func checkFor(t *testing.T, d time.Duration, cond func() string) {
	t.Helper()
	testwait.For(t, d, "the condition", func() (string, bool) {
		msg := cond()
		return msg, msg == ""
	})
}
