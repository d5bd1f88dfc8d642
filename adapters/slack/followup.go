package slack

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/kefu-dev/kefu/bot"
)

// Follow-through tasks, FAQ answers and FAQ drafts from Slack (issue 11): `/kefu task GD… …`, a Done
// button for each open task on the card, the top-3 FAQ suggestions on an open ticket's card with a
// button each that sends the entry's answer (a KB citation), and an "Add to FAQ" button on a resolved
// ticket's card that makes a draft entry for a supervisor.

// FollowUp is the optional runner behind them (cmd/kefu wires *bot.Engine). When Options.FollowUp is
// nil, /kefu task answers "not available" and cards carry none of these blocks.
type FollowUp interface {
	AddTask(ctx context.Context, a bot.Actor, no string, n bot.NewTask) (bot.Task, error)
	SetTaskState(ctx context.Context, a bot.Actor, no string, id int64, s bot.TaskState, note string) (bot.Task, error)
	Tasks(ctx context.Context, no string) ([]bot.Task, error)
	TaskKinds() []string
	ReplyFAQ(ctx context.Context, a bot.Actor, no, id string) (bot.Ticket, error)
	DraftFAQ(ctx context.Context, a bot.Actor, no string) (bot.FAQDraft, error)
	// FAQSuggestions returns up to k entries matching the ticket's words, best first.
	FAQSuggestions(t bot.Ticket, k int) []FAQEntry
}

// Action ids of the follow-up buttons. Values: "GD…|task id", "GD…|FAQ id", "GD…".
const (
	actTaskDone = "kefu_task_done"
	actFAQReply = "kefu_faq_reply"
	actFAQDraft = "kefu_faq_draft"
)

// splitValue reads a "GD…|x" button value.
func splitValue(v string) (no, arg string, ok bool) {
	no, arg, ok = strings.Cut(v, "|")
	no, okNo := ticketNo(no)
	return no, arg, ok && okNo && arg != ""
}

// followUpBlocks are the card's follow-up blocks: open tasks with a Done button, FAQ suggestions with a
// Send button (open tickets), an Add-to-FAQ button (resolved or closed tickets). The lookups are
// bounded like the known-issues one: a slow database cannot hold the card back.
func (a *App) followUpBlocks(t bot.Ticket) []slack.Block {
	f := a.o.FollowUp
	if f == nil {
		return nil
	}
	var blocks []slack.Block
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	ts, err := f.Tasks(ctx, t.No)
	if err != nil {
		a.log.Warn("card: tasks", "ticket_no", t.No, "err", err)
	}
	now := a.now()
	for _, k := range ts {
		if k.State != bot.TaskOpen {
			continue
		}
		key := "slack.card.task"
		if k.Late(now) {
			key = "slack.card.task_late"
		}
		text := mrkdwn(a.tr(key, map[string]any{"id": k.ID, "name": escape(a.trOr("task.kind."+k.Kind, k.Kind)),
			"owner": mention(k.Owner), "due": slackDate(k.DueAt), "text": truncate(escape(t.Masker().Text(k.Note)), 300)}))
		var acc *slack.Accessory
		if t.Status != bot.StatusClosed {
			done := slack.NewButtonBlockElement(actTaskDone, t.No+"|"+strconv.FormatInt(k.ID, 10), plain(a.tr("slack.btn.task_done", nil)))
			acc = slack.NewAccessory(done)
		}
		blocks = append(blocks, slack.NewSectionBlock(text, nil, acc, slack.SectionBlockOptionBlockID(fmt.Sprintf("kefu_task_%d", k.ID))))
		if len(blocks) >= 10 { // a card stays readable; the rest is in /kefu task GD… list
			break
		}
	}
	switch {
	case t.Open():
		hits := f.FAQSuggestions(t, 3)
		if len(hits) > 0 {
			blocks = append(blocks, slack.NewContextBlock("kefu_faq_title", mrkdwn(a.tr("slack.card.faq_title", nil))))
		}
		for i, h := range hits {
			text := mrkdwn(a.tr("slack.card.faq", map[string]any{"id": escape(h.ID), "question": truncate(escape(h.Question), 200),
				"answer": truncate(escape(h.Answer), 400)}))
			send := slack.NewButtonBlockElement(actFAQReply, t.No+"|"+h.ID, plain(a.tr("slack.btn.faq_send", nil)))
			blocks = append(blocks, slack.NewSectionBlock(text, nil, slack.NewAccessory(send), slack.SectionBlockOptionBlockID(fmt.Sprintf("kefu_faq_%d", i+1))))
		}
	default: // resolved or closed: the reply may become an FAQ entry
		draft := slack.NewButtonBlockElement(actFAQDraft, t.No, plain(a.tr("slack.btn.faq_draft", nil)))
		blocks = append(blocks, slack.NewActionBlock("kefu_done_actions", draft))
	}
	return blocks
}

