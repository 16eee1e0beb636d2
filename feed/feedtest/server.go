package feedtest

import (
	"encoding/json"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// Server is a real WebSocket server on 127.0.0.1 that runs a handler per
// connection. Kill drops it like a crashed upstream; Restart brings it back
// on the same port. The test's cleanup kills it.
type Server struct {
	tb      testing.TB
	handler func(*Conn)
	addr    string

	mu    sync.Mutex
	ln    net.Listener
	conns map[*Conn]bool
	wg    sync.WaitGroup // accept loop and handlers

	accepted atomic.Int64
}

// NewServer listens on a free port of 127.0.0.1 and serves each WebSocket
// connection with handler, on its own goroutine; the connection closes when
// handler returns.
func NewServer(tb testing.TB, handler func(*Conn)) *Server {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("feedtest: listen: %v", err)
	}
	s := &Server{tb: tb, handler: handler, addr: ln.Addr().String(), conns: map[*Conn]bool{}}
	s.serve(ln)
	tb.Cleanup(s.Kill)
	return s
}

// URL is the server's ws:// URL.
func (s *Server) URL() string { return "ws://" + s.addr + "/" }

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.addr }

// Accepted counts the WebSocket connections accepted so far.
func (s *Server) Accepted() int { return int(s.accepted.Load()) }

func (s *Server) serve(ln net.Listener) {
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go s.handle(nc)
		}
	}()
}

func (s *Server) handle(nc net.Conn) {
	defer s.wg.Done()
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := ws.Upgrade(nc); err != nil {
		return
	}
	nc.SetDeadline(time.Time{})
	c := &Conn{nc: nc, reqs: make(chan Request, 1024), closed: make(chan struct{})}
	s.mu.Lock()
	if s.ln == nil {
		s.mu.Unlock()
		return
	}
	s.conns[c] = true
	s.mu.Unlock()
	s.accepted.Add(1)
	go c.readLoop()
	s.handler(c)
	c.Close()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// Kill closes the listener and every connection at once, without close
// frames, and waits for the handlers to return.
func (s *Server) Kill() {
	s.mu.Lock()
	if s.ln != nil {
		s.ln.Close()
		s.ln = nil
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Restart listens on the same address again after Kill.
func (s *Server) Restart() {
	s.tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ln, err := net.Listen("tcp", s.addr)
		if err == nil {
			s.serve(ln)
			return
		}
		if time.Now().After(deadline) {
			s.tb.Fatalf("feedtest: listen again on %s: %v", s.addr, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Request is a message a client sent: a subscribe or unsubscribe, or
// anything else (Type as sent, Raw always).
type Request struct {
	Type       string
	ProductIDs []string
	// Channels are the channel names; an object's own product ids are
	// merged into ProductIDs.
	Channels   []string
	Key        string
	Passphrase string
	Signature  string
	Timestamp  string
	Raw        []byte
}

type requestJSON struct {
	Type       string            `json:"type"`
	ProductIDs []string          `json:"product_ids"`
	Channels   []json.RawMessage `json:"channels"`
	Key        string            `json:"key"`
	Passphrase string            `json:"passphrase"`
	Signature  string            `json:"signature"`
	Timestamp  json.RawMessage   `json:"timestamp"`
}

func parseRequest(raw []byte) Request {
	var j requestJSON
	json.Unmarshal(raw, &j)
	r := Request{Type: j.Type, ProductIDs: j.ProductIDs, Key: j.Key, Passphrase: j.Passphrase, Signature: j.Signature, Raw: raw}
	var ts string
	if json.Unmarshal(j.Timestamp, &ts) != nil {
		ts = string(j.Timestamp)
	}
	r.Timestamp = ts
	for _, ch := range j.Channels {
		var name string
		if json.Unmarshal(ch, &name) == nil {
			r.Channels = append(r.Channels, name)
			continue
		}
		var obj struct {
			Name       string   `json:"name"`
			ProductIDs []string `json:"product_ids"`
		}
		json.Unmarshal(ch, &obj)
		r.Channels = append(r.Channels, obj.Name)
		r.ProductIDs = append(r.ProductIDs, obj.ProductIDs...)
	}
	return r
}

// Conn is one client connection of a Server.
type Conn struct {
	nc     net.Conn
	wmu    sync.Mutex
	reqs   chan Request
	closed chan struct{}
	once   sync.Once
}

// ErrClosed is returned by Conn.Next once the connection is closed.
var ErrClosed = errors.New("feedtest: connection closed")

// ErrTimeout is returned by Conn.Next when no request came in time.
var ErrTimeout = errors.New("feedtest: no request in time")

func (c *Conn) readLoop() {
	defer close(c.reqs)
	for {
		data, op, err := wsutil.ReadClientData(c.nc)
		if err != nil {
			c.Close()
			return
		}
		if op != ws.OpText {
			continue
		}
		select {
		case c.reqs <- parseRequest(data):
		case <-c.closed:
			return
		}
	}
}

// Send writes one text message.
func (c *Conn) Send(data []byte) error { return c.SendFrame(ws.OpText, data) }

// SendFrame writes one message with the given opcode (binary garbage, a
// close frame, ...).
func (c *Conn) SendFrame(op ws.OpCode, data []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return wsutil.WriteServerMessage(c.nc, op, data)
}

// SendRaw writes bytes as they are: a frame header alone, half a frame.
func (c *Conn) SendRaw(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := c.nc.Write(b)
	return err
}

// Next returns the next request, waiting up to d.
func (c *Conn) Next(d time.Duration) (Request, error) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case r, ok := <-c.reqs:
		if !ok {
			return Request{}, ErrClosed
		}
		return r, nil
	case <-t.C:
		return Request{}, ErrTimeout
	}
}

// Requests delivers the client's requests; it is closed with the connection.
func (c *Conn) Requests() <-chan Request { return c.reqs }

// Closed is closed when the connection is.
func (c *Conn) Closed() <-chan struct{} { return c.closed }

// Close closes the connection without a close frame.
func (c *Conn) Close() {
	c.once.Do(func() {
		close(c.closed)
		c.nc.Close()
	})
}
