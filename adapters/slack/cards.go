package slack

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/kefu-dev/kefu/bot"
)

// Action ids of the card's interactive elements; each carries the ticket number as its value.
const (
	actClaim    = "kefu_claim"
	actReply    = "kefu_reply"
	actResolve  = "kefu_resolve"
	actEscalate = "kefu_escalate"
	actPriority = "kefu_priority"

	viewReply    = "kefu_reply"    // modal callback ids
	viewEscalate = "kefu_escalate" //
	inputBlock   = "kefu_input"
	inputAction  = "kefu_text"
)

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}
func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, true, false)
}

// slackDate renders t in each reader's own time zone (Slack date formatting), with a UTC fallback.
func slackDate(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), t.UTC().Format("2006-01-02 15:04 UTC"))
}

func mention(actor string) string {
	if u := slackUser(actor); u != "" {
		return "<@" + u + ">"
	}
	return escape(actor)
}

func (a *App) statusLabel(s bot.Status) string { return a.trOr("slack.status."+string(s), string(s)) }
func (a *App) categoryLabel(c string) string {
	if c == "" { // an uncategorized ticket is labelled, never blank
		return a.tr("category.none", nil)
	}
	return a.trOr("category."+c, c)
}
func (a *App) channelLabel(c bot.Channel) string {
	return a.trOr("slack.channel."+string(c), string(c))
}

// cardText is the notification text of a card (what Slack shows in notifications and old clients).
func (a *App) cardText(t bot.Ticket) string {
	return a.tr("slack.card.text", map[string]any{
		"no": t.No, "priority": string(t.Priority), "category": a.categoryLabel(t.Category),
		"status": a.statusLabel(t.Status), "summary": truncate(escape(t.Masker().Text(t.Summary)), 150),
	})
}

// cardBlocks renders a ticket as a Block Kit card. Personal data is masked.
func (a *App) cardBlocks(t bot.Ticket, actions bool) []slack.Block {
	field := func(key, val string) *slack.TextBlockObject {
		return mrkdwn("*" + a.tr(key, nil) + "*\n" + val)
	}
	customer := strings.TrimSpace(MaskName(t.CustomerName) + " " + MaskPhone(t.CustomerPhone))
	if customer == "" {
		customer = "—"
	}
	assignee := a.tr("slack.card.unassigned", nil)
	if t.Assignee != "" {
		assignee = mention(t.Assignee)
	}
	fields := []*slack.TextBlockObject{
		field("slack.field.priority", string(t.Priority)),
		field("slack.field.category", escape(a.categoryLabel(t.Category))),
		field("slack.field.status", a.statusLabel(t.Status)),
		field("slack.field.channel", a.channelLabel(t.Channel)),
		field("slack.field.customer", escape(customer)),
		field("slack.field.assignee", assignee),
		field("slack.field.first_response_due", slackDate(t.FirstResponseDue)),
		field("slack.field.resolution_due", slackDate(t.ResolutionDue)),
	}
	if t.OrderNo != "" {
		fields = append(fields, field("slack.field.order", escape(t.Masker().Text(t.OrderNo))))
	}
	if t.Rating > 0 {
		fields = append(fields, field("slack.field.rating", fmt.Sprintf("%d/5", t.Rating)))
	}
	title := a.tr("slack.card.title", map[string]any{"no": t.No, "priority": string(t.Priority)})
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain(truncate(title, 150)), slack.HeaderBlockOptionBlockID("kefu_head")),
		slack.NewSectionBlock(nil, fields, nil, slack.SectionBlockOptionBlockID("kefu_fields")),
	}
	summary := t.Summary
	if summary == "" {
		summary = t.Description
	}
	summary = t.Masker().Text(summary)
	if summary != "" {
		blocks = append(blocks, slack.NewSectionBlock(
			mrkdwn("*"+a.tr("slack.field.summary", nil)+"*\n"+truncate(escape(summary), 2800)),
			nil, nil, slack.SectionBlockOptionBlockID("kefu_summary")))
	}
	var flags []string
	if t.Complaint {
		flags = append(flags, a.tr("slack.card.complaint", map[string]any{"level": t.ComplaintLevel, "repeat": t.RepeatOf}))
	}
	if t.Escalated {
		flags = append(flags, a.tr("slack.card.escalated", nil))
	}
	if t.Reopens > 0 {
		flags = append(flags, a.tr("slack.card.reopened", map[string]any{"count": t.Reopens}))
	}
	if t.FirstResponseAt != nil {
		flags = append(flags, a.tr("slack.card.first_response_at", map[string]any{"at": slackDate(*t.FirstResponseAt)}))
	}
	if t.Rating > 0 && t.RatingComment != "" {
		flags = append(flags, a.tr("slack.card.rating_comment", map[string]any{"comment": truncate(escape(t.Masker().Text(t.RatingComment)), 300)}))
	}
	if a.o.KnownIssues != nil && t.Open() {
		// 「已知问题 IMP-…」: the category has an open improvement record. A card is rendered inside a
		// request or the feed; the lookup is one indexed query, bounded here so a slow database cannot
		// hold the card back.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		for _, no := range a.o.KnownIssues(ctx, t.Category) {
			flags = append(flags, a.tr("improve.known_issue", map[string]any{"no": no}))
		}
		cancel()
	}
	if a.o.ReplyWindow != nil && t.Open() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if f := a.windowFlag(a.o.ReplyWindow(ctx, t)); f != "" {
			flags = append([]string{f}, flags...) // first: it decides whether replying is possible at all
		}
		cancel()
	}
	if a.o.ConsoleURL != "" {
		flags = append(flags, "<"+strings.TrimRight(a.o.ConsoleURL, "/")+"/tickets/"+t.No+"|"+a.tr("slack.card.console", nil)+">")
	}
	if len(flags) > 0 {
		var els []slack.MixedElement
		for _, f := range flags {
			els = append(els, mrkdwn(f))
		}
		if len(els) > 10 {
			els = els[:10]
		}
		blocks = append(blocks, slack.NewContextBlock("kefu_flags", els...))
	}
	if actions {
		blocks = append(blocks, a.followUpBlocks(t)...)
	}
	if actions && t.Open() {
		blocks = append(blocks, a.actionBlock(t))
	}
	return blocks
}

