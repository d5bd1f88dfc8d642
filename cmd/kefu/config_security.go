package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/kefu-dev/kefu/internal/clientip"
)

// SecurityConfig is the `security:` section: who may say where a request comes from, how much one
// web chat client may send, and how long the HTTP server waits for slow clients (issue 15). Every
// limit is on by default; a negative rate turns that limit off (load tests).
type SecurityConfig struct {
	// TrustedProxies are the reverse proxies (IP addresses or CIDR prefixes) whose X-Forwarded-For
	// header names the client. Empty: the peer address is the client, and the header is ignored.
	TrustedProxies []string `yaml:"trusted_proxies"`

	Web struct {
		MaxMessageBytes int `yaml:"max_message_bytes"` // longer web chat messages are refused before anything is stored
		// Per chat session and per client address (all its sessions together).
		MessagesPerSecond       float64 `yaml:"messages_per_second"`
		MessageBurst            int     `yaml:"message_burst"`
		ClientMessagesPerSecond float64 `yaml:"client_messages_per_second"`
		ClientMessageBurst      int     `yaml:"client_message_burst"`
		// New chat sessions per client address.
		SessionsPerSecond float64 `yaml:"sessions_per_second"`
		SessionBurst      int     `yaml:"session_burst"`
	} `yaml:"web"`

	HTTP struct {
		ReadTimeout    time.Duration `yaml:"read_timeout"`    // whole request, body included
		WriteTimeout   time.Duration `yaml:"write_timeout"`   // from the end of the headers to the end of the answer
		IdleTimeout    time.Duration `yaml:"idle_timeout"`    // an idle keep-alive connection is closed after this
		MaxConnections int           `yaml:"max_connections"` // open connections at once; more wait in the kernel's queue
	} `yaml:"http"`
}

func defaultSecurityConfig() SecurityConfig {
	var s SecurityConfig
	s.Web.MaxMessageBytes = 4096
	s.Web.MessagesPerSecond, s.Web.MessageBurst = 1, 20
	s.Web.ClientMessagesPerSecond, s.Web.ClientMessageBurst = 5, 60
	s.Web.SessionsPerSecond, s.Web.SessionBurst = 0.5, 20
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
	if s.Web.MaxMessageBytes < 1 {
		errs = append(errs, fmt.Errorf("security.web.max_message_bytes %d: want at least 1", s.Web.MaxMessageBytes))
	}
	for name, d := range map[string]time.Duration{"read_timeout": s.HTTP.ReadTimeout, "write_timeout": s.HTTP.WriteTimeout, "idle_timeout": s.HTTP.IdleTimeout} {
		if d < time.Second {
			errs = append(errs, fmt.Errorf("security.http.%s %v: want at least 1s", name, d))
		}
	}
	if s.HTTP.MaxConnections < 1 {
		errs = append(errs, errors.New("security.http.max_connections: want at least 1"))
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
