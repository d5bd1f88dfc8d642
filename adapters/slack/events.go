package slack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/slack-go/slack/slackevents"
)

// serveEvent answers url_verification and acknowledges Events API callbacks at once; the work runs in
// the background.
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
		a.dispatchEvent(r.Context(), ev)
	}
	w.WriteHeader(http.StatusOK)
}

// dispatchEvent deduplicates a callback by event id and hands it to a background worker.
func (a *App) dispatchEvent(ctx context.Context, ev slackevents.EventsAPIEvent) {
	if cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent); ok && !a.seen.add("evt:"+cb.EventID) {
		return
	}
	msg, ok := ev.InnerEvent.Data.(*slackevents.MessageEvent)
	if !ok {
		return
	}
	m := *msg
	a.spawn(ctx, func(ctx context.Context) { a.threadMessage(ctx, m) })
}

// threadMessage relays an agent's reply in a card's thread to the customer; "//" marks an internal note.
func (a *App) threadMessage(ctx context.Context, m slackevents.MessageEvent) {
	if m.BotID != "" || m.SubType != "" && m.SubType != "file_share" && m.SubType != "thread_broadcast" {
		return // our own posts, edits, deletions, joins
	}
	if m.User == "" || m.ThreadTimeStamp == "" || m.ThreadTimeStamp == m.TimeStamp {
		return // not a thread reply
	}
	if m.User == a.botUser {
		return
	}
	if !a.seen.add("msg:" + m.Channel + ":" + m.TimeStamp) {
		return
	}
	no, ok, err := a.store.GetKV(ctx, threadKey(m.Channel, m.ThreadTimeStamp))
	if err != nil {
		a.log.ErrorContext(ctx, "thread lookup failed", "err", err)
		return
	}
	if !ok {
		return // a thread that is not a ticket card: none of our business
	}
	actor, isAgent := a.actor(ctx, m.User, "")
	if !isAgent {
		a.tellEphemeral(ctx, m.Channel, m.User, a.tr("slack.thread.refused", map[string]any{"no": no}))
		return
	}
	text := strings.TrimSpace(unescape(m.Text))
	if text == "" {
		return
	}
	internal := strings.HasPrefix(text, "//")
	if internal {
		text = strings.TrimSpace(strings.TrimPrefix(text, "//"))
		if text == "" {
			return
		}
	}
	// Mark the text as already shown in the thread, so the feed does not post it again.
	if err := a.store.SetKV(ctx, relayedKey(no, actor.ID, text), strconv.FormatInt(a.now().Unix(), 10)); err != nil {
		a.log.WarnContext(ctx, "relay marker not saved", "ticket_no", no, "err", err)
	}
	if internal {
		_, err = a.desk.Note(ctx, actor, no, text)
	} else {
		_, err = a.desk.Reply(ctx, actor, no, text)
	}
	if err != nil {
		a.tellEphemeral(ctx, m.Channel, m.User, a.errText(ctx, err, no))
		return
	}
	a.kickFeed()
}

func cardKey(no string) string            { return "slack:card:" + no }
func supCardKey(no string) string         { return "slack:supcard:" + no }
func threadKey(channel, ts string) string { return "slack:thread:" + channel + ":" + ts }
func relayedKey(no, actor, text string) string {
	h := sha256.Sum256([]byte(actor + "\x00" + text))
	return "slack:relayed:" + no + ":" + hex.EncodeToString(h[:12])
}
