package transport

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"golang.org/x/sys/unix"

	"github.com/tickerfan/tickerfan/internal/testwait"
)

// startTransport serves a transport on 127.0.0.1 and shuts it down at the
// end of the test.
func startTransport(t *testing.T, cfg Config, h Handlers) (*Server, string) {
	t.Helper()
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	s, err := New(cfg, h, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "plain http")
	}), log)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	return s, ln.Addr().String()
}

// text builds a complete server text frame, as a protocol would.
func text(s string) []byte {
	b := append(make([]byte, HeaderRoom), s...)
	return Finish(b, ws.OpText)
}

func dial(t *testing.T, addr string, rcvbuf int) net.Conn {
	t.Helper()
	d := ws.Dialer{NetDial: func(ctx context.Context, network, a string) (net.Conn, error) {
		nd := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
			if rcvbuf == 0 {
				return nil
			}
			return rc.Control(func(fd uintptr) { unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, rcvbuf) })
		}}
		return nd.DialContext(ctx, network, a)
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	nc, _, _, err := d.Dial(ctx, "ws://"+addr+"/")
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { nc.Close() })
	return nc
}

// readFrame reads the next frame of any opcode within 5s.
func readFrame(t *testing.T, nc net.Conn) (ws.OpCode, []byte) {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	h, err := ws.ReadHeader(nc)
	if err != nil {
		t.Fatalf("read header: %v", err)
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(nc, p); err != nil {
		t.Fatalf("read payload: %v", err)
	}
	return h.OpCode, p
}

// readClose reads until the close frame and returns its code and reason.
func readClose(t *testing.T, nc net.Conn) (ws.StatusCode, string) {
	t.Helper()
	for {
		op, p := readFrame(t, nc)
		if op == ws.OpClose {
			return ws.ParseCloseFrameData(p)
		}
	}
}

func echo() Handlers {
	return Handlers{OnMessage: func(c *Conn, msg []byte) { c.Send(text(string(msg)), Keep, 0) }}
}

func TestEchoAndPlainHTTP(t *testing.T) {
	_, addr := startTransport(t, Config{}, echo())
	nc := dial(t, addr, 0)
	wsutil.WriteClientText(nc, []byte("hello"))
	if op, p := readFrame(t, nc); op != ws.OpText || string(p) != "hello" {
		t.Fatalf("got %v %q, want the text echoed", op, p)
	}
	resp, err := http.Get("http://" + addr + "/anything")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "plain http" {
		t.Fatalf("plain HTTP answered %q", body)
	}
}

// The transport's own closes, each with its RFC 6455 code.
func TestCloseCodes(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		send func(nc net.Conn)
		want *CloseError
	}{
		{"binary", Config{}, func(nc net.Conn) { wsutil.WriteClientBinary(nc, []byte{1}) }, ErrBinary},
		{"too big", Config{MaxMessageBytes: 1024}, func(nc net.Conn) { wsutil.WriteClientText(nc, bytes.Repeat([]byte("x"), 2000)) }, ErrTooBig},
		{"unmasked", Config{}, func(nc net.Conn) { ws.WriteFrame(nc, ws.NewTextFrame([]byte("x"))) }, ErrProtocol},
		{"flood", Config{MessagesPerSecond: 1, MessageBurst: 3}, func(nc net.Conn) {
			for i := 0; i < 10; i++ {
				wsutil.WriteClientText(nc, []byte("x"))
			}
		}, ErrRate},
		{"not ready", Config{ReadyTimeout: 300 * time.Millisecond}, func(net.Conn) {}, &CloseError{Code: 1008, Reason: "not ready in time"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, addr := startTransport(t, tc.cfg, Handlers{})
			nc := dial(t, addr, 0)
			tc.send(nc)
			if code, reason := readClose(t, nc); code != tc.want.Code || reason != tc.want.Reason {
				t.Fatalf("close %d %q, want %d %q", code, reason, tc.want.Code, tc.want.Reason)
			}
		})
	}
}

