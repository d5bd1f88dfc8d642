package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/webhook"
)

// webhookEndpoint is a configured receiver of outbound webhooks (`kefu webhook add`).
type webhookEndpoint struct {
	ID        int64 `gorm:"primaryKey"`
	Name      string
	URL       string
	Secret    string `gorm:"serializer:pii"` // sealed: it must be readable to sign, so it cannot be hashed
	Events    string // comma-separated event types
	CreatedAt time.Time
	// OldSecret signs deliveries too until OldSecretUntil (RotateWebhook).
	OldSecret      string `gorm:"serializer:pii"`
	OldSecretUntil *time.Time
}

func (webhookEndpoint) TableName() string { return "webhook_endpoints" }

func (w webhookEndpoint) toEndpoint() webhook.Endpoint {
	e := webhook.Endpoint{ID: w.ID, Name: w.Name, URL: w.URL, Secret: w.Secret, Events: strings.Split(w.Events, ","), CreatedAt: w.CreatedAt}
	if w.OldSecretUntil != nil {
		e.OldSecret, e.OldSecretUntil = w.OldSecret, *w.OldSecretUntil
	}
	return e
}

// ErrWebhookExists means an endpoint of that name exists already.
var ErrWebhookExists = errors.New("storage: a webhook endpoint of that name exists")

// AddWebhook stores a new endpoint for the given event types (all when none) and returns it, with its
// new signing secret (shown once by the CLI; stored sealed). Only http(s) URLs are accepted.
func (db *DB) AddWebhook(ctx context.Context, name, rawURL string, events []string) (webhook.Endpoint, error) {
	if name == "" {
		return webhook.Endpoint{}, fmt.Errorf("storage: add webhook: %w: empty name", bot.ErrBadInput)
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return webhook.Endpoint{}, fmt.Errorf("storage: add webhook: %w: URL %q (want http(s)://host/path, no user:password)", bot.ErrBadInput, rawURL)
	}
	if len(events) == 0 {
		events = webhook.Types
	}
	for _, e := range events {
		if !webhook.ValidType(e) {
			return webhook.Endpoint{}, fmt.Errorf("storage: add webhook: %w: event %q (want %s)", bot.ErrBadInput, e, strings.Join(webhook.Types, ", "))
		}
	}
	events = slices.Compact(slices.Sorted(slices.Values(events)))
	row := webhookEndpoint{Name: name, URL: rawURL, Secret: webhook.NewSecret(), Events: strings.Join(events, ","), CreatedAt: db.now()}
	g := db.gdb.WithContext(ctx)
	var n int64
	if err := g.Model(&webhookEndpoint{}).Where("name = ?", name).Count(&n).Error; err != nil {
		return webhook.Endpoint{}, fmt.Errorf("storage: add webhook: %w", err)
	}
	if n > 0 {
		return webhook.Endpoint{}, fmt.Errorf("%w: %q", ErrWebhookExists, name)
	}
	if err := g.Create(&row).Error; err != nil {
		return webhook.Endpoint{}, fmt.Errorf("storage: add webhook %q: %w", name, err)
	}
	return row.toEndpoint(), nil
}

// Webhooks lists the endpoints by name, without their secrets.
func (db *DB) Webhooks(ctx context.Context) ([]webhook.Endpoint, error) {
	var rows []webhookEndpoint
	if err := db.gdb.WithContext(ctx).Omit("secret", "old_secret").Order("name").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: webhooks: %w", err)
	}
	out := make([]webhook.Endpoint, len(rows))
	for i, r := range rows {
		out[i] = r.toEndpoint()
		out[i].Secret, out[i].OldSecret = "", ""
		if !out[i].OldSecretUntil.After(db.now()) {
			out[i].OldSecretUntil = time.Time{} // the overlap is over
		}
	}
	return out, nil
}

