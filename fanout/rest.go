package fanout

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/tickerfan/tickerfan/model"
)

// routes registers the REST endpoints beside the socket, with the anchor's
// field names (Coinbase Exchange REST market data).
func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /products", s.getProducts)
	m.HandleFunc("GET /products/{id}", s.withTopic(s.getProduct))
	m.HandleFunc("GET /products/{id}/book", s.withTopic(s.getBook))
	m.HandleFunc("GET /products/{id}/ticker", s.withTopic(s.getTicker))
	m.HandleFunc("GET /products/{id}/trades", s.withTopic(s.getTrades))
	m.HandleFunc("GET /products/{id}/stats", s.withTopic(s.getStats))
	m.HandleFunc("GET /currencies", s.getCurrencies)
	m.HandleFunc("GET /time", getTime)
	m.HandleFunc("GET /healthz", s.getHealth)
	m.HandleFunc("GET /sse", s.serveEvents)
	m.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	m.HandleFunc("/", notFound)
}

// writeJSON answers v as JSON. An encoding error can only be the client
// gone mid-answer (every v here is encodable), so it is not counted.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func notFound(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusNotFound, map[string]string{"message": "NotFound"})
}

// withTopic resolves {id} to the product's topic, or answers 404.
func (s *Server) withTopic(h func(http.ResponseWriter, *http.Request, *topic)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		idx, ok := s.cat.index[r.PathValue("id")]
		if !ok {
			notFound(w, r)
			return
		}
		h(w, r, s.hub.topics[idx])
	}
}

// productJSON is a product as /products lists it.
type productJSON struct {
	ID              string `json:"id"`
	BaseCurrency    string `json:"base_currency"`
	QuoteCurrency   string `json:"quote_currency"`
	QuoteIncrement  string `json:"quote_increment"`
	BaseIncrement   string `json:"base_increment"`
	DisplayName     string `json:"display_name"`
	MinMarketFunds  string `json:"min_market_funds"`
	MarginEnabled   bool   `json:"margin_enabled"`
	PostOnly        bool   `json:"post_only"`
	LimitOnly       bool   `json:"limit_only"`
	CancelOnly      bool   `json:"cancel_only"`
	Status          string `json:"status"`
	StatusMessage   string `json:"status_message"`
	TradingDisabled bool   `json:"trading_disabled"`
	FxStablecoin    bool   `json:"fx_stablecoin"`
	AuctionMode     bool   `json:"auction_mode"`
}

func (s *Server) productJSON(idx int, st productStatus) productJSON {
	p := &s.cat.products[idx]
	return productJSON{
		ID: p.ID, BaseCurrency: p.BaseCurrency, QuoteCurrency: p.QuoteCurrency,
		QuoteIncrement: p.QuoteIncrement.String(), BaseIncrement: p.BaseIncrement.String(),
		DisplayName: p.DisplayName, MinMarketFunds: p.MinMarketFunds.String(),
		Status: statusWord(st.online), StatusMessage: st.message,
	}
}

func (s *Server) getProducts(w http.ResponseWriter, _ *http.Request) {
	states := s.hub.status.snapshot()
	out := make([]productJSON, len(states))
	for i, st := range states {
		out[i] = s.productJSON(i, st)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getProduct(w http.ResponseWriter, _ *http.Request, t *topic) {
	writeJSON(w, http.StatusOK, s.productJSON(int(t.idx), s.hub.status.snapshot()[t.idx]))
}

// getBook serves level 1 (best bid and ask) or level 2 (every aggregated
// level). Order counts are not carried at level 2, so each level says 1.
func (s *Server) getBook(w http.ResponseWriter, r *http.Request, t *topic) {
	level := r.URL.Query().Get("level")
	depth := 1
	switch level {
	case "", "1":
	case "2":
		depth = 0
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{
			"message": "Invalid level " + strconv.Quote(level) + ": use 1 or 2 (level 3 needs order-level data tickerfan does not carry)"})
		return
	}
	v := t.freshView(viewWait)
	bids, asks := v.bids, v.asks
	if depth > 0 {
		bids, asks = bids[:min(depth, len(bids))], asks[:min(depth, len(asks))]
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"bids": restLevels(t.p, bids), "asks": restLevels(t.p, asks), "sequence": v.seq,
		"auction_mode": false, "auction": nil, "time": time.Now().UTC().Format(timeLayout),
	})
}

