package bench

import (
	"bytes"
	"context"
	"errors"

	"net/url"
	"strings"
	"time"
)

// Transports a Profile may drive.
const (
	TransportWebSocket = "websocket"
	TransportSSE       = "sse"
)

// ErrEventStream is returned for an event stream that does not open with
// HTTP 200 or whose head is over 8 KiB.
var ErrEventStream = errors.New("bench: event stream refused")

var (
	headEnd   = []byte("\r\n\r\n")
	eventEnd  = []byte("\n\n")
	dataField = []byte("data: ")
)

// sseRequest is the GET that opens an event stream of products.
func (s *Swarm) sseRequest(products []int32) []byte {
	ids := make([]string, len(products))
	for i, p := range products {
		ids[i] = s.products[p]
	}
	u, _ := url.Parse(s.url) // validated by the Profile
	q := url.Values{"product_ids": {strings.Join(ids, ",")}, "channels": {strings.Join(s.cfg.Channels, ",")}}
	return []byte("GET /sse?" + q.Encode() + " HTTP/1.1\r\nHost: " + u.Host + "\r\nAccept: text/event-stream\r\n\r\n")
}

// dialSSE opens subscriber i as an event stream: the request is its
// subscription, and its reader parses the response head, then the events
// (parseSSE), with the same measurements as a WebSocket subscriber.
func (s *Swarm) dialSSE(ctx context.Context, i, group int) {
	u, _ := url.Parse(s.url)
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ConnectTimeout)
	defer cancel()
	start := time.Now()
	nc, err := s.netDial(i, group)(ctx, "tcp", u.Host)
	if err != nil {
		s.connectFailed(err)
		return
	}
	s.start(nc, i, group, time.Since(start), func(c *conn) []byte {
		c.sse = true
		return s.sseRequest(c.products)
	})
}

// parseSSE is parse for an event stream: the HTTP head once, then each
// complete event's data line is one message. The reader's mu must be held.
func (c *conn) parseSSE(t *tally, live *liveStats, recv int64) error {
	b := c.in.Bytes()
	if !c.sseOpen {
		i := bytes.Index(b, headEnd)
		switch {
		case i < 0 && len(b) > 8192:
			return ErrEventStream
		case i < 0:
			return nil
		case !bytes.HasPrefix(b, []byte("HTTP/1.1 200 ")):
			line, _, _ := bytes.Cut(b, []byte("\r\n"))
			return errors.Join(ErrEventStream, errors.New(string(line)))
		}
		c.sseOpen = true
		b = b[i+len(headEnd):]
	}
	for {
		i := bytes.Index(b, eventEnd)
		if i < 0 {
			break
		}
		for _, line := range bytes.Split(b[:i], []byte("\n")) {
			if data, ok := bytes.CutPrefix(line, dataField); ok {
				c.message(t, live, recv, data)
			}
		}
		b = b[i+len(eventEnd):]
	}
	c.in.Keep(b, 0)
	return nil
}