// followUpButton handles the follow-up buttons; handled is false for other action ids.
func (a *App) followUpButton(ctx context.Context, actor bot.Actor, act slack.BlockAction) (text string, handled bool) {
	f := a.o.FollowUp
	switch act.ActionID {
	case actTaskDone, actFAQReply, actFAQDraft:
	default:
		return "", false
	}
	if f == nil {
		return a.tr("slack.error.unavailable", nil), true
	}
	if act.ActionID == actFAQDraft {
		no, ok := ticketNo(act.Value)
		if !ok {
			return a.tr("slack.error.bad_input", nil), true
		}
		d, err := f.DraftFAQ(ctx, actor, no)
		if err != nil {
			return a.followUpErr(ctx, err, no, d.ID), true
		}
		return a.tr("slack.done.faq_draft", map[string]any{"no": no, "id": d.ID, "question": truncate(escape(d.Question), 300),
			"answer": truncate(escape(d.Answer), 1000)}), true
	}
	no, arg, ok := splitValue(act.Value)
	if !ok {
		return a.tr("slack.error.bad_input", nil), true
	}
	if act.ActionID == actFAQReply {
		if _, err := f.ReplyFAQ(ctx, actor, no, arg); err != nil {
			return a.followUpErr(ctx, err, no, 0), true
		}
		return a.tr("slack.done.faq_replied", map[string]any{"no": no, "id": escape(arg)}), true
	}
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil {
		return a.tr("slack.error.bad_input", nil), true
	}
	k, err := f.SetTaskState(ctx, actor, no, id, bot.TaskDone, "")
	if err != nil {
		return a.followUpErr(ctx, err, no, 0), true
	}
	return a.tr("slack.done.task", map[string]any{"no": no, "id": k.ID, "state": a.tr("slack.task.state."+string(k.State), nil)}), true
}

// followUpErr explains the follow-up operations' errors; others go to errText.
func (a *App) followUpErr(ctx context.Context, err error, no string, draft int64) string {
	args := map[string]any{"no": no, "id": draft}
	var wc *bot.WindowClosedError
	switch {
	case errors.As(err, &wc):
		return a.errText(ctx, err, no)
	case errors.Is(err, bot.ErrDraftExists):
		return a.tr("slack.error.draft_exists", args)
	case errors.Is(err, bot.ErrNotResolved):
		return a.tr("slack.error.not_resolved", args)
	case errors.Is(err, bot.ErrNoReply):
		return a.tr("slack.error.no_own_reply", args)
	case errors.Is(err, bot.ErrNoTask):
		return a.tr("slack.error.no_task", args)
	case errors.Is(err, bot.ErrUnknownTkt):
		return a.errText(ctx, err, no)
	case errors.Is(err, bot.ErrNotFound): // ReplyFAQ: no such entry
		return a.tr("slack.faq.unknown", map[string]any{"id": ""})
	}
	return a.errText(ctx, err, no)
}

