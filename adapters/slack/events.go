package slack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"golang.org/x/text/unicode/norm"

	"github.com/kefu-dev/kefu/bot"
)

// serveEvent answers url_verification and handles Events API callbacks. A thread reply is relayed
// before Slack gets its 200 when that fits in AckTimeout (the usual case), so a failure can be retried
// by Slack; slower work continues in the background after the acknowledgement.
func (a *App) serveEvent(w http.ResponseWriter, r *http.Request, body []byte) {
	ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken()) // signature already checked
	if err != nil {
		http.Error(w, "bad event", http.StatusBadRequest)
		return
	}
	switch ev.Type {
	case slackevents.URLVerification:
		v, ok := ev.Data.(*slackevents.EventsAPIURLVerificationEvent)
		if !ok {
			http.Error(w, "bad event", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(v.Challenge))
		return
	case slackevents.CallbackEvent:
		if err := a.dispatchEvent(r.Context(), ev); err != nil {
			http.Error(w, "retry later", http.StatusServiceUnavailable) // Slack retries the delivery
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}

// dispatchEvent handles a callback, waiting up to AckTimeout. It returns an error only for a transient
// failure that a redelivery can fix.
func (a *App) dispatchEvent(ctx context.Context, ev slackevents.EventsAPIEvent) error {
	msg, ok := ev.InnerEvent.Data.(*slackevents.MessageEvent)
	if !ok {
		return nil
	}
	m := *msg
	res, inline := a.within(ctx, func(ctx context.Context) *slack.WebhookMessage {
		if err := a.threadMessage(ctx, m); err != nil {
			return &slack.WebhookMessage{Text: err.Error()}
		}
		return nil
	}, func(ctx context.Context, res *slack.WebhookMessage) {
		a.log.ErrorContext(ctx, "thread reply failed after ack", "err", res.Text)
	})
	if inline && res != nil {
		a.log.WarnContext(ctx, "thread reply failed; asking Slack to redeliver", "err", res.Text)
		return errors.New(res.Text)
	}
	return nil
}

// fingerprint keeps only the letters and digits of text after NFKC, so that the Desk's own normalizing
// (flows.Normalize) does not hide that a feed event repeats a thread message.
func fingerprint(text string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsNumber(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, norm.NFKC.String(text))
}

// threadMessage relays an agent's reply in a card's thread to the customer; "//" marks an internal note.
// It returns an error only when a retry may succeed (store unavailable); Desk refusals are told to the
// agent instead.
func (a *App) threadMessage(ctx context.Context, m slackevents.MessageEvent) error {
	if m.BotID != "" || m.SubType != "" && m.SubType != "file_share" && m.SubType != "thread_broadcast" {
		return nil // our own posts, edits, deletions, joins
	}
	if m.User == "" || m.ThreadTimeStamp == "" || m.ThreadTimeStamp == m.TimeStamp {
		return nil // not a thread reply
	}
	if bu, _ := a.botUser.Load().(string); m.User == bu {
		return nil
	}
	no, ok, err := a.store.GetKV(ctx, threadKey(m.Channel, m.ThreadTimeStamp))
	if err != nil {
		return fmt.Errorf("slack: thread lookup: %w", err)
	}
	if !ok {
		return nil // a thread that is not a ticket card: none of our business
	}
	doneKey := "slack:msg:" + m.Channel + ":" + m.TimeStamp
	if _, done, err := a.store.GetKV(ctx, doneKey); err != nil {
		return fmt.Errorf("slack: dedupe lookup: %w", err)
	} else if done {
		return nil // a redelivery of a message already relayed
	}
	if !a.seen.add(doneKey) {
		return nil // the same delivery is being handled right now
	}
	actor, isAgent := a.actor(ctx, m.User, "")
	if !isAgent {
		a.tellEphemeral(ctx, m.Channel, m.User, a.tr("slack.thread.refused", map[string]any{"no": no}))
		return nil
	}
	text := strings.TrimSpace(unescape(m.Text))
	internal := strings.HasPrefix(text, "//")
	if internal {
		text = strings.TrimSpace(strings.TrimPrefix(text, "//"))
	}
	if text == "" {
		return nil // a bare file or "//": nothing to relay
	}
	// Mark the text as already shown in the thread, so the feed does not post it again.
	if err := a.store.SetKV(ctx, relayedKey(no, actor.ID, text), strconv.FormatInt(a.now().Unix(), 10)); err != nil {
		a.log.WarnContext(ctx, "relay marker not saved", "ticket_no", no, "err", err)
	}
	// The dedupe marker commits in the reply's own transaction (bot.WithOnce): a crash between the
	// two cannot relay a redelivered message twice.
	octx := bot.WithOnce(ctx, doneKey)
	if internal {
		_, err = a.desk.Note(octx, actor, no, text)
	} else {
		_, err = a.desk.Reply(octx, actor, no, text)
	}
	if errors.Is(err, bot.ErrDuplicate) {
		return nil // relayed before (a redelivery)
	}
	if err != nil {
		a.tellEphemeral(ctx, m.Channel, m.User, a.errText(ctx, err, no))
		return nil
	}
	a.kickFeed()
	return nil
}

func cardKey(no string) string            { return "slack:card:" + no }
func supCardKey(no string) string         { return "slack:supcard:" + no }
func threadKey(channel, ts string) string { return "slack:thread:" + channel + ":" + ts }
func relayedKey(no, actor, text string) string {
	h := sha256.Sum256([]byte(actor + "\x00" + fingerprint(text)))
	return "slack:relayed:" + no + ":" + hex.EncodeToString(h[:12])
}
