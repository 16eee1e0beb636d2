package main

import (
	"encoding/json"
	"testing"

	"github.com/tickerfan/tickerfan/client"
)

func TestSpreadKeepsThePricePlaces(t *testing.T) {
	cases := []struct{ bid, ask, want string }{
		{"42994.82", "42996.82", "2.00"},
		{"0.05012", "0.05013", "0.00001"},
		{"100", "101", "1"},
	}
	for _, tc := range cases {
		var bid, ask client.Level
		json.Unmarshal([]byte(`["`+tc.bid+`","1"]`), &bid)
		json.Unmarshal([]byte(`["`+tc.ask+`","1"]`), &ask)
		if got := spread(bid, ask); got != tc.want {
			t.Errorf("spread(%s, %s) = %s, want %s", tc.bid, tc.ask, got, tc.want)
		}
	}
}
