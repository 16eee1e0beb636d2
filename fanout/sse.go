package fanout

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/tickerfan/tickerfan/fanout/transport"
	"github.com/tickerfan/tickerfan/internal/jsonw"
)

// Server-sent events: GET /sse?product_ids=..&channels=..[&checksum=1] is
// the feed one way (a parameter named after a channel gives that channel its
// own products: &ticker=BTC-USD,ETH-USD), for browsers behind proxies that refuse WebSocket. The
// query is the one subscribe the stream ever gets; the events carry the same
// JSON, in the same order, as the WebSocket frames (they are the same bytes:
// the transport writes the frames' payloads as events). Level2 events carry
// an id naming the last sequence of every level2 stream the connection
// follows, so a reconnecting EventSource's Last-Event-ID resumes them.

// sseRetryMillis is the reconnection delay sent to browsers: about the
// dashboard's first WebSocket retry.
const sseRetryMillis = 1000

// serveEvents answers GET /sse: 403 for a foreign Origin, 400 with a JSON
// error for a bad query, 503 while draining or full; otherwise the
// transport takes the connection and it is subscribed as the query says.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if !s.tr.CheckOrigin(origin) {
		writeJSON(w, http.StatusForbidden, map[string]string{"message": "Forbidden", "reason": "origin not allowed"})
		return
	}
	req, last, re := s.parseEventsQuery(r.URL.Query())
	if re == nil && s.auth != nil {
		if reason := s.auth.verify(req.signed); reason != "" {
			re = &requestError{message: "Failed to subscribe", reason: reason}
		}
	}
	if re != nil {
		s.metrics.requestErrors.Add(1)
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": re.message, "reason": re.reason})
		return
	}
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		last = id
	}
	ids := &eventIDs{cat: s.cat}
	resume := ids.parse(last)
	c, err := s.tr.TakeEvents(w, transport.EventStreamHead(sseRetryMillis, origin), ids)
	if err != nil {
		s.log.Debug("event stream refused", zap.Error(err), zap.String("remote", r.RemoteAddr))
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"message": "Unavailable", "reason": "server shutting down or full"})
		return
	}
	if sess := s.sessions.get(c); sess != nil {
		s.subscribeEvents(c, sess, req, resume)
	}
}

// sseParams are the query parameters /sse takes.
var sseParams = map[string]bool{"product_ids": true, "channels": true, "checksum": true, "last_event_id": true}

// parseEventsQuery turns the query into the subscribe it stands for, checked
// as a WebSocket subscribe is; last is last_event_id (the Last-Event-ID of a
// page that opens a new EventSource).
func (s *Server) parseEventsQuery(q url.Values) (*request, string, *requestError) {
	w := wireRequest{Type: "subscribe", ProductIDs: list(q["product_ids"])}
	for _, ch := range list(q["channels"]) {
		raw, _ := json.Marshal(ch) // a string always marshals
		w.Channels = append(w.Channels, raw)
	}
	for k, v := range q {
		if _, known := lookupChannel(k); known {
			// A channel's own products, as {"name":..,"product_ids":[..]} in a subscribe.
			raw, _ := json.Marshal(wireChannel{Name: k, ProductIDs: list(v)})
			w.Channels = append(w.Channels, raw)
			continue
		}
		if !sseParams[k] {
			return nil, "", &requestError{message: "Failed to subscribe", reason: "unknown query parameter " + jsonw.Clip(k, maxEcho) +
				": /sse takes product_ids, channels, a channel's own products (ticker=A,B), checksum and last_event_id"}
		}
	}
	switch v := q.Get("checksum"); v {
	case "", "0", "false":
	case "1", "true":
		w.Checksum = true
	default:
		return nil, "", &requestError{message: "Failed to subscribe", reason: "checksum must be 1 or true (got " + jsonw.Clip(v, maxEcho) + ")"}
	}
	data, _ := json.Marshal(&w) // plain strings and bools always marshal
	req, err := parseRequest(data, s.cat.index)
	if err != nil {
		if re, ok := err.(*requestError); ok {
			return nil, "", re
		}
		return nil, "", &requestError{message: "Failed to subscribe", reason: err.Error()}
	}
	return req, q.Get("last_event_id"), nil
}

