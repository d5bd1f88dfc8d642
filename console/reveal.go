package console

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/storage"
)

// Revealing personal data on the ticket page (issue 17). The page masks the customer's name, phone
// and e-mail for everyone. When the work needs one in full (calling the customer back), a supervisor
// or an admin reveals that one field with a reason: the reveal is recorded first — in the
// personal-data audit log (who, when, ticket, customer, field; never the data or the free-text reason)
// and on the ticket's audit trail (who, when, field and reason, as a sealed internal event) — and only
// then is the page answered with that field unmasked: in this one response (POST, no redirect, so no
// URL or later load shows it), with Cache-Control: no-store, and never logged.

// revealFields are the fields a reveal may unmask.
var revealFields = []string{"name", "phone", "email"}

// maxRevealReason bounds the reason (runes).
const maxRevealReason = 500

func (c *Console) revealRoutes() {
	if c.o.Desk == nil {
		return
	}
	c.mux.HandleFunc("POST /console/tickets/{no}/reveal", c.auth(RoleSupervisor, c.reveal))
}

// CanReveal reports whether the signed-in account may reveal personal data (supervisors and admins).
func (p page) CanReveal() bool { return rank(p.User.Role) >= rank(RoleSupervisor) }

// RevealFields lists the fields of the reveal form.
func (p page) RevealFields() []string { return revealFields }

func (c *Console) reveal(w http.ResponseWriter, r *http.Request, s session) {
	ctx := r.Context()
	lang := c.lang(r, s)
	no := bot.NormalizeTicketNo(r.PathValue("no"))
	t, _, ok := c.visibleTicket(w, r, s, no)
	if !ok {
		return
	}
	field, reason := r.PostFormValue("field"), strings.TrimSpace(r.PostFormValue("reason"))
	f := url.Values{"_action": {"reveal"}, "field": {field}, "reason": {reason}}
	switch {
	case !slices.Contains(revealFields, field):
		c.renderTicket(w, r, s, http.StatusBadRequest, c.t(lang, "inbox.reveal.err.field"), f, "")
		return
	case reason == "" || utf8.RuneCountInString(reason) > maxRevealReason:
		c.renderTicket(w, r, s, http.StatusBadRequest, c.t(lang, "inbox.reveal.err.reason", "max", maxRevealReason), f, "")
		return
	}
	actor, now := "console:"+s.user.Name, c.o.Now()
	// Recorded before anything is shown: no record, no reveal.
	err := c.o.DB.Tx(ctx, func(tx bot.Tx) error {
		_, err := tx.AddEvent(ctx, bot.TicketEvent{TicketID: t.ID, TicketNo: t.No, At: now, Actor: actor, Kind: bot.EvRevealed,
			Text: field + ": " + reason, Internal: true})
		return err
	})
	if err == nil {
		err = c.o.DB.LogAccess(ctx, storage.Access{At: now, Actor: actor, Action: storage.AccessReveal, Via: "console", TicketNo: t.No,
			CustomerID: t.CustomerID, Detail: "field=" + field})
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.log.InfoContext(ctx, "console reveal", "user", s.user.Name, "ticket", t.No, "field", field) // never the value or the reason
	w.Header().Set("Cache-Control", "private, no-store")
	c.renderTicketRevealing(w, r, s, http.StatusOK, "", url.Values{}, "", field)
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