// task runs `/kefu task GD… [list | add KIND OWNER DUE [note] | done ID [note] | cancel ID reason |
// reopen ID [note]]`.
func (a *App) task(ctx context.Context, actor bot.Actor, c Command) (*slack.WebhookMessage, bool) {
	f := a.o.FollowUp
	if f == nil {
		return ephemeral(a.tr("slack.error.unavailable", nil)), false
	}
	usage := ephemeral(a.tr("slack.error.syntax", map[string]any{"usage": a.tr("slack.usage.task", nil)}))
	words := strings.Fields(c.Text)
	word := func(i int) string {
		if i < len(words) {
			return words[i]
		}
		return ""
	}
	rest := func(i int) string { return strings.Join(words[min(i, len(words)):], " ") }
	sub := strings.ToLower(word(0))
	no := c.Ticket
	switch sub {
	case "", "list":
		ts, err := f.Tasks(ctx, no)
		if err != nil {
			return ephemeral(a.errText(ctx, err, no)), false
		}
		if len(ts) == 0 {
			return ephemeral(a.tr("slack.task.none", map[string]any{"no": no})), false
		}
		var b strings.Builder
		b.WriteString(a.tr("slack.task.header", map[string]any{"no": no}))
		now := a.now()
		for _, k := range ts {
			state := a.tr("slack.task.state."+string(k.State), nil)
			if k.Late(now) {
				state = a.tr("slack.task.state.late", nil)
			}
			b.WriteString("\n" + a.tr("slack.task.line", map[string]any{"id": k.ID, "name": escape(a.trOr("task.kind."+k.Kind, k.Kind)),
				"owner": mention(k.Owner), "due": slackDate(k.DueAt), "state": state}))
		}
		return ephemeral(b.String()), false
	case "add":
		due, ok := relativeDue(word(3), a.now())
		if word(1) == "" || word(2) == "" || !ok {
			return usage, false
		}
		owner := word(2)
		if m := userRe.FindStringSubmatch(owner); m != nil {
			owner = actorID(m[1] + m[2])
		}
		k, err := f.AddTask(ctx, actor, no, bot.NewTask{Kind: strings.ToLower(word(1)), Owner: owner, Due: due, Note: rest(4)})
		if errors.Is(err, bot.ErrBadInput) {
			return ephemeral(a.tr("slack.task.bad", map[string]any{"text": strings.Join(f.TaskKinds(), ", ")})), false
		}
		if err != nil {
			return ephemeral(a.followUpErr(ctx, err, no, 0)), false
		}
		return ephemeral(a.tr("slack.done.task_added", map[string]any{"no": no, "id": k.ID, "name": escape(a.trOr("task.kind."+k.Kind, k.Kind)),
			"owner": mention(k.Owner), "due": slackDate(k.DueAt)})), true
	case "done", "cancel", "reopen":
		id, err := strconv.ParseInt(strings.TrimPrefix(word(1), "#"), 10, 64)
		if err != nil || id <= 0 || sub == "cancel" && rest(2) == "" {
			return usage, false
		}
		state := map[string]bot.TaskState{"done": bot.TaskDone, "cancel": bot.TaskCancelled, "reopen": bot.TaskOpen}[sub]
		k, err := f.SetTaskState(ctx, actor, no, id, state, rest(2))
		if err != nil {
			return ephemeral(a.followUpErr(ctx, err, no, 0)), false
		}
		return ephemeral(a.tr("slack.done.task", map[string]any{"no": no, "id": k.ID, "state": a.tr("slack.task.state."+string(k.State), nil)})), true
	}
	return usage, false
}

// relativeDue reads a due time from now: "24h", "90m", "3d".
func relativeDue(s string, now time.Time) (time.Time, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err := strconv.Atoi(n)
		if err != nil || d <= 0 || d > 365 {
			return time.Time{}, false
		}
		return now.Add(time.Duration(d) * 24 * time.Hour), true
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 || d > 366*24*time.Hour {
		return time.Time{}, false
	}
	return now.Add(d), true
}
