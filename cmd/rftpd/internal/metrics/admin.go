// The admin listener: /metrics, /healthz and /readyz over HTTP, on goroutines of their own.
package metrics

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// HealthWait bounds /healthz's round trip through the event loop.
const HealthWait = 2 * time.Second

// Server is for ReadyCheck and HealthCheck: the reactor.
type Server interface {
	Source
	Alive(ctx context.Context) error
}

// Admin is the admin HTTP server. Its handlers run on net/http's
// goroutines, never on the event loop; they reach the loop only through
// Alive and Phases, which post a task and wait for it with a bound.
type Admin struct {
	ln  net.Listener
	srv *http.Server
}

// Listen binds addr and prepares the admin server for r and d, and the
// extra collectors; Serve runs it.
func Listen(addr string, r Server, d DTPSource, version string, log *slog.Logger, extra ...prometheus.Collector) (*Admin, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		NewCollector(r, d, version),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	reg.MustRegister(extra...)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:            slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, req *http.Request) {
		ctx, cancel := context.WithTimeout(req.Context(), HealthWait)
		defer cancel()
		if err := r.Alive(ctx); err != nil {
			http.Error(w, "unhealthy: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !r.Accepting() {
			http.Error(w, "not ready: not accepting connections (starting, draining or stopped)", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	return &Admin{ln: ln, srv: srv}, nil
}

// Addr is the address the admin server listens on.
func (a *Admin) Addr() net.Addr { return a.ln.Addr() }

// Serve serves until Close; it blocks, and returns nil once closed.
func (a *Admin) Serve() error {
	if err := a.srv.Serve(a.ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Close stops the admin server: requests in progress get until ctx ends.
func (a *Admin) Close(ctx context.Context) error {
	err := a.srv.Shutdown(ctx)
	if err != nil {
		a.srv.Close()
	}
	return err
}
