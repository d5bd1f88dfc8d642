package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"
)

// requestIDHeader carries the request id: taken from a trusted front proxy when it looks like one
// (letters, digits, '-', '_', '.', at most 64), generated otherwise, and always echoed in the answer.
const requestIDHeader = "X-Request-Id"

type requestIDKey struct{}

// requestID returns the id of the request ctx belongs to ("" outside a request).
func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

func validRequestID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
		if !ok {
			return false
		}
	}
	return true
}

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails on supported platforms
	return hex.EncodeToString(b)
}

// statusRecorder remembers the status code and size of an answer. Unwrap lets
// http.ResponseController reach the real writer (flush, deadlines).
type statusRecorder struct {
	http.ResponseWriter
	code  int
	bytes int64
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// accessLog wraps the public mux: a request id, one log line per request and the HTTP metrics.
//
// The line has method, route (the mux pattern that matched, e.g. "GET /readyz" or "/api/webchat/messages" — never
// the raw path or query, which can carry session ids and tokens), status, duration, size and request
// id; never headers, bodies or message text. Health probes log at debug level.
func accessLog(mux *http.ServeMux, log *slog.Logger, m *promMetrics) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(requestIDHeader)
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set(requestIDHeader, id)
		rec := &statusRecorder{ResponseWriter: w}
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
		// ServeMux.ServeHTTP sets r.Pattern on this request when a pattern matches; a handler's own
		// mux (the web chat's, the console's) sets it again, so the innermost pattern is reported.
		mux.ServeHTTP(rec, r)
		code := rec.code
		if code == 0 {
			code = http.StatusOK
		}
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		d := time.Since(start)
		if m != nil {
			m.observeHTTP(route, r.Method, code, d)
		}
		level := slog.LevelInfo
		if route == "GET /healthz" || route == "GET /readyz" {
			level = slog.LevelDebug
		}
		log.LogAttrs(r.Context(), level, "http request",
			slog.String("method", r.Method), slog.String("route", route), slog.Int("status", code),
			slog.Duration("duration", d), slog.Int64("bytes", rec.bytes), slog.String("request_id", id))
	})
}
