package record

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Record is one line of a recording (see Writer).
type Record struct {
	// Recv is when the message arrived, or the event happened.
	Recv time.Time
	// Msg is the upstream message as received; nil for an event.
	Msg []byte
	// Event is EventConnected or EventDisconnected, empty for a message.
	Event string
	// URL, Products and Channels describe a connected event.
	URL      string
	Products []string
	Channels []string
	// Reason says why a disconnected event happened.
	Reason string
}

// DefaultMaxBytes bounds one line of a recording: the largest upstream
// message a coinbase feed accepts by default, plus room for its envelope.
const DefaultMaxBytes = maxMessageBytes + 4096

// maxMessageBytes is the largest upstream message a coinbase feed accepts by
// default (its max_message_bytes): a recording holds nothing larger.
const maxMessageBytes = 64 << 20

// Reader reads a recording, plain or gzip (detected by its magic
// bytes), record by record. Not safe for concurrent use.
type Reader struct {
	br   *bufio.Reader
	line int
	max  int
	buf  []byte
}

// NewReader returns a reader of the recording in r; lines longer than
// DefaultMaxBytes are refused.
func NewReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("feed: recording: %w", err)
		}
		br = bufio.NewReaderSize(gz, 64<<10)
	}
	return &Reader{br: br, max: DefaultMaxBytes}, nil
}

// recordJSON is the JSON of a record line.
type recordJSON struct {
	Recv     string          `json:"recv"`
	Msg      json.RawMessage `json:"msg"`
	Raw      *string         `json:"raw"`
	Event    string          `json:"event"`
	URL      string          `json:"url"`
	Products []string        `json:"products"`
	Channels []string        `json:"channels"`
	Reason   string          `json:"reason"`
}

// Next returns the next record; io.EOF after the last. A line that is not a
// record gives an error wrapping ErrBadRecord with its line number, and the
// reader goes on with the next line; ErrRecordTooLong and read errors end it.
// Empty lines are skipped.
func (r *Reader) Next() (Record, error) {
	for {
		line, err := r.readLine()
		if err != nil {
			return Record{}, err
		}
		r.line++
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		rec, err := parseRecord(line)
		if err != nil {
			return Record{}, fmt.Errorf("%w: line %d: %v", ErrBadRecord, r.line, err)
		}
		return rec, nil
	}
}

// Line is the number of the line Next returned last.
func (r *Reader) Line() int { return r.line }

func parseRecord(line []byte) (Record, error) {
	var j recordJSON
	if err := json.Unmarshal(line, &j); err != nil {
		return Record{}, err
	}
	recv, err := time.Parse(time.RFC3339Nano, j.Recv)
	if err != nil {
		return Record{}, errors.New("recv is not an RFC 3339 time")
	}
	rec := Record{Recv: recv, Event: j.Event}
	switch {
	case j.Event == EventConnected:
		rec.URL, rec.Products, rec.Channels = j.URL, j.Products, j.Channels
	case j.Event == EventDisconnected:
		rec.Reason = j.Reason
	case j.Event != "":
		return Record{}, fmt.Errorf("unknown event %q", j.Event)
	case j.Msg != nil:
		rec.Msg = j.Msg
	case j.Raw != nil:
		rec.Msg = []byte(*j.Raw)
	default:
		return Record{}, errors.New("no msg, raw or event")
	}
	return rec, nil
}

// readLine returns the next line without its newline; the slice is valid
// until the next call. A last line without a newline counts.
func (r *Reader) readLine() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if err == nil && len(line) <= r.max {
		return line[:len(line)-1], nil
	}
	r.buf = append(r.buf[:0], line...)
	for errors.Is(err, bufio.ErrBufferFull) {
		if len(r.buf) > r.max {
			return nil, fmt.Errorf("%w: line %d is over %d bytes", ErrRecordTooLong, r.line+1, r.max)
		}
		line, err = r.br.ReadSlice('\n')
		r.buf = append(r.buf, line...)
	}
	switch {
	case len(r.buf) > r.max:
		return nil, fmt.Errorf("%w: line %d is over %d bytes", ErrRecordTooLong, r.line+1, r.max)
	case err == nil:
		return r.buf[:len(r.buf)-1], nil
	case err == io.EOF && len(r.buf) > 0:
		return r.buf, nil
	}
	return nil, err
}
