package console

import (
	"errors"
	"mime"
	"net/http"
	"strconv"

	"github.com/kefu-dev/kefu/bot"
)

// A customer's stored file (issue 19; storage attachment_blobs) is served to an agent through a
// ticket: GET /console/attachments/{id}?ticket=NO answers only when the account may open the ticket
// (ticketVisible, the inbox's rule) and the file belongs to that ticket's customer, so an id guessed
// or copied from another team's ticket finds nothing. The file is always a download (never rendered
// by the browser: a customer's HTML or SVG must not run in the console's origin).

func (c *Console) attachmentRoutes() {
	c.mux.HandleFunc("GET /console/attachments/{id}", c.auth(RoleAgent, c.attachment))
}

func (c *Console) attachment(w http.ResponseWriter, r *http.Request, s session) {
	ctx := r.Context()
	lang := c.lang(r, s)
	notFound := func() { http.Error(w, c.t(lang, "media.not_found"), http.StatusNotFound) }
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		notFound()
		return
	}
	t, _, err := c.o.Desk.Ticket(ctx, r.URL.Query().Get("ticket"))
	if errors.Is(err, bot.ErrUnknownTkt) || errors.Is(err, bot.ErrNotFound) || (err == nil && !c.ticketVisible(s, t)) {
		notFound()
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	ok, err := c.o.DB.CustomerHasBlob(ctx, t.CustomerID, id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if !ok {
		notFound()
		return
	}
	b, err := c.o.DB.Blob(ctx, id)
	if errors.Is(err, bot.ErrNotFound) {
		notFound()
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	ct := "application/octet-stream"
	name := "attachment-" + strconv.FormatInt(id, 10)
	if mt, _, err := mime.ParseMediaType(b.MIME); err == nil {
		ct = mt
		if exts, _ := mime.ExtensionsByType(mt); len(exts) > 0 {
			name += exts[0]
		}
	}
	// The customer's file name is personal data and may carry quotes or newlines: the download is
	// named by its id.
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(b.Data)))
	_, _ = w.Write(b.Data)
}
