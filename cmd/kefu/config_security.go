package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/kefu-dev/kefu/internal/clientip"
)

// SecurityConfig is the `security:` section (issue 15): who may say where a request comes from (the
// web chat's limits in `web:` and the console's sign-in backoff key on it), and how long the HTTP
// server waits for slow clients.
type SecurityConfig struct {
	// TrustedProxies are the reverse proxies (IP addresses or CIDR prefixes) whose X-Forwarded-For
	// header names the client. Empty: the peer address is the client, and the header is ignored.
	TrustedProxies []string `yaml:"trusted_proxies"`

	HTTP struct {
		ReadTimeout    time.Duration `yaml:"read_timeout"`    // whole request, body included
		WriteTimeout   time.Duration `yaml:"write_timeout"`   // from the end of the headers to the end of the answer
		IdleTimeout    time.Duration `yaml:"idle_timeout"`    // an idle keep-alive connection is closed after this
		MaxConnections int           `yaml:"max_connections"` // open connections at once; more wait in the kernel's queue
	} `yaml:"http"`
}

func defaultSecurityConfig() SecurityConfig {
	var s SecurityConfig
	s.HTTP.ReadTimeout = 30 * time.Second
	s.HTTP.WriteTimeout = 60 * time.Second
	s.HTTP.IdleTimeout = 2 * time.Minute
	s.HTTP.MaxConnections = 1000
	return s
}

func (s SecurityConfig) validate() error {
	var errs []error
	if _, err := clientip.New(s.TrustedProxies); err != nil {
		errs = append(errs, fmt.Errorf("security.trusted_proxies: %w", err))
	}
	for name, d := range map[string]time.Duration{"read_timeout": s.HTTP.ReadTimeout, "write_timeout": s.HTTP.WriteTimeout, "idle_timeout": s.HTTP.IdleTimeout} {
		if d < time.Second {
			errs = append(errs, failMsg(nil, "cli.cfg.http_timeout", "name", name, "value", d))
		}
	}
	if s.HTTP.MaxConnections < 1 {
		errs = append(errs, failMsg(nil, "cli.cfg.max_connections"))
	}
	return errors.Join(errs...)
}

// clientIPs is the resolver of client addresses; the configuration was validated.
func (s SecurityConfig) clientIPs() *clientip.Resolver {
	r, err := clientip.New(s.TrustedProxies)
	if err != nil {
		panic(err) // unreachable: Validate checked it
	}
	return r
}

// newHTTPServer is serve's HTTP server with every timeout set (issue 15, slowloris): a request, body
// included, must arrive within read_timeout, the answer leave within write_timeout, and an idle
// keep-alive connection is closed after idle_timeout. Serve also caps the open connections
// (netutil.LimitListener). Long polls are not used (the web chat polls), so no handler needs more.
func newHTTPServer(s SecurityConfig, h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: min(10*time.Second, s.HTTP.ReadTimeout),
		ReadTimeout:       s.HTTP.ReadTimeout,
		WriteTimeout:      s.HTTP.WriteTimeout,
		IdleTimeout:       s.HTTP.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug), // TLS handshake and timeout noise
	}
}
