package pii

import (
	"context"
	"log/slog"
)

// MaskingHandler wraps a slog.Handler so that no personal data reaches the logs even when a message,
// an attribute or an error's text carries some (a platform's error echoing a message, a driver's error
// quoting a value): every string is masked like any text shown to the team. kefu never logs message
// text on purpose; this is the safety net.
func MaskingHandler(h slog.Handler) slog.Handler { return maskingHandler{h} }

type maskingHandler struct{ h slog.Handler }

func (m maskingHandler) Enabled(ctx context.Context, l slog.Level) bool { return m.h.Enabled(ctx, l) }

func (m maskingHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, Text(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(maskAttr(a))
		return true
	})
	return m.h.Handle(ctx, out)
}

func (m maskingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(as))
	for i, a := range as {
		masked[i] = maskAttr(a)
	}
	return maskingHandler{m.h.WithAttrs(masked)}
}

func (m maskingHandler) WithGroup(name string) slog.Handler {
	return maskingHandler{m.h.WithGroup(name)}
}

func maskAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, Text(v.String()))
	case slog.KindGroup:
		g := v.Group()
		out := make([]any, len(g))
		for i, x := range g {
			out[i] = maskAttr(x)
		}
		return slog.Group(a.Key, out...)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok && err != nil {
			return slog.String(a.Key, Text(err.Error()))
		}
		if s, ok := v.Any().(interface{ String() string }); ok {
			return slog.String(a.Key, Text(s.String()))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
