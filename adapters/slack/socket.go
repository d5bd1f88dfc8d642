package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// runSocket serves Socket Mode with the same handlers as the HTTP endpoints: Slack needs no public URL.
// Each envelope is acknowledged (with the answer when it is ready within AckTimeout).
func (a *App) runSocket(ctx context.Context) error {
	client := socketmode.New(a.api,
		socketmode.OptionLog(slog.NewLogLogger(a.log.Handler(), slog.LevelDebug)))
	errc := make(chan error, 1)
	go func() { errc <- client.RunContext(ctx) }()
	for {
		select {
		case <-ctx.Done():
			<-errc
			return nil
		case err := <-errc:
			if ctx.Err() != nil || errors.Is(err, context.Canceled) {
				return nil
			}
			return fmt.Errorf("slack: socket mode: %w", err)
		case ev := <-client.Events:
			a.socketEvent(ctx, client, ev)
		}
	}
}

func (a *App) socketEvent(ctx context.Context, client *socketmode.Client, ev socketmode.Event) {
	ack := func(payload any) {
		if ev.Request == nil || ev.Request.EnvelopeID == "" {
			return
		}
		if err := client.AckCtx(ctx, ev.Request.EnvelopeID, payload); err != nil {
			a.log.ErrorContext(ctx, "socket mode ack failed", "err", err)
		}
	}
	switch ev.Type {
	case socketmode.EventTypeSlashCommand:
		sc, ok := ev.Data.(slack.SlashCommand)
		if !ok {
			ack(nil)
			return
		}
		m, inline := a.answerCommand(ctx, sc)
		if inline {
			ack(m)
			return
		}
		ack(nil)
	case socketmode.EventTypeInteractive:
		ic, ok := ev.Data.(slack.InteractionCallback)
		if !ok {
			ack(nil)
			return
		}
		if resp := a.handleInteraction(ctx, ic); resp != nil {
			ack(resp)
			return
		}
		ack(nil)
	case socketmode.EventTypeEventsAPI:
		e, ok := ev.Data.(slackevents.EventsAPIEvent)
		if ok && e.Type == slackevents.CallbackEvent {
			if err := a.dispatchEvent(ctx, e); err != nil {
				return // no ack: Slack redelivers the envelope
			}
		}
		ack(nil)
	case socketmode.EventTypeConnectionError, socketmode.EventTypeInvalidAuth:
		a.log.WarnContext(ctx, "socket mode connection problem", "type", ev.Type, "err", ev.Data)
	}
}
