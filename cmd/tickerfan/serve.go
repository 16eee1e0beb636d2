package main

import (
	"context"
	"errors"
	"sync"

	"go.uber.org/zap"

	"github.com/tickerfan/tickerfan/book"
	"github.com/tickerfan/tickerfan/dashboard"
	"github.com/tickerfan/tickerfan/fanout"
	"github.com/tickerfan/tickerfan/feed"
	"github.com/tickerfan/tickerfan/model"
)

// serve wires feed -> book -> fanout and runs until ctx is cancelled, then
// shuts down gracefully: feeds stop, connections get 1001, the process exits.
func serve(ctx context.Context, cfg config, log *zap.Logger) error {
	srv, err := fanout.New(cfg.Server, cfg.servedProducts(), log)
	if err != nil {
		return err
	}
	cl, err := newCluster(cfg, srv, log)
	if err != nil {
		return err
	}
	market, err := book.NewMarket(cfg.Book, cfg.Products, cl.publish(srv.Publish), log.Named("book"))
	if err != nil {
		return err
	}
	upstream := registerMetrics(srv.Registry(), market)
	page := dashboard.Handler()
	srv.Handle("GET /{$}", page)
	srv.Handle("GET "+dashboard.AssetPrefix, page)
	sources := make([]feed.Source, 0, len(cfg.Feeds))
	for _, fc := range cfg.Feeds {
		src, err := newSource(fc, cfg.feedProducts(fc), log.Named("feed").With(zap.String("feed", fc.Name)))
		if err != nil {
			return err
		}
		sources = append(sources, src)
	}
	srv.Registry().MustRegister(newFeedCollector(sources))
	srv.Handle("GET /feeds", feed.Handler(sources))

	if cfg.Debug.PprofListen != "" {
		stopPprof, err := startPprof(cfg.Debug.PprofListen, log)
		if err != nil {
			return err
		}
		defer stopPprof()
	}

	if err := cl.start(market); err != nil {
		return err
	}
	defer cl.stop()
	feedCtx, stopFeeds := context.WithCancel(ctx)
	var feeds sync.WaitGroup
	for _, src := range sources {
		feeds.Add(1)
		go func() {
			defer feeds.Done()
			runFeed(feedCtx, src, market, upstream.WithLabelValues(src.Name()), log)
		}()
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.ListenAndServe() }()
	select {
	case err = <-serveErr:
		log.Error("server failed", zap.Error(err))
	case <-ctx.Done():
		log.Info("shutting down")
	}
	stopFeeds()
	feeds.Wait()
	shutdownErr := srv.Shutdown(context.Background())
	if err != nil && !errors.Is(err, fanout.ErrClosed) {
		return err
	}
	if errors.Is(shutdownErr, context.DeadlineExceeded) {
		log.Warn("shutdown timed out; some connections were closed without a close frame")
	}
	return nil
}

// counter is the part of a Prometheus counter runFeed uses.
type counter interface{ Inc() }

// runFeed runs one source until ctx ends, feeding the market.
func runFeed(ctx context.Context, src feed.Source, market *book.Market, in counter, log *zap.Logger) {
	log = log.With(zap.String("feed", src.Name()))
	log.Info("feed starting", zap.Strings("products", src.Products()))
	err := src.Run(ctx, func(u model.Update) {
		in.Inc()
		market.Apply(u)
	})
	if err != nil && ctx.Err() == nil {
		log.Error("feed stopped", zap.Error(err))
		return
	}
	log.Info("feed stopped")
}