func TestPingJumpsTheQueue(t *testing.T) {
	_, addr := startTransport(t, Config{}, Handlers{})
	nc := dial(t, addr, 0)
	ws.WriteFrame(nc, ws.MaskFrame(ws.NewPingFrame([]byte("hi"))))
	if op, p := readFrame(t, nc); op != ws.OpPong || string(p) != "hi" {
		t.Fatalf("got %v %q, want pong \"hi\"", op, p)
	}
}

// A client that stops reading has its Conflate frames dropped; once its
// queue drains, OnLagging hears of the stream, and what it Restores arrives.
// Keep frames are never dropped.
func TestConflationByStreamKey(t *testing.T) {
	const key StreamKey = 42
	var mu sync.Mutex
	var lagged []StreamKey
	var conn *Conn
	h := Handlers{
		OnMessage: func(c *Conn, _ []byte) {
			mu.Lock()
			conn = c
			mu.Unlock()
			c.Ready()
		},
		OnLagging: func(c *Conn) {
			keys := c.Lagging(nil)
			mu.Lock()
			lagged = append(lagged, keys...)
			mu.Unlock()
			for _, k := range keys {
				c.Restore(k, Conflate, text("fresh"))
			}
		},
	}
	s, addr := startTransport(t, Config{MaxQueueBytes: 64 << 10, SendBufferBytes: 8 << 10, WriteTimeout: time.Minute}, h)
	nc := dial(t, addr, 4096)
	wsutil.WriteClientText(nc, []byte("go"))
	testwait.For(t, 5*time.Second, "the connection's first message", func() (string, bool) {
		mu.Lock()
		defer mu.Unlock()
		return "no message yet", conn != nil
	})
	update := text(string(bytes.Repeat([]byte("u"), 1000)))
	testwait.For(t, 10*time.Second, "conflation of a client that does not read", func() (string, bool) {
		for i := 0; i < 100; i++ {
			conn.Send(update, Conflate, key)
		}
		n := s.Stats().Conflated.Load()
		return fmt.Sprintf("%d frames conflated", n), n > 0
	})
	conn.Send(text("kept"), Keep, 0)
	var sawKept, sawFresh bool
	testwait.For(t, 10*time.Second, "the kept frame, then the restored state", func() (string, bool) {
		op, p := readFrame(t, nc)
		sawKept = sawKept || (op == ws.OpText && string(p) == "kept")
		sawFresh = sawFresh || (sawKept && op == ws.OpText && string(p) == "fresh")
		return fmt.Sprintf("kept %v fresh %v", sawKept, sawFresh), sawFresh
	})
	mu.Lock()
	defer mu.Unlock()
	if len(lagged) == 0 || lagged[0] != key {
		t.Fatalf("OnLagging saw %v, want [%d]", lagged, key)
	}
}

// A read that cannot be re-armed in the poller closes the connection and is
// counted, instead of leaving the socket unread until the ping timeout.
func TestFailedReArmClosesAndCounts(t *testing.T) {
	closed := make(chan struct{})
	var srv atomic.Pointer[Server]
	h := Handlers{
		OnMessage: func(c *Conn, _ []byte) {
			srv.Load().readPoller.Remove(c.fd) // the next re-arm fails
		},
		OnClose: func(*Conn) { close(closed) },
	}
	s, addr := startTransport(t, Config{}, h)
	srv.Store(s)
	nc := dial(t, addr, 0)
	wsutil.WriteClientText(nc, []byte("x"))
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the connection was not closed after its re-arm failed")
	}
	if n := s.Stats().Errors()["read_poller_resume"]; n != 1 {
		t.Fatalf("read_poller_resume errors = %d, want 1 (all: %v)", n, s.Stats().Errors())
	}
}

// During Shutdown, clients get 1001 and new upgrades get 503.
func TestShutdownGoingAway(t *testing.T) {
	s, addr := startTransport(t, Config{}, Handlers{})
	nc := dial(t, addr, 0)
	go s.Shutdown(context.Background())
	if code, reason := readClose(t, nc); code != ws.StatusGoingAway || reason != "server shutting down" {
		t.Fatalf("close %d %q, want 1001", code, reason)
	}
	testwait.For(t, 5*time.Second, "the listener to close", func() (string, bool) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return err.Error(), true
		}
		c.Close()
		return "still accepting", false
	})
}