func restLevels(p *model.Product, ls []model.Level) [][]any {
	out := make([][]any, len(ls))
	for i, l := range ls {
		out[i] = []any{p.FormatPrice(l.Price), p.FormatSize(l.Size), 1}
	}
	return out
}

func (s *Server) getTicker(w http.ResponseWriter, _ *http.Request, t *topic) {
	v := t.freshView(viewWait)
	tk := v.ticker
	bid, ask := v.best()
	out := map[string]any{
		"trade_id": tk.TradeID, "price": t.p.FormatPrice(tk.Price), "size": t.p.FormatSize(tk.LastSize),
		"volume": t.p.FormatSize(tk.Volume24h), "time": tk.Time.UTC().Format(timeLayout),
		"bid": "", "ask": "",
	}
	if bid != nil {
		out["bid"] = t.p.FormatPrice(bid.Price)
	}
	if ask != nil {
		out["ask"] = t.p.FormatPrice(ask.Price)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getTrades(w http.ResponseWriter, r *http.Request, t *topic) {
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": "limit must be a whole number from 1 to 1000"})
			return
		}
		limit = n
	}
	recs := t.recentTrades(limit)
	out := make([]map[string]any, len(recs))
	for i, rec := range recs {
		out[i] = map[string]any{
			"time": rec.time.UTC().Format(timeLayout), "trade_id": rec.trade.TradeID,
			"price": t.p.FormatPrice(rec.trade.Price), "size": t.p.FormatSize(rec.trade.Size),
			"side": rec.trade.Side.String(),
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getStats(w http.ResponseWriter, _ *http.Request, t *topic) {
	tk := t.freshView(viewWait).ticker
	p := t.p
	writeJSON(w, http.StatusOK, map[string]string{
		"open": p.FormatPrice(tk.Open24h), "high": p.FormatPrice(tk.High24h), "low": p.FormatPrice(tk.Low24h),
		"last": p.FormatPrice(tk.Price), "volume": p.FormatSize(tk.Volume24h), "volume_30day": p.FormatSize(tk.Volume30d),
	})
}

func (s *Server) getCurrencies(w http.ResponseWriter, _ *http.Request) {
	out := make([]map[string]any, len(s.cat.currencies))
	for i, c := range s.cat.currencies {
		out[i] = map[string]any{
			"id": c.ID, "name": c.Name, "min_size": c.MinSize, "status": "online", "message": "",
			"max_precision": c.MinSize, "convertible_to": []string{}, "details": map[string]any{},
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func getTime(w http.ResponseWriter, _ *http.Request) {
	now := time.Now().UTC()
	writeJSON(w, http.StatusOK, map[string]any{
		"iso": now.Format(timeLayout), "epoch": float64(now.UnixMicro()) / 1e6,
	})
}

// getHealth answers 200 while serving and 503 once shutdown has begun, so a
// load balancer drains the instance first.
func (s *Server) getHealth(w http.ResponseWriter, _ *http.Request) {
	states := s.hub.status.snapshot()
	online := 0
	for _, st := range states {
		if st.online {
			online++
		}
	}
	code, status := http.StatusOK, "ok"
	if s.draining() {
		code, status = http.StatusServiceUnavailable, "shutting down"
	}
	writeJSON(w, code, map[string]any{
		"status": status, "connections": s.tr.Len(),
		"products": len(states), "products_online": online,
	})
}
