package fanout

import (
	"time"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/model"
)

// Encoders of server messages. Each builds a complete frame once; the caller
// queues the same bytes to every subscriber.

// bookSum is the optional checksum extension of snapshot and l2update.
type bookSum struct {
	on  bool
	sum uint32
}

// encodeSnapshot encodes a level2 snapshot of bids and asks (best first) with
// the extension sequence and, when sum.on, the extension checksum.
func encodeSnapshot(p *model.Product, seq uint64, bids, asks []model.Level, sum bookSum) []byte {
	f := newFrame(64 + 48*(len(bids)+len(asks)))
	f.raw(`{"type":"snapshot"`).key("product_id").str(p.ID)
	f.key("bids")
	levels(f, p, bids)
	f.key("asks")
	levels(f, p, asks)
	f.key("sequence").uint(seq)
	if sum.on {
		f.key("checksum").uint(uint64(sum.sum))
	}
	f.raw("}")
	return f.finish()
}

func levels(f *frameBuilder, p *model.Product, ls []model.Level) {
	f.raw("[")
	for i, l := range ls {
		if i > 0 {
			f.raw(",")
		}
		f.raw("[").dec(p.FormatPrice(l.Price)).raw(",").dec(p.FormatSize(l.Size)).raw("]")
	}
	f.raw("]")
}

// encodeL2Update encodes an l2update with the extension sequence and, when
// sum.on, the checksum of the book after it.
func encodeL2Update(p *model.Product, seq uint64, t time.Time, changes []model.Change, sum bookSum) []byte {
	f := newFrame(96 + 56*len(changes))
	f.raw(`{"type":"l2update"`).key("product_id").str(p.ID)
	f.key("changes").raw("[")
	for i, c := range changes {
		if i > 0 {
			f.raw(",")
		}
		f.raw(`["`).raw(c.Side.String()).raw(`",`)
		f.dec(p.FormatPrice(c.Price)).raw(",").dec(p.FormatSize(c.Size)).raw("]")
	}
	f.raw("]").key("time").time(t).key("sequence").uint(seq)
	if sum.on {
		f.key("checksum").uint(uint64(sum.sum))
	}
	f.raw("}")
	return f.finish()
}

// encodeTicker encodes a ticker message (also what ticker_batch sends).
func encodeTicker(p *model.Product, seq int64, t *book.Ticker) []byte {
	f := newFrame(480)
	f.raw(`{"type":"ticker"`).key("sequence").int(seq).key("product_id").str(p.ID)
	f.key("price").dec(p.FormatPrice(t.Price))
	f.key("open_24h").dec(p.FormatPrice(t.Open24h))
	f.key("volume_24h").dec(p.FormatSize(t.Volume24h))
	f.key("low_24h").dec(p.FormatPrice(t.Low24h))
	f.key("high_24h").dec(p.FormatPrice(t.High24h))
	f.key("volume_30d").dec(p.FormatSize(t.Volume30d))
	f.key("best_bid").dec(p.FormatPrice(t.BestBid))
	f.key("best_bid_size").dec(p.FormatSize(t.BestBidSize))
	f.key("best_ask").dec(p.FormatPrice(t.BestAsk))
	f.key("best_ask_size").dec(p.FormatSize(t.BestAskSize))
	f.key("side").str(t.Side.String()).key("time").time(t.Time)
	f.key("trade_id").int(t.TradeID).key("last_size").dec(p.FormatSize(t.LastSize)).raw("}")
	return f.finish()
}

// encodeMatch encodes a match; typ is "match" or "last_match".
func encodeMatch(p *model.Product, typ string, seq int64, t time.Time, tr *model.Trade) []byte {
	f := newFrame(320)
	f.raw(`{"type":`).str(typ).key("trade_id").int(tr.TradeID)
	f.key("maker_order_id").str(tr.MakerOrderID).key("taker_order_id").str(tr.TakerOrderID)
	f.key("side").str(tr.Side.String())
	f.key("size").dec(p.FormatSize(tr.Size)).key("price").dec(p.FormatPrice(tr.Price))
	f.key("product_id").str(p.ID).key("sequence").int(seq).key("time").time(t).raw("}")
	return f.finish()
}

// encodeHeartbeat encodes a heartbeat.
func encodeHeartbeat(p *model.Product, seq, lastTradeID int64, t time.Time) []byte {
	f := newFrame(128)
	f.raw(`{"type":"heartbeat"`).key("last_trade_id").int(lastTradeID)
	f.key("product_id").str(p.ID).key("sequence").int(seq).key("time").time(t).raw("}")
	return f.finish()
}

// encodeError encodes an error reply.
func encodeError(message, reason string) []byte {
	f := newFrame(64 + len(reason))
	f.raw(`{"type":"error"`).key("message").str(message)
	if reason != "" {
		f.key("reason").str(reason)
	}
	f.raw("}")
	return f.finish()
}

// productStatus is what the status channel and /products say of a product.
type productStatus struct {
	online  bool
	message string
}

// encodeStatus encodes the status channel's message: every product and currency.
func encodeStatus(products []model.Product, states []productStatus, currencies []currency) []byte {
	f := newFrame(512 * len(products))
	f.raw(`{"type":"status","products":[`)
	for i := range products {
		if i > 0 {
			f.raw(",")
		}
		statusProduct(f, &products[i], states[i])
	}
	f.raw(`],"currencies":[`)
	for i, c := range currencies {
		if i > 0 {
			f.raw(",")
		}
		f.raw("{").key("id").str(c.ID).key("name").str(c.Name).key("display_name").str(c.ID)
		f.key("min_size").dec(c.MinSize).key("status").str("online").key("status_message").str("")
		f.key("max_precision").dec(c.MinSize).key("convertible_to").raw("[]").key("details").raw("{}").raw("}")
	}
	f.raw("]}")
	return f.finish()
}

func statusProduct(f *frameBuilder, p *model.Product, st productStatus) {
	f.raw("{").key("id").str(p.ID)
	f.key("base_currency").str(p.BaseCurrency).key("quote_currency").str(p.QuoteCurrency)
	f.key("base_increment").dec(p.BaseIncrement.String()).key("quote_increment").dec(p.QuoteIncrement.String())
	f.key("display_name").str(p.DisplayName)
	f.key("status").str(statusWord(st.online)).key("status_message").str(st.message)
	f.key("min_market_funds").dec(p.MinMarketFunds.String())
	f.key("post_only").bool(false).key("limit_only").bool(false).key("cancel_only").bool(false)
	f.key("auction_mode").bool(false).key("type").str("spot").key("fx_stablecoin").bool(false)
	f.raw("}")
}

func statusWord(online bool) string {
	if online {
		return "online"
	}
	return "offline"
}

// subscriptionEntry is one channel of a subscriptions reply.
type subscriptionEntry struct {
	name string
	ids  []string
}

// encodeSubscriptions encodes the whole subscription state of a connection.
func encodeSubscriptions(entries []subscriptionEntry) []byte {
	f := newFrame(64 + 32*len(entries))
	f.raw(`{"type":"subscriptions","channels":[`)
	for i, e := range entries {
		if i > 0 {
			f.raw(",")
		}
		f.raw("{").key("name").str(e.name).key("product_ids").raw("[")
		for j, id := range e.ids {
			if j > 0 {
				f.raw(",")
			}
			f.str(id)
		}
		f.raw("]}")
	}
	f.raw("]}")
	return f.finish()
}
