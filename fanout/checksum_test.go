package fanout

import (
	"github.com/shopspring/decimal"
	"github.com/tickerfan/tickerfan/model"

	"hash/crc32"
	"strings"
	"testing"
	"time"
)

// clientChecksum computes the checksum the way a client does: from the wire
// strings of its book, top 10 asks then top 10 bids, '.' and leading zeros
// removed.
func clientChecksum(cb *clientBook, wire map[string]string) uint32 {
	bids, asks := cb.b.Top(10, nil, nil)
	var sb strings.Builder
	for _, side := range [][2][]string{levelStrings(asks, wire), levelStrings(bids, wire)} {
		for i := range side[0] {
			for _, s := range []string{side[0][i], side[1][i]} {
				sb.WriteString(strings.TrimLeft(strings.Replace(s, ".", "", 1), "0"))
			}
		}
	}
	return crc32.ChecksumIEEE([]byte(sb.String()))
}

// wire maps a decimal's canonical form to the string the server sent for it.
func levelStrings(ls []model.Level, wire map[string]string) [2][]string {
	var out [2][]string
	for _, l := range ls {
		out[0] = append(out[0], wire[l.Price.String()])
		out[1] = append(out[1], wire[l.Size.String()])
	}
	return out
}

func recordWire(wire map[string]string, pairs []any, skip int) {
	for _, raw := range pairs {
		for _, s := range raw.([]any)[skip:] {
			str := s.(string)
			wire[canonical(str)] = str
		}
	}
}

func TestChecksumExtension(t *testing.T) {
	for _, ch := range []string{"level2", "level2_batch"} {
		t.Run(ch, func(t *testing.T) {
			ts := startServer(t, Config{}, simOpts{updates: 300, trades: 10, products: []string{"ETH-BTC"}})
			c := dial(t, ts.addr)
			c.send(`{"type":"subscribe","product_ids":["ETH-BTC"],"channels":["` + ch + `"],"checksum":true}`)
			plain := dial(t, ts.addr)
			plain.send(`{"type":"subscribe","product_ids":["ETH-BTC"],"channels":["` + ch + `"]}`)

			cb, wire, checked := &clientBook{}, map[string]string{}, 0
			for end := time.Now().Add(1500 * time.Millisecond); time.Now().Before(end); {
				m := c.next(2 * time.Second)
				switch m["type"] {
				case "snapshot":
					cb.snapshot(t, m)
					recordWire(wire, m["bids"].([]any), 0)
					recordWire(wire, m["asks"].([]any), 0)
				case "l2update":
					cb.update(t, m)
					recordWire(wire, m["changes"].([]any), 1)
				default:
					continue
				}
				sum, ok := m["checksum"].(float64)
				if !ok {
					t.Fatalf("%s without checksum: %v", m["type"], m)
				}
				if want := clientChecksum(cb, wire); uint32(sum) != want {
					t.Fatalf("%s checksum %v, the client's book gives %d", m["type"], sum, want)
				}
				checked++
			}
			if checked < 10 {
				t.Fatalf("only %d checksums checked", checked)
			}
			for i := 0; i < 20; i++ {
				if m := plain.next(2 * time.Second); m["checksum"] != nil {
					t.Fatalf("a client that did not opt in got a checksum: %v", m)
				}
			}
		})
	}
}

func canonical(s string) string { return decimal.RequireFromString(s).String() }