// A queued frame stays 32 bytes: every subscriber's queue holds one per
// message, and 40 bytes cost the fan-out a third more per subscriber.
func TestFrameIs32Bytes(t *testing.T) {
	if n := unsafe.Sizeof(frame{}); n != 32 {
		t.Fatalf("frame is %d bytes, want 32", n)
	}
	f := frame{tag: tagOf(Conflate, MaxStreamKey-1)}
	if f.class() != Conflate || f.key() != MaxStreamKey-1 {
		t.Fatalf("tag round trip: class %d key %d", f.class(), f.key())
	}
}

// Once a connection is behind (its oldest unwritten frame older than
// latestAfter), a Latest frame replaces the queued, unwritten frame of its
// stream: a client that does not read stops accumulating frames, and gets
// the newest of each stream once it reads, in order per stream and never
// conflated. Before that, frames queue as they come.
func TestLatestReplacesQueuedFrame(t *testing.T) {
	var mu sync.Mutex
	var conn *Conn
	h := Handlers{OnMessage: func(c *Conn, _ []byte) {
		mu.Lock()
		conn = c
		mu.Unlock()
		c.Ready()
	}}
	s, addr := startTransport(t, Config{MaxQueueBytes: 64 << 20, MaxQueueDelay: -1, SendBufferBytes: 8 << 10, WriteTimeout: time.Minute}, h)
	nc := dial(t, addr, 4096)
	wsutil.WriteClientText(nc, []byte("go"))
	testwait.For(t, 5*time.Second, "the connection's first message", func() (string, bool) {
		mu.Lock()
		defer mu.Unlock()
		return "no message yet", conn != nil
	})
	pad := string(bytes.Repeat([]byte("p"), 1000))
	n := 0
	send := func(count int) {
		for range count {
			n++
			conn.Send(text(fmt.Sprintf("a %06d %s", n, pad)), Latest, 1)
			conn.Send(text(fmt.Sprintf("b %06d %s", n, pad)), Latest, 2)
		}
	}
	queued := func() int {
		conn.mu.Lock()
		defer conn.mu.Unlock()
		return len(conn.out)
	}
	send(200) // more than the socket takes: a backlog, queued as it came
	before := queued()
	if before < 100 || s.Stats().Replaced.Load() != 0 {
		t.Fatalf("%d frames queued, %d replaced; want a fresh backlog kept whole", before, s.Stats().Replaced.Load())
	}
	testwait.For(t, 5*time.Second, "the backlog to age past latestAfter", func() (string, bool) {
		conn.mu.Lock()
		defer conn.mu.Unlock()
		return fmt.Sprintf("clock %d, oldest queued at %d", s.clock.Load(), conn.out[conn.firstMovable()].at),
			conn.behindLocked(s.clock.Load())
	})
	send(5000)
	// Behind, each stream's newest replaces its previous one (a frame a
	// write had started on aside): the queue grows by one per stream at most.
	if after := queued(); after > before+2 {
		t.Fatalf("%d frames queued after 10,000 more, %d before; want the newest of each stream", after, before)
	}
	if s.Stats().Replaced.Load() == 0 || s.Stats().Conflated.Load() != 0 {
		t.Fatalf("replaced %d, conflated %d; want replacements and no conflation",
			s.Stats().Replaced.Load(), s.Stats().Conflated.Load())
	}
	last := map[byte]int{}
	testwait.For(t, 10*time.Second, "the newest frame of both streams", func() (string, bool) {
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		h, err := ws.ReadHeader(nc)
		if err != nil {
			conn.mu.Lock()
			defer conn.mu.Unlock()
			t.Fatalf("after %v: %v; queue %d, flushing %v awaitWrite %v", last, err, len(conn.out), conn.flushing, conn.awaitWrite)
		}
		p := make([]byte, h.Length)
		io.ReadFull(nc, p)
		var stream byte
		var got int
		fmt.Sscanf(string(p), "%c %d", &stream, &got)
		if got <= last[stream] {
			t.Fatalf("stream %c: %d after %d", stream, got, last[stream])
		}
		last[stream] = got
		return fmt.Sprint(last), last['a'] == n && last['b'] == n
	})
}
