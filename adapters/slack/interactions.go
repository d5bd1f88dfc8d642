package slack

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/slack-go/slack"

	"github.com/kefu-dev/kefu/bot"
)

// serveInteraction handles card buttons (acknowledged at once, worked in the background) and modal
// submissions (answered inline so that a failure shows next to the input).
func (a *App) serveInteraction(w http.ResponseWriter, r *http.Request, _ []byte) {
	ic, err := slack.InteractionCallbackParse(r)
	if err != nil {
		http.Error(w, "bad payload", http.StatusBadRequest)
		return
	}
	if resp := a.handleInteraction(r.Context(), ic); resp != nil {
		writeJSON(w, resp)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// handleInteraction returns a body for Slack (view_submission errors) or nil for an empty ack.
func (a *App) handleInteraction(ctx context.Context, ic slack.InteractionCallback) *slack.ViewSubmissionResponse {
	switch ic.Type {
	case slack.InteractionTypeBlockActions:
		for _, act := range ic.ActionCallback.BlockActions {
			if act == nil || !strings.HasPrefix(act.ActionID, "kefu_") {
				continue
			}
			if act.ActionID == actReply || act.ActionID == actEscalate {
				// views.open needs the trigger_id within 3 s: do it now, it is one fast call.
				a.openModal(ctx, ic, act)
				continue
			}
			act := *act
			a.spawn(ctx, func(ctx context.Context) { a.button(ctx, ic, act) })
		}
		return nil
	case slack.InteractionTypeViewSubmission:
		return a.submit(ctx, ic)
	}
	return nil
}

func channelOf(ic slack.InteractionCallback) string {
	if ic.Channel.ID != "" {
		return ic.Channel.ID
	}
	return ic.Container.ChannelID
}

func (a *App) button(ctx context.Context, ic slack.InteractionCallback, act slack.BlockAction) {
	channel := channelOf(ic)
	actor, ok := a.actor(ctx, ic.User.ID, ic.User.Name)
	if !ok {
		a.tellEphemeral(ctx, channel, ic.User.ID, a.tr("slack.refused", nil))
		return
	}
	if text, ok := a.followUpButton(ctx, actor, act); ok { // followup.go
		a.kickFeed()
		a.tellEphemeral(ctx, channel, ic.User.ID, text)
		return
	}
	no := act.Value
	var (
		t   bot.Ticket
		err error
		key string
	)
	args := map[string]any{"no": no}
	switch act.ActionID {
	case actClaim:
		t, err = a.desk.Claim(ctx, actor, no)
		if errors.Is(err, bot.ErrConflict) {
			a.tellEphemeral(ctx, channel, ic.User.ID, a.claimedBy(ctx, no))
			return
		}
		key = "slack.done.claimed"
	case actResolve:
		t, err = a.desk.Resolve(ctx, actor, no, "")
		key = "slack.done.status"
	case actAck:
		err = a.ack(ctx, actor, no)
		key = "slack.done.acked"
	case actPriority:
		n, p, _ := strings.Cut(act.SelectedOption.Value, "|")
		no = n
		args["no"], args["priority"] = n, p
		if !oneOf(p, priorities) {
			err = bot.ErrBadInput
			break
		}
		t, err = a.desk.SetPriority(ctx, actor, no, bot.Priority(p))
		key = "slack.done.priority"
	default:
		return
	}
	if err != nil {
		a.tellEphemeral(ctx, channel, ic.User.ID, a.errText(ctx, err, no))
		return
	}
	args["status"] = a.statusLabel(t.Status)
	a.kickFeed()
	a.tellEphemeral(ctx, channel, ic.User.ID, a.tr(key, args))
}

// tellEphemeral posts text visible only to user in channel.
func (a *App) tellEphemeral(ctx context.Context, channel, user, text string) {
	if channel == "" {
		channel = user
	}
	if _, err := a.api.PostEphemeralContext(ctx, channel, user, slack.MsgOptionText(text, false)); err != nil {
		a.log.ErrorContext(ctx, "chat.postEphemeral failed", "err", err)
	}
}

func (a *App) openModal(ctx context.Context, ic slack.InteractionCallback, act *slack.BlockAction) {
	channel := channelOf(ic)
	if agent, _, _ := a.access.role(ctx, ic.User.ID); !agent {
		a.spawn(ctx, func(ctx context.Context) { a.tellEphemeral(ctx, channel, ic.User.ID, a.tr("slack.refused", nil)) })
		return
	}
	cb := viewReply
	if act.ActionID == actEscalate {
		cb = viewEscalate
	}
	if _, err := a.api.OpenViewContext(ctx, ic.TriggerID, a.modal(cb, act.Value, channel)); err != nil {
		a.log.ErrorContext(ctx, "views.open failed", "ticket_no", act.Value, "err", err)
		a.spawn(ctx, func(ctx context.Context) {
			a.tellEphemeral(ctx, channel, ic.User.ID, a.tr("slack.error.internal", map[string]any{"no": act.Value}))
		})
	}
}

// submit handles the Reply / Escalate modals. Errors are shown on the input; success closes the modal.
func (a *App) submit(ctx context.Context, ic slack.InteractionCallback) *slack.ViewSubmissionResponse {
	if ic.View.CallbackID != viewReply && ic.View.CallbackID != viewEscalate {
		return nil
	}
	no, channel, _ := strings.Cut(ic.View.PrivateMetadata, "|")
	text := ""
	if ic.View.State != nil {
		text = strings.TrimSpace(ic.View.State.Values[inputBlock][inputAction].Value)
	}
	fail := func(msg string) *slack.ViewSubmissionResponse {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{inputBlock: truncate(msg, 150)})
	}
	if text == "" {
		return fail(a.tr("slack.error.empty", nil))
	}
	work := func(ctx context.Context) *slack.WebhookMessage {
		actor, ok := a.actor(ctx, ic.User.ID, ic.User.Name)
		if !ok {
			return &slack.WebhookMessage{Text: a.tr("slack.refused", nil)}
		}
		var err error
		key := "slack.done.replied"
		if ic.View.CallbackID == viewEscalate {
			_, err = a.desk.Escalate(ctx, actor, no, text)
			key = "slack.done.escalated"
		} else {
			_, err = a.desk.Reply(ctx, actor, no, text)
		}
		if err != nil {
			return &slack.WebhookMessage{Text: a.errText(ctx, err, no)}
		}
		a.kickFeed()
		return &slack.WebhookMessage{ResponseType: "ok", Text: a.tr(key, map[string]any{"no": no})}
	}
	m, inline := a.within(ctx, work, func(ctx context.Context, m *slack.WebhookMessage) {
		a.tellEphemeral(ctx, channel, ic.User.ID, m.Text) // too slow for the modal: tell in the channel
	})
	if !inline || m == nil || m.ResponseType == "ok" {
		return nil
	}
	return fail(m.Text)
}
