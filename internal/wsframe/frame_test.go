package wsframe

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/gobwas/ws"
)

func clientBytes(t testing.TB, op ws.OpCode, fin bool, payload string) []byte {
	t.Helper()
	b, err := ws.CompileFrame(ws.MaskFrame(ws.NewFrame(op, fin, []byte(payload))))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func serverBytes(t testing.TB, op ws.OpCode, fin bool, payload string) []byte {
	t.Helper()
	b, err := ws.CompileFrame(ws.NewFrame(op, fin, []byte(payload)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNext(t *testing.T) {
	long := string(bytes.Repeat([]byte("x"), 300))
	cases := []struct {
		name    string
		b       []byte
		masked  bool
		max     int
		payload string
		need    int
		err     error
	}{
		{name: "client text", b: clientBytes(t, ws.OpText, true, "hello"), masked: true, max: 100, payload: "hello"},
		{name: "server text", b: serverBytes(t, ws.OpText, true, "hello"), masked: false, max: 100, payload: "hello"},
		{name: "16-bit length", b: serverBytes(t, ws.OpText, true, long), max: 1000, payload: long},
		{name: "header only", b: serverBytes(t, ws.OpText, true, long)[:4], max: 1000, need: 304},
		{name: "one byte", b: []byte{0x81}, max: 100},
		{name: "too big, known from the header alone", b: serverBytes(t, ws.OpText, true, long)[:4], max: 100, err: ErrTooBig},
		{name: "unmasked from a client", b: serverBytes(t, ws.OpText, true, "x"), masked: true, max: 100, err: ErrProtocol},
		{name: "masked from a server", b: clientBytes(t, ws.OpText, true, "x"), max: 100, err: ErrProtocol},
		{name: "reserved bits", b: []byte{0xc1, 0x00}, max: 100, err: ErrProtocol},
		{name: "reserved opcode", b: []byte{0x83, 0x00}, max: 100, err: ErrProtocol},
		{name: "fragmented ping", b: serverBytes(t, ws.OpPing, false, "x"), max: 100, err: ErrProtocol},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, n, need, err := Next(tc.b, tc.max, tc.masked)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			if string(f.Payload) != tc.payload || need != max(tc.need, n) {
				t.Fatalf("payload %q need %d (n %d), want %q need %d", f.Payload, need, n, tc.payload, tc.need)
			}
			if tc.payload != "" && n != len(tc.b) {
				t.Fatalf("n = %d, want the whole %d bytes", n, len(tc.b))
			}
		})
	}
}

func TestAssembler(t *testing.T) {
	var a Assembler
	parts := []Frame{
		{Op: ws.OpText, Payload: []byte("ab")},
		{Op: ws.OpContinuation, Payload: []byte("cd")},
		{Op: ws.OpContinuation, Fin: true, Payload: []byte("ef")},
	}
	for i, f := range parts {
		msg, done, err := a.Add(f, 100)
		if err != nil || done != (i == 2) {
			t.Fatalf("part %d: done %v err %v", i, done, err)
		}
		if done && string(msg) != "abcdef" {
			t.Fatalf("joined %q", msg)
		}
	}
	if _, _, err := a.Add(Frame{Op: ws.OpContinuation, Fin: true}, 100); !errors.Is(err, ErrProtocol) {
		t.Fatalf("continuation with nothing to continue: %v", err)
	}
	a.Add(Frame{Op: ws.OpText, Payload: []byte("12345")}, 8)
	if _, _, err := a.Add(Frame{Op: ws.OpContinuation, Fin: true, Payload: []byte("6789")}, 8); !errors.Is(err, ErrTooBig) {
		t.Fatalf("joined message over the limit: %v", err)
	}
}

func TestInputGivesItsBufferBack(t *testing.T) {
	var in Input
	frame := serverBytes(t, ws.OpText, true, string(bytes.Repeat([]byte("y"), 10000)))
	n := copy(in.Free(10), frame[:100])
	in.Commit(n)
	_, _, need, _ := Next(in.Bytes(), 1<<20, false)
	in.Keep(in.Bytes(), need)
	if cap(in.Bytes()) < need {
		t.Fatalf("room for %d bytes, the frame needs %d", cap(in.Bytes()), need)
	}
	in.Commit(copy(in.Free(0), frame[100:]))
	f, n, _, err := Next(in.Bytes(), 1<<20, false)
	if err != nil || n != len(frame) || len(f.Payload) != 10000 {
		t.Fatalf("after growing: n %d err %v", n, err)
	}
	in.Keep(in.Bytes()[n:], 0)
	if in.Bytes() != nil {
		t.Fatal("an input with nothing left still holds a buffer")
	}
}

// FuzzNext feeds the same bytes whole and in chunks of every size through an
// Input: both must yield the same frames and the same error, and never panic.
func FuzzNext(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.bin")
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(3), true)
	}
	f.Add(clientBytes(f, ws.OpText, true, `{"type":"subscribe"}`), uint8(1), true)
	f.Add(append(serverBytes(f, ws.OpText, false, "ab"), serverBytes(f, ws.OpContinuation, true, "cd")...), uint8(2), false)
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8, masked bool) {
		whole := parseAll(data, len(data)+1, masked)
		inChunks := parseAll(data, int(chunk%16)+1, masked)
		if whole != inChunks {
			t.Fatalf("whole: %s\nin chunks of %d: %s", whole, chunk%16+1, inChunks)
		}
	})
}

// parseAll parses data arriving chunk bytes at a time and describes the
// messages and the error it ends with.
func parseAll(data []byte, chunk int, masked bool) string {
	var in Input
	var a Assembler
	var out bytes.Buffer
	src := append([]byte(nil), data...) // Next unmasks in place
	for len(src) > 0 {
		k := min(chunk, len(src))
		in.Commit(copy(in.Free(k), src[:k]))
		src = src[k:]
		err := in.Parse(1<<16, masked, func(f Frame) error {
			if !f.Op.IsData() && f.Op != ws.OpContinuation {
				return nil
			}
			msg, done, err := a.Add(f, 1<<16)
			if done {
				out.WriteString("msg " + string(msg) + "\n")
			}
			return err
		})
		if err != nil {
			out.WriteString("error " + err.Error())
			return out.String()
		}
	}
	return out.String()
}

// With NoReserve a frame header alone does not make the input reserve the
// whole frame: a client trickling a 60 KB frame holds one chunk, and the
// buffer grows (doubling) only as bytes arrive.
func TestInputNoReserve(t *testing.T) {
	in := Input{NoReserve: true}
	frame := serverBytes(t, ws.OpText, true, string(bytes.Repeat([]byte("y"), 60000)))
	in.Commit(copy(in.Free(Chunk/2), frame[:20]))
	if err := in.Parse(1<<20, false, func(Frame) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if cap(in.Bytes()) > Chunk {
		t.Fatalf("20 bytes of a 60 KB frame hold %d bytes, want at most a chunk (%d)", cap(in.Bytes()), Chunk)
	}
	for off := 20; off < len(frame); {
		off += copy(in.Free(Chunk/2), frame[off:min(off+Chunk/2, len(frame))])
		in.Commit(off - len(in.Bytes()))
	}
	got := 0
	if err := in.Parse(1<<20, false, func(f Frame) error { got = len(f.Payload); return nil }); err != nil || got != 60000 {
		t.Fatalf("the whole frame read in pieces: payload %d, err %v", got, err)
	}
}
