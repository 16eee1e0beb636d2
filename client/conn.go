package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// conn is one WebSocket connection. Its frames are written under wr; only
// the run goroutine reads.
type conn struct {
	nc        net.Conn
	wr        sync.Mutex
	rd        *wsutil.Reader
	closeOnce sync.Once
	stopPing  chan struct{}
}

// errLost is what a request in flight gets when its connection ends; the
// subscription state is sent again on the next one.
var errLost = errors.New("client: connection lost")

func dial(ctx context.Context, cfg Config) (*conn, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	defer cancel()
	d := ws.Dialer{TLSConfig: cfg.TLS}
	nc, br, _, err := d.Dial(ctx, cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("client: dial %s: %w", cfg.URL, err)
	}
	var src io.Reader = nc
	if br != nil { // bytes the handshake read past the response
		src = io.MultiReader(br, nc)
	}
	c := &conn{nc: nc, stopPing: make(chan struct{})}
	c.rd = &wsutil.Reader{Source: src, State: ws.StateClientSide, CheckUTF8: true,
		OnIntermediate: c.control, MaxFrameSize: 64 << 20}
	return c, nil
}

// write sends one text frame.
func (c *conn) write(data []byte) error {
	c.wr.Lock()
	defer c.wr.Unlock()
	c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return wsutil.WriteClientText(c.nc, data)
}

// control answers the server's control frames: a ping gets its pong, a
// close ends the connection with the server's code and reason.
func (c *conn) control(h ws.Header, r io.Reader) error {
	payload, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	switch h.OpCode {
	case ws.OpPing:
		c.wr.Lock()
		defer c.wr.Unlock()
		return ws.WriteFrame(c.nc, ws.MaskFrame(ws.NewPongFrame(payload)))
	case ws.OpClose:
		code, reason := ws.ParseCloseFrameData(payload)
		c.wr.Lock()
		ws.WriteFrame(c.nc, ws.MaskFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(code, ""))))
		c.wr.Unlock()
		return fmt.Errorf("client: server closed the connection: %d %s", code, reason)
	}
	return nil
}

// next returns the next data message. Control frames are handled on the
// way; a connection silent for timeout is an error.
func (c *conn) next(timeout time.Duration) ([]byte, error) {
	for {
		c.nc.SetReadDeadline(time.Now().Add(timeout))
		h, err := c.rd.NextFrame()
		if err != nil {
			return nil, err
		}
		if h.OpCode.IsControl() {
			if err := c.control(h, c.rd); err != nil {
				return nil, err
			}
			continue
		}
		data, err := io.ReadAll(c.rd)
		if err != nil {
			return nil, err
		}
		if h.OpCode == ws.OpText {
			return data, nil
		}
	}
}

// ping sends a ping every interval until close. The run goroutine starts
// it for each connection; close stops it.
func (c *conn) ping(interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-c.stopPing:
			return
		case <-t.C:
			c.wr.Lock()
			c.nc.SetWriteDeadline(time.Now().Add(interval))
			err := ws.WriteFrame(c.nc, ws.MaskFrame(ws.NewPingFrame(nil)))
			c.wr.Unlock()
			if err != nil {
				return
			}
		}
	}
}

func (c *conn) close() {
	c.closeOnce.Do(func() {
		close(c.stopPing)
		c.nc.Close()
	})
}
