package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
)

// Server serves the API and /metrics. New, Start, Stop.
type Server struct {
	log     zerolog.Logger
	cfg     Config
	deps    Deps
	token   string
	handler http.Handler
	srv     *http.Server
	done    chan error
	addr    net.Addr
}

// New checks deps, reads the token, and builds the routes. It binds nothing.
func New(log zerolog.Logger, cfg Config, deps Deps) (*Server, error) {
	if deps.Status == nil || deps.Hosts == nil || deps.Attacks == nil || deps.Mitigations == nil {
		return nil, errors.New("api: every dependency (status, hosts, attacks, mitigations) is required")
	}
	tok, err := cfg.token()
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	s := &Server{log: log, cfg: cfg, deps: deps, token: tok}
	reg := prometheus.NewRegistry()
	reg.MustRegister(newCollector(deps.Status))
	s.handler = s.routes(promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: promLog{log}}))
	return s, nil
}

// Handler is the server's routes, for tests and embedding.
func (s *Server) Handler() http.Handler { return s.handler }

// Addr is the bound address after Start (useful with port 0).
func (s *Server) Addr() net.Addr { return s.addr }

// Start binds the listen address and serves in the background.
func (s *Server) Start(_ context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("api: listen on %s: %w", s.cfg.Listen, err)
	}
	s.addr = ln.Addr()
	s.srv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	s.done = make(chan error, 1)
	go func() { s.done <- s.srv.Serve(ln) }()
	s.log.Info().Str("listen", s.addr.String()).Bool("mutations", s.token != "").Msg("api serving")
	return nil
}

// Stop shuts down gracefully, waiting at most shutdown_timeout for requests
// in flight, then closes what is left.
func (s *Server) Stop() error {
	if s.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(fmt.Errorf("api: shutdown: %w", err), s.srv.Close())
	}
	if serr := <-s.done; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, fmt.Errorf("api: serve: %w", serr))
	}
	return err
}

func (s *Server) routes(metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.read(metrics))
	mux.Handle("GET /api/v1/status", s.read(http.HandlerFunc(s.getStatus)))
	mux.Handle("GET /api/v1/top", s.read(http.HandlerFunc(s.getTop)))
	mux.Handle("GET /api/v1/hosts/{ip}", s.read(http.HandlerFunc(s.getHost)))
	mux.Handle("GET /api/v1/attacks", s.read(http.HandlerFunc(s.getAttacks)))
	mux.Handle("GET /api/v1/mitigations", s.read(http.HandlerFunc(s.getMitigations)))
	mux.Handle("POST /api/v1/mitigations/ban", s.write(http.HandlerFunc(s.postBan)))
	mux.Handle("POST /api/v1/mitigations/unban", s.write(http.HandlerFunc(s.postUnban)))
	mux.Handle("POST /api/v1/config/reload", s.write(http.HandlerFunc(s.postReload)))
	mux.Handle("GET /api/v1/bgp", s.read(http.HandlerFunc(s.getBGP)))
	mux.Handle("POST /api/v1/bgp/announce", s.write(http.HandlerFunc(s.postAnnounce)))
	mux.Handle("POST /api/v1/bgp/withdraw", s.write(http.HandlerFunc(s.postWithdraw)))
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	return mux
}

// read guards a read endpoint: open unless require_token_for_reads.
func (s *Server) read(h http.Handler) http.Handler {
	if !s.cfg.RequireTokenForReads {
		return h
	}
	return s.write(h)
}

// write guards a state-changing endpoint with the bearer token.
func (s *Server) write(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.token == "" {
			writeError(w, http.StatusForbidden, "changes are disabled: set api.token or api.token_file")
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="rampart"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong bearer token")
			s.log.Warn().Str("remote", r.RemoteAddr).Str("path", r.URL.Path).Msg("api call refused: bad token")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// promLog passes promhttp's errors to zerolog.
type promLog struct{ log zerolog.Logger }

func (l promLog) Println(v ...any) { l.log.Error().Msg(strings.TrimSpace(fmt.Sprintln(v...))) }
