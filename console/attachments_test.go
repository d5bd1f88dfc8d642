package console_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/locales"
)

// seedMedia opens a ticket for a new WeCom customer whose message carries a stored file (data) and a
// file too large to keep; it returns the ticket number and the stored file's id.
func (e *inboxEnv) seedMedia(t *testing.T, assignee string, data []byte) (string, int64) {
	t.Helper()
	ctx := context.Background()
	seedSeq++
	chat := fmt.Sprintf("kf|media-%d", seedSeq)
	at := testNow.Add(-time.Duration(seedSeq) * time.Minute)
	id, err := e.db.PutBlob(ctx, "image/png", data, 0)
	if err != nil {
		t.Fatal(err)
	}
	var no string
	err = e.db.Tx(ctx, func(tx bot.Tx) error {
		conv, err := tx.SaveInbound(ctx, bot.Event{Channel: bot.ChannelWeCom, MsgID: "m-" + chat, ChatID: chat, UserID: chat,
			Kind: bot.KindMedia, At: at, Attachments: []bot.Attachment{
				{Type: "photo", FileID: "MEDIA-" + chat, Name: "发票.png", MIME: "image/png", Size: int64(len(data)), BlobID: id},
				{Type: "document", FileID: "MEDIA-big-" + chat, TooLarge: true},
				{Type: "video", FileID: "MEDIA-gone-" + chat, Failed: true, Expired: true}}})
		if err != nil {
			return err
		}
		tk, err := tx.CreateTicket(ctx, bot.Ticket{ConversationID: conv.ID, CustomerID: conv.CustomerID, Channel: bot.ChannelWeCom,
			Category: "order", Priority: bot.P2, Summary: "发票", Lang: "zh-CN", Assignee: assignee, CreatedAt: at,
			FirstResponseDue: at.Add(time.Hour), ResolutionDue: at.Add(24 * time.Hour)}, at.Format("20060102"))
		no = tk.No
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return no, id
}

// TestAttachmentDownload: an agent fetches a customer's stored file through a ticket they may see, as
// a download that the browser does not sniff; another team's agent, a file of another customer, a
// bad id and a signed-out request get nothing. The ticket page links the file and marks one not kept
// and one whose download was given up.
func TestAttachmentDownload(t *testing.T) {
	e := newInboxEnv(t, false)
	png := []byte("\x89PNG\r\n\x1a\n王小明的发票")
	alices, aliceBlob := e.seedMedia(t, "cli:alice", png)
	bobs, bobBlob := e.seedMedia(t, "cli:bob", []byte("bob's customer's file"))
	url := func(id int64, no string) string {
		return fmt.Sprintf("%s/console/attachments/%d?ticket=%s", e.srv.URL, id, no)
	}
	tests := []struct {
		name, user string // user "": signed out
		url        string
		want       int
	}{
		{"own ticket", "alice", url(aliceBlob, alices), http.StatusOK},
		{"a supervisor", "sue", url(aliceBlob, alices), http.StatusOK},
		{"another team's ticket", "bob", url(aliceBlob, alices), http.StatusNotFound},
		{"another customer's file through an own ticket", "alice", url(bobBlob, alices), http.StatusNotFound},
		{"another team's file", "alice", url(bobBlob, bobs), http.StatusNotFound},
		{"no ticket", "alice", fmt.Sprintf("%s/console/attachments/%d", e.srv.URL, aliceBlob), http.StatusNotFound},
		{"bad id", "alice", e.srv.URL + "/console/attachments/x?ticket=" + alices, http.StatusNotFound},
		{"signed out", "", url(aliceBlob, alices), http.StatusSeeOther},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := e.client()
			if tc.user != "" {
				c, _ = e.signIn(t, tc.user, "password-"+tc.user)
			}
			resp, body := get(t, c, tc.url)
			if resp.StatusCode != tc.want {
				t.Fatalf("GET: %d, want %d", resp.StatusCode, tc.want)
			}
			if tc.want != http.StatusOK {
				if strings.Contains(body, "王小明") || strings.Contains(body, "bob's") {
					t.Fatalf("refusal carries the file: %q", body)
				}
				if tc.want == http.StatusSeeOther && resp.Header.Get("Location") != "/console/login" {
					t.Fatalf("signed out: to %q", resp.Header.Get("Location"))
				}
				return
			}
			h := resp.Header
			if body != string(png) || h.Get("Content-Type") != "image/png" || h.Get("X-Content-Type-Options") != "nosniff" ||
				!strings.HasPrefix(h.Get("Content-Disposition"), "attachment;") {
				t.Fatalf("served %q with %v", body, h)
			}
		})
	}
	c, _ := e.signIn(t, "alice", "password-alice")
	for _, lang := range []string{"zh-CN", "en"} {
		resp, body := get(t, c, e.srv.URL+"/console/tickets/"+alices+"?lang="+lang)
		link := fmt.Sprintf(`href="/console/attachments/%d?ticket=%s"`, aliceBlob, alices)
		marker := locales.Default().T(lang, "media.too_large", nil)
		if resp.StatusCode != 200 || !strings.Contains(body, link) || !strings.Contains(body, marker) {
			t.Errorf("%s ticket page: %d, link %v, marker %v", lang, resp.StatusCode, strings.Contains(body, link), strings.Contains(body, marker))
		}
		// A download retried until the platform deleted the file says so (not "failed, will retry").
		if gone := locales.Default().T(lang, "media.fetch_expired", nil); !strings.Contains(body, gone) {
			t.Errorf("%s ticket page lacks the expired mark %q", lang, gone)
		}
	}
}
