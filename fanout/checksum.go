package fanout

import (
	"hash/crc32"
	"strings"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/model"
)

// checksumDepth levels per side go into a book checksum.
const checksumDepth = 10

// checksum is the opt-in book checksum of the protocol's extensions, in the
// manner of Kraken's: CRC-32 (IEEE) over the top 10 asks (best first), then
// the top 10 bids (best first), each level as its wire price then its wire
// size, with the decimal point and leading zeros removed.
func checksum(p *model.Product, b *book.Book) uint32 {
	var scratch [2 * checksumDepth]model.Level
	bids, asks := b.Top(checksumDepth, scratch[:0:checksumDepth], scratch[checksumDepth:checksumDepth])
	var sb strings.Builder
	for _, side := range [][]model.Level{asks, bids} {
		for _, l := range side {
			sb.WriteString(checksumDigits(p.FormatPrice(l.Price)))
			sb.WriteString(checksumDigits(p.FormatSize(l.Size)))
		}
	}
	return crc32.ChecksumIEEE([]byte(sb.String()))
}

// checksumDigits removes the decimal point and the leading zeros.
func checksumDigits(s string) string {
	s = strings.Replace(s, ".", "", 1)
	return strings.TrimLeft(s, "0")
}
