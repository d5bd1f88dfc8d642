package bot

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/kefu-dev/kefu/pii"
)

// The knowledge loop's other half (issue 11): a resolved ticket's agent reply becomes a DRAFT FAQ entry
// — the question from the customer's description, the answer from the reply, personal data removed —
// which a supervisor publishes (or rejects) with `kefu kb publish|reject` or from Slack.

// EvFAQDraft records that a draft FAQ entry was made from the ticket (Text: "#id").
const EvFAQDraft EventKind = "faq_draft"

// FAQDraftStatus is where a draft stands.
type FAQDraftStatus string

const (
	DraftOpen      FAQDraftStatus = "draft"
	DraftPublished FAQDraftStatus = "published"
	DraftRejected  FAQDraftStatus = "rejected"
)

// FAQDraft is a proposed FAQ entry made from a resolved ticket.
type FAQDraft struct {
	ID        int64
	TicketNo  string
	Lang      string
	Category  string
	Question  string // the customer's description, personal data removed
	Answer    string // the agent's reply, personal data removed
	Status    FAQDraftStatus
	EntryID   string // the published entry's id
	CreatedBy string
	CreatedAt time.Time
	DecidedBy string
	DecidedAt *time.Time
	Reason    string // why it was rejected
}

// FAQDraftTx stores drafts inside a desk transaction.
type FAQDraftTx interface {
	// SaveFAQDraft inserts d and returns it with its id.
	SaveFAQDraft(ctx context.Context, d FAQDraft) (FAQDraft, error)
	// OpenFAQDraft returns the ticket's draft still waiting for a decision, if any.
	OpenFAQDraft(ctx context.Context, ticketNo string) (FAQDraft, bool, error)
}

// ErrDraftExists refuses a second draft from a ticket whose first one still waits.
var ErrDraftExists = fmt.Errorf("a draft from this ticket is waiting for a supervisor: %w", ErrConflict)

// ErrNotResolved refuses a draft from a ticket that is not resolved or closed.
var ErrNotResolved = fmt.Errorf("the ticket is not resolved yet: %w", ErrBadInput)

// longNumber finds runs of 8 or more digits (order, tracking and account numbers) that pii.Find
// does not classify: an FAQ entry is read by every customer, so they go too.
var longNumber = regexp.MustCompile(`\d(?:[\s\-]?\d){7,}`)

// ScrubPII removes personal data from text for an FAQ entry every customer may read: phone numbers, ID
// and bank card numbers, e-mail addresses, the customer's names (names) and any other long number or
// given secret (the order number) are replaced by a placeholder in lang ("[手机号]", "[phone]").
// Masking (138****5678) is not enough here: the entry must not be about anyone.
func ScrubPII(text, lang string, names []string, secrets ...string) string {
	zh := !strings.HasPrefix(lang, "en")
	label := func(k pii.Kind) string {
		m := map[pii.Kind][2]string{pii.Phone: {"[手机号]", "[phone]"}, pii.IDCard: {"[证件号]", "[ID number]"},
			pii.Email: {"[邮箱]", "[e-mail]"}, pii.Card: {"[银行卡号]", "[card number]"}, pii.Name: {"[姓名]", "[name]"}}[k]
		if m[0] == "" {
			m = [2]string{"[个人信息]", "[personal data]"}
		}
		if zh {
			return m[0]
		}
		return m[1]
	}
	for _, s := range secrets {
		if s = strings.TrimSpace(s); len(s) >= 4 {
			text = strings.ReplaceAll(text, s, map[bool]string{true: "[订单号]", false: "[order number]"}[zh])
		}
	}
	var b strings.Builder
	last := 0
	for _, sp := range (pii.Masker{Names: names}).Find(text) {
		b.WriteString(text[last:sp.Start])
		b.WriteString(label(sp.Kind))
		last = sp.End
	}
	b.WriteString(text[last:])
	return longNumber.ReplaceAllString(b.String(), map[bool]string{true: "[编号]", false: "[number]"}[zh])
}

// DraftFAQ makes a draft FAQ entry from resolved (or closed) ticket no: the question is the customer's
// description (else the summary), the answer the last agent reply that was not itself an FAQ answer;
// personal data is removed from both. One draft per ticket waits at a time (ErrDraftExists).
func (e *Engine) DraftFAQ(ctx context.Context, a Actor, no string) (FAQDraft, error) {
	var out FAQDraft
	_, err := e.desk(ctx, a, no, func(ctx context.Context, d *deskTurn) error {
		if d.t.Open() {
			return fmt.Errorf("bot: faq draft from %s (%s): %w", d.t.No, d.t.Status, ErrNotResolved)
		}
		if cur, ok, err := d.tx.OpenFAQDraft(ctx, d.t.No); err != nil {
			return err
		} else if ok {
			out = cur
			return fmt.Errorf("bot: faq draft from %s: #%d: %w", d.t.No, cur.ID, ErrDraftExists)
		}
		evs, err := d.tx.TicketEvents(ctx, d.t.ID)
		if err != nil {
			return err
		}
		answer := draftAnswer(evs)
		if answer == "" {
			return fmt.Errorf("bot: faq draft from %s: %w (only FAQ answers or none)", d.t.No, ErrNoReply)
		}
		question := firstNonEmptyStr(strings.TrimSpace(d.t.Description), strings.TrimSpace(d.t.Summary))
		if question == "" {
			return fmt.Errorf("bot: faq draft from %s: %w: the ticket has no description", d.t.No, ErrBadInput)
		}
		conv, err := d.tx.Conversation(ctx, d.t.ConversationID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		lang := firstNonEmptyStr(d.t.Lang, "zh-CN")
		names := []string{d.t.CustomerName, conv.UserName}
		dr := FAQDraft{TicketNo: d.t.No, Lang: lang, Category: d.t.Category, Status: DraftOpen, CreatedBy: d.actor.ID, CreatedAt: d.at,
			Question: truncateRunes(ScrubPII(question, lang, names, d.t.OrderNo, d.t.CustomerPhone), 1000),
			Answer:   truncateRunes(ScrubPII(answer, lang, names, d.t.OrderNo, d.t.CustomerPhone), 4000)}
		if out, err = d.tx.SaveFAQDraft(ctx, dr); err != nil {
			return err
		}
		d.event(EvFAQDraft, fmt.Sprintf("#%d", out.ID), true)
		return nil
	})
	return out, err
}

// draftAnswer is the last agent reply that did not come from the FAQ (an EvFAQReply at the same time).
func draftAnswer(evs []TicketEvent) string {
	fromFAQ := map[time.Time]bool{}
	for _, ev := range evs {
		if ev.Kind == EvFAQReply {
			fromFAQ[ev.At] = true
		}
	}
	for i := len(evs) - 1; i >= 0; i-- {
		if ev := evs[i]; ev.Kind == EvAgentReply && !fromFAQ[ev.At] && strings.TrimSpace(ev.Text) != "" {
			return strings.TrimSpace(ev.Text)
		}
	}
	return ""
}
