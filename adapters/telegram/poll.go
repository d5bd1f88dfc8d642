package telegram

import (
	"context"
	"errors"
	"fmt"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/kefu-dev/kefu/bot"
)

// allowedUpdates are the update types kefu asks for; anything else Telegram sends is ignored.
var allowedUpdates = []string{"message", "edited_message", "callback_query", "my_chat_member"}

// pollLimit is the getUpdates batch size (Telegram's maximum is 100).
const pollLimit = 100

// poll is the long-polling loop. GetUpdatesChan is not used: it confirms updates before kefu has
// stored them, sleeps 3 s without a context and logs with the standard logger.
//
// The offset sent to getUpdates confirms every update below it. It only moves past an update after
// handle returned nil for it, i.e. after Sink.Deliver stored it (or the update was deliberately
// ignored); a Deliver error is retried with backoff (bot.DeliverRetry) and never skipped, except
// ErrBadInput, which retrying cannot fix: that update is logged at error level and confirmed.
func (a *Adapter) poll(ctx context.Context, sink bot.Sink) error {
	if _, err := a.call(ctx).Request(tgbotapi.DeleteWebhookConfig{}); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		// A webhook left behind makes getUpdates answer 409; the loop below logs that and retries.
		a.log.WarnContext(ctx, "deleteWebhook failed", "err", redact(err, a.opt.Token))
	}
	offset := 0
	failures := 0
	for ctx.Err() == nil {
		updates, err := a.call(ctx).GetUpdates(tgbotapi.UpdateConfig{
			Offset:         offset,
			Limit:          pollLimit,
			Timeout:        int(a.opt.PollTimeout / time.Second),
			AllowedUpdates: allowedUpdates,
		})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			failures++
			wait := a.backoff.Delay(failures)
			var tgErr *tgbotapi.Error
			if errors.As(err, &tgErr) && tgErr.RetryAfter > 0 {
				wait = time.Duration(tgErr.RetryAfter) * time.Second
			}
			a.log.ErrorContext(ctx, "getUpdates failed", "err", redact(err, a.opt.Token), "retry_in", wait)
			if !bot.Sleep(ctx, wait) {
				return nil
			}
			continue
		}
		failures = 0
		for _, u := range updates {
			if u.UpdateID < offset {
				continue // already confirmed; a misbehaving server repeated it
			}
			if err := a.handleRetrying(ctx, sink, u); err != nil {
				return nil // ctx done: leave the offset where it is; the update comes back after a restart
			}
			offset = u.UpdateID + 1
		}
	}
	return nil
}

// handleRetrying handles u, retrying a failed Deliver with backoff until it succeeds or ctx is done
// (an ErrBadInput is logged and not retried).
func (a *Adapter) handleRetrying(ctx context.Context, sink bot.Sink, u tgbotapi.Update) error {
	return a.handle(ctx, sink, u, true)
}

// handle normalizes u, delivers its event and performs the platform chores around it: answering a
// callback query, removing a used keyboard, sending the group notice. It returns an error only when
// the update must be handled again (Deliver failed and retry is false, or ctx is done); failures of
// the chores are logged.
func (a *Adapter) handle(ctx context.Context, sink bot.Sink, u tgbotapi.Update, retry bool) error {
	act := normalize(u, a.self, time.Now())
	if act.CallbackID != "" {
		// Answer first so the spinner on the customer's button stops even if storing is slow. A
		// repeat (after a restart) fails with "query is too old", which is harmless.
		if _, err := a.call(ctx).Request(tgbotapi.NewCallback(act.CallbackID, "")); err != nil {
			a.log.DebugContext(ctx, "answerCallbackQuery failed", "update_id", u.UpdateID, "err", redact(err, a.opt.Token))
		}
	}
	if act.Event != nil {
		var err error
		if retry {
			err = bot.DeliverRetry(ctx, sink, *act.Event, a.backoff, a.log.With("update_id", u.UpdateID))
		} else {
			err = sink.Deliver(ctx, *act.Event)
		}
		switch {
		case err == nil:
			a.log.DebugContext(ctx, "delivered", "update_id", u.UpdateID, "msg_id", act.Event.MsgID, "kind", act.Event.Kind)
		case ctx.Err() != nil:
			return ctx.Err()
		case retry && errors.Is(err, bot.ErrBadInput):
			// Retrying cannot fix it: confirm the update (the offset moves on) rather than stall the loop.
			a.log.ErrorContext(ctx, "update rejected by the engine", "update_id", u.UpdateID, "msg_id", act.Event.MsgID, "err", err)
			return nil
		default:
			return fmt.Errorf("telegram: deliver update %d: %w", u.UpdateID, err)
		}
	}
	if act.Keyboard != nil {
		a.removeKeyboard(ctx, *act.Keyboard)
	}
	if act.NoticeChat != 0 {
		a.groupNotice(ctx, act.NoticeChat, act.NoticeLang)
	}
	if act.Ignore != "" {
		a.log.InfoContext(ctx, "update ignored", "update_id", u.UpdateID, "reason", act.Ignore)
	}
	return nil
}

// removeKeyboard takes the inline keyboard off a message whose button was pressed, so old buttons
// cannot be pressed twice. Telegram answers "message is not modified" when it is already gone.
func (a *Adapter) removeKeyboard(ctx context.Context, m msgRef) {
	cfg := tgbotapi.NewEditMessageReplyMarkup(m.ChatID, m.MessageID, tgbotapi.InlineKeyboardMarkup{
		InlineKeyboard: [][]tgbotapi.InlineKeyboardButton{},
	})
	if _, err := a.call(ctx).Request(cfg); err != nil {
		a.log.DebugContext(ctx, "remove keyboard failed", "chat_id", m.ChatID, "message_id", m.MessageID, "err", redact(err, a.opt.Token))
	}
}

// groupNotice tells a group where to reach the bot, at most once per GroupNoticeInterval per group.
// It is sent directly, not through the outbox: no conversation exists, and a lost notice costs nothing.
func (a *Adapter) groupNotice(ctx context.Context, chatID int64, lang string) {
	if a.opt.GroupNotice == nil {
		return
	}
	a.noticeMu.Lock()
	now := time.Now()
	if last, ok := a.lastNotice[chatID]; ok && now.Sub(last) < a.opt.GroupNoticeInterval {
		a.noticeMu.Unlock()
		a.log.DebugContext(ctx, "group notice suppressed", "chat_id", chatID)
		return
	}
	a.lastNotice[chatID] = now
	if len(a.lastNotice) > 10000 {
		for id, t := range a.lastNotice {
			if now.Sub(t) >= a.opt.GroupNoticeInterval {
				delete(a.lastNotice, id)
			}
		}
	}
	a.noticeMu.Unlock()
	text := a.opt.GroupNotice(lang)
	if text == "" {
		return
	}
	release, err := a.limits.acquire(ctx, chatID)
	if err != nil {
		return
	}
	_, err = a.call(ctx).Send(tgbotapi.NewMessage(chatID, text))
	release()
	if err != nil {
		a.log.WarnContext(ctx, "group notice failed", "chat_id", chatID, "err", redact(err, a.opt.Token))
	}
}
