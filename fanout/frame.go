package fanout

import (
	"strconv"
	"time"

	"github.com/gobwas/ws"

	"github.com/tickerfan/tickerfan/fanout/transport"
	"github.com/tickerfan/tickerfan/internal/jsonw"
)

// frameBuilder encodes one server message as a complete, unmasked WebSocket
// text frame. The payload is appended after room reserved for the header, so
// finishing the frame copies nothing. Built once, the bytes are shared by
// every subscriber that gets the message.
type frameBuilder struct {
	b []byte
}

func newFrame(sizeHint int) *frameBuilder {
	b := make([]byte, transport.HeaderRoom, transport.HeaderRoom+sizeHint)
	return &frameBuilder{b: b}
}

// finish writes the header in front of the payload and returns the frame.
func (f *frameBuilder) finish() []byte { return transport.Finish(f.b, ws.OpText) }

// The JSON writers below append exactly what the protocol needs; keys are
// written as literals by the callers.

func (f *frameBuilder) raw(s string) *frameBuilder {
	f.b = append(f.b, s...)
	return f
}

// str appends a JSON string. Product ids, order ids and reasons are plain
// ASCII in practice; anything that needs escaping is escaped.
func (f *frameBuilder) str(s string) *frameBuilder {
	f.b = jsonw.AppendString(f.b, s)
	return f
}

// key appends `,"name":` (or `"name":` first in an object when first is set).
func (f *frameBuilder) key(name string) *frameBuilder {
	if c := f.b[len(f.b)-1]; c != '{' && c != '[' {
		f.b = append(f.b, ',')
	}
	f.b = append(f.b, '"')
	f.b = append(f.b, name...)
	f.b = append(f.b, '"', ':')
	return f
}

func (f *frameBuilder) int(v int64) *frameBuilder {
	f.b = strconv.AppendInt(f.b, v, 10)
	return f
}

func (f *frameBuilder) uint(v uint64) *frameBuilder {
	f.b = strconv.AppendUint(f.b, v, 10)
	return f
}

func (f *frameBuilder) bool(v bool) *frameBuilder {
	f.b = strconv.AppendBool(f.b, v)
	return f
}

// dec appends a decimal as a JSON string, already formatted by fmt.
func (f *frameBuilder) dec(s string) *frameBuilder {
	f.b = append(f.b, '"')
	f.b = append(f.b, s...)
	f.b = append(f.b, '"')
	return f
}

// timeLayout is RFC 3339 UTC with microseconds, as the anchor sends.
const timeLayout = "2006-01-02T15:04:05.000000Z"

func (f *frameBuilder) time(t time.Time) *frameBuilder {
	f.b = append(f.b, '"')
	f.b = t.UTC().AppendFormat(f.b, timeLayout)
	f.b = append(f.b, '"')
	return f
}
