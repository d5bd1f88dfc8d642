package slack

import (
	"context"
	"fmt"
	"strings"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/flows"
	"github.com/kefu-dev/kefu/pii"
)

// Customers is the optional source of what the card's thread tells agents about the customer when a
// ticket opens (and `/kefu show` repeats): the intake details (masked) and earlier tickets (number,
// status, category, rating). *bot.Engine implements it.
type Customers interface {
	CustomerProfile(ctx context.Context, customerID int64) (flows.Profile, error)
	CustomerHistory(ctx context.Context, t bot.Ticket, limit int) ([]bot.Ticket, error)
}

const historyLimit = 5

// customerLines describes the customer of t for agents; nil when there is nothing to say.
func (a *App) customerLines(ctx context.Context, t bot.Ticket) ([]string, error) {
	if a.o.Customers == nil {
		return nil, nil
	}
	p, err := a.o.Customers.CustomerProfile(ctx, t.CustomerID)
	if err != nil {
		return nil, fmt.Errorf("customer profile: %w", err)
	}
	hist, err := a.o.Customers.CustomerHistory(ctx, t, historyLimit)
	if err != nil {
		return nil, fmt.Errorf("customer history: %w", err)
	}
	var lines, fields []string
	for _, f := range []struct{ key, v string }{
		{"intake.field.name", MaskName(p.Name)}, {"intake.field.phone", MaskPhone(p.Phone)}, {"intake.field.email", maskEmail(p.Email)},
	} {
		if f.v != "" {
			fields = append(fields, a.tr(f.key, nil)+": "+escape(f.v))
		}
	}
	if t.ExpectedBy != nil {
		fields = append(fields, a.tr("intake.field.expected_time", nil)+": "+slackDate(*t.ExpectedBy))
	}
	if len(fields) > 0 {
		lines = append(lines, "*"+a.tr("intake.profile.header", nil)+"* "+strings.Join(fields, " · "))
	}
	if len(hist) > 0 {
		lines = append(lines, "*"+a.tr("intake.history.header", nil)+"*")
		for _, h := range hist {
			score := "—"
			if h.Rating > 0 {
				score = fmt.Sprintf("%d/5", h.Rating)
			}
			lines = append(lines, "• "+a.tr("intake.history.line", map[string]any{"no": h.No, "status": "status." + string(h.Status),
				"category": categoryKey(h.Category), "score": score}))
		}
	}
	return lines, nil
}

// categoryKey is the locale key of a category ("category.none" for an uncategorized ticket).
func categoryKey(c string) string {
	if c == "" {
		return "category.none"
	}
	return "category." + c
}

func maskEmail(e string) string {
	if e == "" {
		return ""
	}
	return pii.MaskEmail(e)
}
