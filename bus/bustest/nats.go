// Package bustest runs a real NATS server, embedded through the
// nats-server module, on 127.0.0.1 for tests of the bus: never a mock. A test
// can stop it and start it again on the same port, as a NATS restart.
package bustest

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// NATS is one embedded server. Stop and Start are for the test's goroutine.
type NATS struct {
	t    testing.TB
	port int
	srv  *server.Server
}

// Start runs a server on a free port of 127.0.0.1, stopped when the test ends.
func Start(t testing.TB) *NATS {
	t.Helper()
	n := &NATS{t: t, port: -1}
	n.Start()
	t.Cleanup(n.Stop)
	return n
}

// Start (re)starts the server, on the port it had before if it had one.
func (n *NATS) Start() {
	n.t.Helper()
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: n.port, NoLog: true, NoSigs: true})
	if err != nil {
		n.t.Fatal(err)
	}
	srv.Start()
	if !srv.ReadyForConnections(5 * time.Second) {
		n.t.Fatal("nats server not ready in 5s")
	}
	n.srv, n.port = srv, srv.Addr().(*net.TCPAddr).Port
}

// Stop shuts the server down and waits for it; stopping twice is fine.
func (n *NATS) Stop() {
	if n.srv != nil {
		n.srv.Shutdown()
		n.srv.WaitForShutdown()
		n.srv = nil
	}
}

// URL is the server's client URL.
func (n *NATS) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.port) }