func (a *App) actionBlock(t bot.Ticket) *slack.ActionBlock {
	var els []slack.BlockElement
	if t.Assignee == "" {
		claim := slack.NewButtonBlockElement(actClaim, t.No, plain(a.tr("slack.btn.claim", nil)))
		claim.Style = slack.StylePrimary
		els = append(els, claim)
	}
	els = append(els,
		slack.NewButtonBlockElement(actReply, t.No, plain(a.tr("slack.btn.reply", nil))),
		slack.NewButtonBlockElement(actResolve, t.No, plain(a.tr("slack.btn.resolve", nil))),
	)
	esc := slack.NewButtonBlockElement(actEscalate, t.No, plain(a.tr("slack.btn.escalate", nil)))
	esc.Style = slack.StyleDanger
	els = append(els, esc)
	var opts []*slack.OptionBlockObject
	var initial *slack.OptionBlockObject
	for _, p := range priorities {
		o := slack.NewOptionBlockObject(t.No+"|"+p, plain(a.trOr("priority."+p, p)), nil)
		if p == string(t.Priority) {
			initial = o
		}
		opts = append(opts, o)
	}
	sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain(a.tr("slack.btn.priority", nil)), actPriority, opts...)
	sel.InitialOption = initial
	els = append(els, sel)
	return slack.NewActionBlock("kefu_actions", els...)
}

// modal builds the Reply / Escalate dialog. private_metadata carries "ticket|channel".
func (a *App) modal(callback, no, channel string) slack.ModalViewRequest {
	key := "slack.modal.reply"
	if callback == viewEscalate {
		key = "slack.modal.escalate"
	}
	in := slack.NewPlainTextInputBlockElement(plain(a.tr(key+".placeholder", nil)), inputAction)
	in.Multiline = true
	in.MaxLength = 3000
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      callback,
		PrivateMetadata: no + "|" + channel,
		Title:           plain(truncate(a.tr(key+".title", map[string]any{"no": no}), 24)),
		Submit:          plain(a.tr("slack.modal.submit", nil)),
		Close:           plain(a.tr("slack.modal.cancel", nil)),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock(inputBlock, plain(a.tr(key+".label", map[string]any{"no": no})), nil, in),
		}},
	}
}

// windowFlag is the card's line about the platform's reply window ("" when the channel has none).
func (a *App) windowFlag(w bot.WindowState) string {
	switch {
	case !w.Applies:
		return ""
	case w.Open:
		left := w.Left.Round(time.Minute)
		return a.tr("slack.card.window_open", map[string]any{"hours": int(left.Hours()), "minutes": int(left.Minutes()) % 60,
			"until": slackDate(w.Until)})
	case w.Until.IsZero():
		return a.tr("slack.card.window_none", nil)
	}
	return a.tr("slack.card.window_closed", map[string]any{"at": slackDate(w.Until)})
}
