package bot

import "context"

type onceKey struct{}

// WithOnce marks a desk action (Reply, Note, …) with an idempotency key: the action's transaction
// records the key, and an action whose key is already recorded does nothing and returns ErrDuplicate.
// Adapters use it for platform deliveries that may come twice (a Slack thread reply redelivered
// after a crash): the marker commits with the reply, never apart from it (issue 15).
func WithOnce(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, onceKey{}, key)
}

// OnceMarker is an optional Tx capability (found by type assertion): record key unless it is already
// recorded; false means it was.
type OnceMarker interface {
	MarkOnce(ctx context.Context, key, value string) (bool, error)
}

// markOnce records the context's once key in tx; ErrDuplicate when it was recorded before. Without
// a key, or a Tx that cannot record one, it does nothing.
func markOnce(ctx context.Context, tx Tx, value string) error {
	key, _ := ctx.Value(onceKey{}).(string)
	m, ok := tx.(OnceMarker)
	if key == "" || !ok {
		return nil
	}
	first, err := m.MarkOnce(ctx, key, value)
	if err != nil {
		return err
	}
	if !first {
		return ErrDuplicate
	}
	return nil
}