// RemoveWebhook deletes the endpoint called name; its deliveries still queued fail for good when
// their turn comes (webhook.ErrNoEndpoint). webhook.ErrNoEndpoint when there is none.
func (db *DB) RemoveWebhook(ctx context.Context, name string) error {
	res := db.gdb.WithContext(ctx).Where("name = ?", name).Delete(&webhookEndpoint{})
	if res.Error != nil {
		return fmt.Errorf("storage: remove webhook %q: %w", name, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("storage: remove webhook %q: %w", name, webhook.ErrNoEndpoint)
	}
	return nil
}

// RotateWebhookSecret gives the endpoint called name a new signing secret and returns it (shown once
// by the CLI). The replaced secret keeps signing deliveries, next to the new one, for overlap (0: it
// stops at once), so a receiver can switch to the new secret without refusing a delivery. Rotating
// again during an overlap drops the oldest secret: only the two newest ever sign.
// webhook.ErrNoEndpoint when there is none; a negative overlap is bad input.
func (db *DB) RotateWebhookSecret(ctx context.Context, name string, overlap time.Duration) (webhook.Endpoint, error) {
	if overlap < 0 {
		return webhook.Endpoint{}, fmt.Errorf("storage: rotate webhook %q: %w: negative overlap %v", name, bot.ErrBadInput, overlap)
	}
	var out webhook.Endpoint
	err := db.gdb.WithContext(ctx).Transaction(func(g *gorm.DB) error {
		var rows []webhookEndpoint
		if err := g.Where("name = ?", name).Limit(1).Find(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return webhook.ErrNoEndpoint
		}
		w := rows[0]
		var sealed string // the stored (sealed) secret: the guard below compares it as stored
		if err := g.Raw("SELECT secret FROM webhook_endpoints WHERE id = ?", w.ID).Scan(&sealed).Error; err != nil {
			return err
		}
		until := utc(db.now().Add(overlap))
		w.OldSecret, w.OldSecretUntil, w.Secret = w.Secret, &until, webhook.NewSecret()
		// Guarded by the secret read, so that of two rotations at once only one wins.
		res := g.Model(&w).Where("secret = ?", sealed).Select("secret", "old_secret", "old_secret_until").Updates(&w)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return fmt.Errorf("storage: rotate webhook %q: rotated at the same time by another process, try again", name)
		}
		out = w.toEndpoint()
		return nil
	})
	if err != nil {
		return webhook.Endpoint{}, fmt.Errorf("storage: rotate webhook %q: %w", name, err)
	}
	return out, nil
}

// WebhookByName is the endpoint called name (with its secrets, for a test ping).
// webhook.ErrNoEndpoint when there is none.
func (db *DB) WebhookByName(ctx context.Context, name string) (webhook.Endpoint, error) {
	var rows []webhookEndpoint
	if err := db.gdb.WithContext(ctx).Where("name = ?", name).Limit(1).Find(&rows).Error; err != nil {
		return webhook.Endpoint{}, fmt.Errorf("storage: webhook %q: %w", name, err)
	}
	if len(rows) == 0 {
		return webhook.Endpoint{}, fmt.Errorf("storage: webhook %q: %w", name, webhook.ErrNoEndpoint)
	}
	return rows[0].toEndpoint(), nil
}

// WebhookEndpoint implements webhook.Endpoints.
func (db *DB) WebhookEndpoint(ctx context.Context, id int64) (webhook.Endpoint, error) {
	var rows []webhookEndpoint
	if err := db.gdb.WithContext(ctx).Where("id = ?", id).Limit(1).Find(&rows).Error; err != nil {
		return webhook.Endpoint{}, fmt.Errorf("storage: webhook endpoint %d: %w", id, err)
	}
	if len(rows) == 0 {
		return webhook.Endpoint{}, webhook.ErrNoEndpoint
	}
	return rows[0].toEndpoint(), nil
}

// webhookFanout writes, in AddEvent's transaction, one outbox row per endpoint subscribed to the
// webhook event that ev (stored as id) raises, so the event and its deliveries commit together or
// not at all. The payload is built from the ticket as it is now (after the change and its SLA clock).
// hooks lists the endpoints as AddEvent's INSERT read them: "id:type,type;id:type…".
func (t *txStore) webhookFanout(ctx context.Context, g *gorm.DB, ev bot.TicketEvent, id int64, hooks string) error {
	typ, ok := webhook.TypeOf(ev)
	if !ok || hooks == "" {
		return nil
	}
	var eps []webhookEndpoint
	for _, h := range strings.Split(hooks, ";") {
		sid, events, ok := strings.Cut(h, ":")
		epID, err := strconv.ParseInt(sid, 10, 64)
		if !ok || err != nil {
			return fmt.Errorf("storage: webhooks for %s: endpoint %q", ev.TicketNo, h)
		}
		if e := (webhookEndpoint{ID: epID, Events: events}); e.toEndpoint().Wants(typ) {
			eps = append(eps, e)
		}
	}
	if len(eps) == 0 {
		return nil
	}
	var m ticket
	if err := g.Where("id = ?", ev.TicketID).Take(&m).Error; err != nil {
		return fmt.Errorf("storage: webhooks for %s: %w", ev.TicketNo, err)
	}
	tk := m.toBot()
	body, err := json.Marshal(webhook.NewPayload(id, typ, ev, tk))
	if err != nil {
		return fmt.Errorf("storage: webhooks for %s: %w", ev.TicketNo, err)
	}
	at := utc(ev.At)
	rows := make([]outboxRow, len(eps))
	for i, e := range eps {
		rows[i] = outboxRow{ConversationID: tk.ConversationID, Channel: string(webhook.Channel), ChatID: webhook.Chat(e.ID, tk.No),
			Text: string(body), Status: outboxPending, NextAttemptAt: at, CreatedAt: at}
	}
	if err := g.Create(&rows).Error; err != nil {
		return fmt.Errorf("storage: webhooks for %s: %w", ev.TicketNo, err)
	}
	return nil
}
