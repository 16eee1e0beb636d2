package bench

import "testing"

// TestThroughputOverSSE drives event-stream subscribers against tickerfan's
// /sse: every one subscribes (the stream's first event), and every level2
// update arrives in order, as over WebSocket.
func TestThroughputOverSSE(t *testing.T) {
	srv := startTickerfan(t, "")
	p := quickProfile(srv.addr)
	p.Transport = TransportSSE
	p.Connections = 100
	res := execute(t, p)
	if c := res.Connections; c.Opened != 100 || c.Failed != 0 || c.SubscribedAtEnd != 100 || c.ProtocolErrors != 0 {
		t.Fatalf("connections %+v; want 100 opened and subscribed over SSE", c)
	}
	m := res.Measured
	if l := m.Level2; m.Messages == 0 || l == nil || l.Delivered == 0 || l.Ratio != 1 || l.Gaps != 0 || l.OutOfOrder != 0 {
		t.Fatalf("measured %d messages, level2 %+v; want every update in order", m.Messages, l)
	}
}
