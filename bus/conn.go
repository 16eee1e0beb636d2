package bus

import (
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/zap"
)

// Connect opens a NATS connection to cfg.URL named name that never gives up:
// it keeps retrying the first connection and reconnects forever, every
// 250ms with jitter, so a restarted NATS server is back within a second.
// While disconnected, publishes are buffered (8 MiB) and then fail; the
// edges recover what was lost from the Seq gap.
func Connect(cfg Config, name string, log *zap.Logger) (*nats.Conn, error) {
	cfg = cfg.WithDefaults()
	if log == nil {
		log = zap.NewNop()
	}
	return nats.Connect(cfg.URL,
		nats.Name(name),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		nats.ReconnectJitter(100*time.Millisecond, 100*time.Millisecond),
		nats.PingInterval(5*time.Second),
		nats.MaxPingsOutstanding(2),
		nats.ConnectHandler(func(nc *nats.Conn) {
			log.Info("nats connected", zap.String("url", nc.ConnectedUrlRedacted()))
		}),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			log.Warn("nats disconnected", zap.Error(err))
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("nats reconnected", zap.String("url", nc.ConnectedUrlRedacted()))
		}),
	)
}
