package bus

import "testing"

func TestToken(t *testing.T) {
	cases := []struct{ in, want string }{
		{"BTC-USD", "BTC-USD"},
		{"sim_1", "sim_1"},
		{"", "%"},
		{"a.b", "a%2Eb"},
		{"*>", "%2A%3E"},
		{"x y\t", "x%20y%09"},
		{"50%", "50%25"},
		{"€", "%E2%82%AC"},
	}
	for _, c := range cases {
		if got := Token(c.in); got != c.want {
			t.Errorf("Token(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if Token("a.b") == Token("a%2Eb") {
		t.Error("distinct names share a token")
	}
}

func TestSubjects(t *testing.T) {
	s := Subjects{Prefix: "tickerfan.v1"}
	cases := []struct{ got, want string }{
		{s.Event("sim", "BTC-USD"), "tickerfan.v1.book.sim.BTC-USD"},
		{s.Event("my feed", "A.B"), "tickerfan.v1.book.my%20feed.A%2EB"},
		{s.Events(""), "tickerfan.v1.book.>"},
		{s.Events("ETH-USD"), "tickerfan.v1.book.*.ETH-USD"},
		{s.Beat("a"), "tickerfan.v1.beat.a"},
		{s.Beat(""), "tickerfan.v1.beat.*"},
		{s.Snapshot("a", "BTC-USD"), "tickerfan.v1.snapshot.a.BTC-USD"},
		{s.Snapshot("a", ""), "tickerfan.v1.snapshot.a.*"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("subject %q, want %q", c.got, c.want)
		}
	}
}
