package record

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"strings"
	"time"
)

// Writer keeps the raw messages of an upstream with their receive times,
// so that an incident or a market day can be kept and replayed (Replay,
// Reader). The file is JSON lines, one record per line:
//
//	{"recv":"2026-11-21T12:00:00.123456789Z","msg":{"type":"l2update",...}}
//	{"recv":"...","raw":"not json"}
//	{"recv":"...","event":"connected","url":"wss://...","products":["BTC-USD"],"channels":["level2",...]}
//	{"recv":"...","event":"disconnected","reason":"feed: upstream stale"}
//
// msg is the upstream message byte for byte (only compacted when it spans
// lines); a message that is not JSON is kept as the string raw (invalid UTF-8
// replaced). The connection events let a replay start its sessions where the
// live feed did; credentials are never recorded.
//
// A path ending in .gz is written gzip-compressed. An existing file is
// appended to (a gzip file gets a new member, which gzip readers join), so a
// restarted recorder does not lose what was kept. Buffered data is flushed
// at least once a second of traffic, and by Flush and Close.
//
// A nil *Writer records nothing: every method is a no-op. Not safe for
// concurrent use.
type Writer struct {
	f         io.Closer
	gz        *gzip.Writer
	w         *bufio.Writer
	line      []byte
	compact   bytes.Buffer
	lastFlush time.Time
	n, bytes  uint64
}

// recordFlushInterval bounds how much a crash can lose.
const recordFlushInterval = time.Second

// Create opens path for appending (creating it) and returns a
// Writer writing to it, gzip when path ends in ".gz".
func Create(path string) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	r := NewWriter(f, strings.HasSuffix(path, ".gz"))
	r.f = f
	return r, nil
}

// NewWriter returns a Writer writing to w, gzip-compressed when gz is
// true. Close flushes it but does not close w.
func NewWriter(w io.Writer, gz bool) *Writer {
	r := &Writer{lastFlush: time.Now()}
	if gz {
		r.gz = gzip.NewWriter(w)
		w = r.gz
	}
	r.w = bufio.NewWriterSize(w, 64<<10)
	return r
}

// Message records one upstream message received at recv.
func (r *Writer) Message(recv time.Time, msg []byte) error {
	if r == nil {
		return nil
	}
	r.start(recv)
	if json.Valid(msg) {
		if bytes.ContainsAny(msg, "\r\n") {
			r.compact.Reset()
			json.Compact(&r.compact, msg)
			msg = r.compact.Bytes()
		}
		r.line = append(append(r.line, `,"msg":`...), msg...)
	} else {
		raw, _ := json.Marshal(string(msg))
		r.line = append(append(r.line, `,"raw":`...), raw...)
	}
	return r.end(recv)
}

// recordEvent is the JSON of a connection event.
type recordEvent struct {
	Event    string   `json:"event"`
	URL      string   `json:"url,omitempty"`
	Products []string `json:"products,omitempty"`
	Channels []string `json:"channels,omitempty"`
	Reason   string   `json:"reason,omitempty"`
}

// Connected records that a connection to url was made at recv and
// subscribed products (the upstream's ids) to channels.
func (r *Writer) Connected(recv time.Time, url string, products, channels []string) error {
	return r.event(recv, recordEvent{Event: EventConnected, URL: url, Products: products, Channels: channels})
}

// Disconnected records that the connection ended at recv, and why.
func (r *Writer) Disconnected(recv time.Time, reason string) error {
	return r.event(recv, recordEvent{Event: EventDisconnected, Reason: reason})
}

// The connection events of a recording (Record.Event).
const (
	EventConnected    = "connected"
	EventDisconnected = "disconnected"
)

func (r *Writer) event(recv time.Time, ev recordEvent) error {
	if r == nil {
		return nil
	}
	b, _ := json.Marshal(ev)
	r.start(recv)
	r.line = append(append(r.line, ','), b[1:len(b)-1]...)
	return r.end(recv)
}

func (r *Writer) start(recv time.Time) {
	r.line = append(r.line[:0], `{"recv":"`...)
	r.line = recv.UTC().AppendFormat(r.line, time.RFC3339Nano)
	r.line = append(r.line, '"')
}

func (r *Writer) end(now time.Time) error {
	r.line = append(r.line, "}\n"...)
	if _, err := r.w.Write(r.line); err != nil {
		return err
	}
	r.n++
	r.bytes += uint64(len(r.line))
	if now.Sub(r.lastFlush) >= recordFlushInterval || now.Before(r.lastFlush) {
		r.lastFlush = now
		return r.Flush()
	}
	return nil
}

// Records returns the records written and their bytes before compression.
func (r *Writer) Records() (n, bytes uint64) {
	if r == nil {
		return 0, 0
	}
	return r.n, r.bytes
}

// Flush writes out what is buffered (a gzip sync point when compressing).
func (r *Writer) Flush() error {
	if r == nil {
		return nil
	}
	if err := r.w.Flush(); err != nil {
		return err
	}
	if r.gz != nil {
		return r.gz.Flush()
	}
	return nil
}

// Close flushes, ends the gzip stream and closes the file.
func (r *Writer) Close() error {
	if r == nil {
		return nil
	}
	err := r.w.Flush()
	if r.gz != nil {
		if e := r.gz.Close(); err == nil {
			err = e
		}
	}
	if r.f != nil {
		if e := r.f.Close(); err == nil {
			err = e
		}
	}
	return err
}
