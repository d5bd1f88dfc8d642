package console_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// TestKBCarePage: the console lists what `kefu kb stats` lists for the knowledge base's upkeep (issue
// 11): the entries customers marked unhelpful (worst first), the month's new or revised entries against
// the seeds' target of 10, and the drafts waiting for a supervisor; supervisors and admins only (agents
// get 403 and no link); both languages; SQLite and PostgreSQL.
func TestKBCarePage(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		e := newInboxEnvOn(t, false, open)
		ctx := t.Context()
		g := e.db.Gorm()
		cite := func(entry string, helped bool, at time.Time) {
			t.Helper()
			if err := g.Exec("INSERT INTO faq_citations (entry_id, conversation_id, lang, query, helped, at) VALUES (?, 0, 'zh-CN', '', ?, ?)",
				entry, helped, at).Error; err != nil {
				t.Fatal(err)
			}
		}
		day := testNow.Add(-24 * time.Hour)
		cite("fine", true, day)
		cite("meh", false, day)
		cite("meh", true, day)
		for range 3 {
			cite("bad", false, day)
		}
		cite("ancient", false, testNow.AddDate(0, -3, 0)) // outside the 30 days looked at
		var cs []storage.FAQChange
		for _, id := range []string{"e1", "e2", "e3"} {
			cs = append(cs, storage.FAQChange{EntryID: id, Lang: "zh-CN", Change: "revised", Source: "slack", At: day})
		}
		cs = append(cs, storage.FAQChange{EntryID: "e1", Lang: "zh-CN", Change: "new", Source: "draft", At: day},
			storage.FAQChange{EntryID: "lastmonth", Lang: "zh-CN", Change: "new", Source: "draft", At: testNow.AddDate(0, -1, 0)})
		if err := e.db.RecordFAQChanges(ctx, cs); err != nil {
			t.Fatal(err)
		}
		if err := g.Exec("INSERT INTO faq_drafts (ticket_no, lang, question, answer, status, created_by, created_at) VALUES ('GD20261120001', 'zh-CN', '', '', 'draft', 'cli:alice', ?)", day).Error; err != nil {
			t.Fatal(err)
		}

		u := e.srv.URL + "/console/kb"
		sueC, _ := e.signIn(t, "sue", "password-sue")
		resp, body := get(t, sueC, u)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("supervisor: %d\n%.2000s", resp.StatusCode, body)
		}
		unhelpful := regexp.MustCompile(`(?s)<table id="t-unhelpful">.*?</table>`).FindString(body)
		if !regexp.MustCompile(`(?s)data-entry="bad".*<td>3</td>.*data-entry="meh".*<td>1</td>`).MatchString(unhelpful) {
			t.Errorf("unhelpful entries, worst first:\n%s", unhelpful)
		}
		if strings.Contains(unhelpful, "fine") || strings.Contains(unhelpful, "ancient") {
			t.Errorf("lists an entry nobody marked unhelpful in the period:\n%s", unhelpful)
		}
		changes := regexp.MustCompile(`(?s)<table id="t-changes">.*?</table>`).FindString(body)
		for _, want := range []string{`data-entry="e1"`, "新增", `data-entry="e2"`, "修订"} {
			if !strings.Contains(changes, want) {
				t.Errorf("changes lack %q:\n%s", want, changes)
			}
		}
		if strings.Contains(changes, "lastmonth") {
			t.Errorf("last month's change listed:\n%s", changes)
		}
		for _, want := range []string{`id="kb-changes">3<`, "2026-11", `id="kb-target" data-met="false"`, `id="kb-drafts">1<`, `id="nav-kb"`, "kefu kb drafts"} {
			if !strings.Contains(body, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		if _, en := get(t, sueC, u+"?lang=en"); !strings.Contains(en, "Entries customers marked unhelpful") || !strings.Contains(en, "revised") {
			t.Error("no English page")
		}
		root, _ := e.signIn(t, "root", "password-root")
		if resp, _ := get(t, root, u); resp.StatusCode != http.StatusOK {
			t.Errorf("admin: %d", resp.StatusCode)
		}
		aliceC, _ := e.signIn(t, "alice", "password-alice")
		if resp, body := get(t, aliceC, u); resp.StatusCode != http.StatusForbidden || strings.Contains(body, "data-entry") {
			t.Errorf("agent: %d", resp.StatusCode)
		}
		if _, dash := get(t, aliceC, e.srv.URL+"/console/"); strings.Contains(dash, "nav-kb") {
			t.Error("agents get the knowledge-base link")
		}
	})
}