// list splits comma-separated values; a parameter may also repeat.
func list(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

// subscribeEvents subscribes an event stream as apply does a first
// subscribe (reply first, then each product's state in channel order), but
// resumes each level2 stream from its own sequence: a resume id names
// level2 and level2_batch apart, where the WebSocket extension has one
// number per product.
func (s *Server) subscribeEvents(c *transport.Conn, sess *session, req *request, resume map[transport.StreamKey]uint64) {
	n := len(s.cat.products)
	sess.mu.Lock()
	if sess.closed {
		sess.mu.Unlock()
		return
	}
	sess.subs = make([]channelMask, n)
	for p, m := range req.want {
		sess.subs[p] = m
	}
	sess.status = req.status
	reply := encodeSubscriptions(s.entries(sess))
	subs := sess.subs
	sess.mu.Unlock()
	c.Send(reply, transport.Keep, 0)
	for p := 0; p < n; p++ {
		for ch := channel(0); ch < numChannels; ch++ {
			if !subs[p].has(ch) {
				continue
			}
			seen, ok := resume[streamKey(productIndex(p), ch)]
			s.hub.subscribe(c, subscription{product: p, channels: maskOf(ch), checksum: req.checksum, resume: ok, seen: seen})
		}
	}
	if req.status {
		s.hub.status.add(c)
	}
}

// eventIDs is an event stream's transport.EventIDs: the id of a level2
// event lists, for every level2 stream the connection has had an event of,
// "PRODUCT/CHANNEL:SEQUENCE", comma-separated, in the order first seen
// ("BTC-USD/level2:1796188524483639,ETH-USD/level2_batch:1796188524483700").
// Only the connection's flush calls AppendID; parse runs before it.
type eventIDs struct {
	cat  *catalog
	keys []transport.StreamKey
	seqs []uint64
}

var _ transport.EventIDs = (*eventIDs)(nil)

// AppendID appends the id of a level2 event and nothing for other events
// (the browser keeps the last id it saw).
func (e *eventIDs) AppendID(dst []byte, class transport.Class, key transport.StreamKey, payload []byte) []byte {
	if class != transport.Conflate {
		return dst
	}
	if _, ch := splitKey(key); !ch.isLevel2() {
		return dst
	}
	seq, ok := lastSequence(payload)
	if !ok {
		return dst
	}
	e.set(key, seq)
	for i, k := range e.keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		idx, ch := splitKey(k)
		dst = append(dst, e.cat.ids[idx]...)
		dst = append(dst, '/')
		dst = append(dst, ch.String()...)
		dst = append(dst, ':')
		dst = strconv.AppendUint(dst, e.seqs[i], 10)
	}
	return dst
}

func (e *eventIDs) set(key transport.StreamKey, seq uint64) {
	for i, k := range e.keys {
		if k == key {
			e.seqs[i] = seq
			return
		}
	}
	e.keys = append(e.keys, key)
	e.seqs = append(e.seqs, seq)
}

// parse reads an id AppendID wrote (a Last-Event-ID) into the streams to
// resume, and starts the ids from it: until a stream has an event on this
// connection, the client's book of it is the one the id names. Parts it
// cannot read (a product no longer served, a foreign id) are skipped: those
// streams get a snapshot.
func (e *eventIDs) parse(id string) map[transport.StreamKey]uint64 {
	if id == "" {
		return nil
	}
	out := make(map[transport.StreamKey]uint64)
	for _, part := range strings.Split(id, ",") {
		name, seqText, ok1 := cutLast(part, ":")
		product, chName, ok2 := cutLast(name, "/")
		idx, ok3 := e.cat.index[product]
		ch, ok4 := lookupChannel(chName)
		seq, err := strconv.ParseUint(seqText, 10, 64)
		if !ok1 || !ok2 || !ok3 || !ok4 || !ch.isLevel2() || err != nil {
			continue
		}
		key := streamKey(productIndex(idx), ch)
		out[key] = seq
		e.set(key, seq)
	}
	return out
}

func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

var sequenceKey = []byte(`"sequence":`)

// lastSequence reads the level2 sequence of a snapshot or l2update payload:
// the encoder writes it last but for the checksum, so it is found from the
// end without reading a deep book.
func lastSequence(payload []byte) (uint64, bool) {
	i := bytes.LastIndex(payload, sequenceKey)
	if i < 0 {
		return 0, false
	}
	rest := payload[i+len(sequenceKey):]
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	seq, err := strconv.ParseUint(string(rest[:end]), 10, 64)
	return seq, err == nil
}
