package main

import (
	"context"
	"strings"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/pii"
)

// intakeLines are what `kefu ticket show` adds from intake: the contact details the customer gave
// (name, phone, e-mail; masked by m) and the expected resolution time.
func intakeLines(ctx context.Context, a *app, t bot.Ticket, m pii.Masker) ([]string, error) {
	p, err := a.engine.CustomerProfile(ctx, t.CustomerID)
	if err != nil {
		return nil, err
	}
	var out []string
	var parts []string
	if p.Name != "" {
		parts = append(parts, msg("cli.intake.name", "v", m.Name(p.Name)))
	}
	if p.Phone != "" {
		parts = append(parts, msg("cli.intake.phone", "v", m.Phone(p.Phone)))
	}
	if p.Email != "" {
		email := p.Email
		if !m.Off {
			email = pii.MaskEmail(email)
		}
		parts = append(parts, msg("cli.intake.email", "v", email))
	}
	if len(parts) > 0 {
		out = append(out, fieldLine("cli.ticket.f.intake", strings.Join(parts, " · ")))
	}
	if t.ExpectedBy != nil {
		late := ""
		if t.Open() && time.Now().After(*t.ExpectedBy) {
			late = msg("cli.intake.passed")
		}
		out = append(out, fieldLine("cli.ticket.f.expected", msg("cli.intake.expected", "at", t.ExpectedBy.In(a.loc).Format("2006-01-02 15:04"), "late", late)))
	}
	return out, nil
}
