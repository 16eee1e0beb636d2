package main

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

func dialWS(t *testing.T, addr string) net.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	nc, _, _, err := ws.Dial(ctx, "ws://"+addr+"/")
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { nc.Close() })
	return nc
}

// subscribe sends msg and waits for the subscriptions reply.
func subscribe(t *testing.T, nc net.Conn, msg string) {
	t.Helper()
	if err := wsutil.WriteClientText(nc, []byte(msg)); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	defer nc.SetReadDeadline(time.Time{})
	data, err := wsutil.ReadServerText(nc)
	if err != nil || !contains(data, `"type":"subscriptions"`) {
		t.Fatalf("subscribe reply %q, %v", data, err)
	}
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }

// readClose reads until the close frame and returns its code and reason.
func readClose(t *testing.T, nc net.Conn, d time.Duration) (ws.StatusCode, string) {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(d))
	for {
		h, err := ws.ReadHeader(nc)
		if err != nil {
			t.Fatalf("no close frame: %v", err)
		}
		payload := make([]byte, h.Length)
		if _, err := io.ReadFull(nc, payload); err != nil {
			t.Fatalf("payload: %v", err)
		}
		if h.OpCode == ws.OpClose {
			return ws.ParseCloseFrameData(payload)
		}
	}
}
