package sandbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// DrainTimeout bounds how long Serve waits for in-flight requests after
// its context is done.
const DrainTimeout = 10 * time.Second

// ListenAndServe listens on addr (e.g. "127.0.0.1:8080", or port 0 for any
// free port) and serves until ctx is done; see Serve. ready, when not nil,
// is called with the base URL ("http://127.0.0.1:8080") once connections
// are accepted.
func (s *Server) ListenAndServe(ctx context.Context, addr string, ready func(baseURL string)) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("sandbox listen %s: %w", addr, err)
	}
	if ready != nil {
		ready("http://" + ln.Addr().String())
	}
	return s.Serve(ctx, ln)
}

// Serve serves HTTP/1.1 on ln until ctx is done, then stops accepting,
// drains in-flight requests for up to DrainTimeout and returns nil (or the
// error that stopped it early). It closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("sandbox serve: %w", err)
	case <-ctx.Done():
	}
	dctx, cancel := context.WithTimeout(context.Background(), DrainTimeout)
	defer cancel()
	err := hs.Shutdown(dctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		_ = hs.Close()
		return fmt.Errorf("sandbox shutdown: %w", err)
	}
	return nil
}
