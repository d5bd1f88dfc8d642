package storage_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/flows"
	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// TestReturningCustomerPath drives the hand-written SQL of a returning customer's message (hotpath.go)
// on both databases: what it writes is sealed at rest and reads back opened (identity name, profile,
// session, transcript, citation), a duplicate is refused, and plain text written before encryption is
// read as it is.
func TestReturningCustomerPath(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		db := open(t)
		ctx := context.Background()
		at := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
		const (
			name     = "李秘密"
			phone    = "13911112222"
			email    = "li.mimi@example.cn"
			inText   = "我的订单号是秘密A123"
			query    = "退货秘密B456"
			outText  = "回复秘密C789"
			intakeDs = "描述秘密D012"
		)
		ev := func(id, text string) bot.Event {
			return bot.Event{Channel: bot.ChannelWeb, MsgID: id, ChatID: "hot-chat", UserID: "hot-user", UserName: name,
				Kind: bot.KindText, Text: text, At: at}
		}
		var conv bot.Conversation
		err := db.Tx(ctx, func(tx bot.Tx) error { // first message: creates (gorm)
			var err error
			if conv, err = tx.SaveInbound(ctx, ev("h1", "你好")); err != nil {
				return err
			}
			if err := tx.SaveCustomerProfile(ctx, conv.CustomerID, flows.Profile{Name: name, Phone: phone, Email: email, Asked: []string{"phone"}}); err != nil {
				return err
			}
			s := flows.NewSession("zh-CN")
			s.Intake.Description = intakeDs
			return tx.SaveSession(ctx, conv.ID, s, at)
		})
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		err = db.Tx(ctx, func(tx bot.Tx) error { // returning: the hand-written path
			c, err := tx.SaveInbound(ctx, ev("h2", inText))
			if err != nil {
				return err
			}
			if c.ID != conv.ID || c.CustomerID != conv.CustomerID || c.UserName != name {
				t.Errorf("returning conversation %+v, want id %d customer %d name %q", c, conv.ID, conv.CustomerID, name)
			}
			p, err := tx.CustomerProfile(ctx, c.CustomerID)
			if err != nil || p.Name != name || p.Phone != phone || p.Email != email || strings.Join(p.Asked, ",") != "phone" {
				t.Errorf("profile %+v, %v", p, err)
			}
			s, err := tx.Session(ctx, c.ID)
			if err != nil || s.Intake.Description != intakeDs || s.Lang != "zh-CN" {
				t.Errorf("session %+v, %v", s, err)
			}
			if err := tx.Cite(ctx, bot.Citation{EntryID: "return", ConversationID: c.ID, Lang: "zh-CN", Query: query, At: at}); err != nil {
				return err
			}
			if ids, err = tx.EnqueueDelivered(ctx, at, bot.Reply{ConversationID: c.ID, Channel: c.Channel, ChatID: c.ChatID, Text: outText},
				bot.Reply{ConversationID: c.ID, Channel: c.Channel, ChatID: c.ChatID, Text: "第二条"}); err != nil {
				return err
			}
			s.State = flows.State("answered")
			return tx.SaveSession(ctx, c.ID, s, at)
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) != 2 || ids[0] >= ids[1] {
			t.Errorf("outbox ids %v, want two in order", ids)
		}
		err = db.Tx(ctx, func(tx bot.Tx) error { _, err := tx.SaveInbound(ctx, ev("h2", inText)); return err })
		if !errors.Is(err, bot.ErrDuplicate) {
			t.Errorf("the same message again: %v, want ErrDuplicate", err)
		}
		ms, err := db.Transcript(ctx, conv.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range ms {
			got = append(got, m.Direction+":"+m.Text)
		}
		if want := "in:你好|in:" + inText + "|out:" + outText + "|out:第二条"; strings.Join(got, "|") != want {
			t.Errorf("transcript %q, want %q", strings.Join(got, "|"), want)
		}
		var cites []struct {
			Query string
			Lang  string
		}
		if err := db.Gorm().Raw("SELECT query, lang FROM faq_citations").Scan(&cites).Error; err != nil || len(cites) != 1 {
			t.Fatalf("citations %+v, %v", cites, err)
		}
		if q, err := db.Keys().Open(cites[0].Query); err != nil || q != query || cites[0].Lang != "zh-CN" {
			t.Errorf("citation query %q (%v), lang %q", q, err, cites[0].Lang)
		}
		var sent []struct {
			Status   string
			Attempts int
			SentAt   *time.Time
		}
		db.Gorm().Raw("SELECT status, attempts, sent_at FROM outbox ORDER BY id").Scan(&sent)
		if len(sent) != 2 || sent[0].Status != "sent" || sent[0].Attempts != 1 || sent[0].SentAt == nil {
			t.Errorf("outbox rows %+v, want 2 delivered", sent)
		}
		// The raw rows the returning path wrote: every personal-data column sealed, opening to what was written.
		for _, c := range []struct{ q, want string }{
			{"SELECT user_id FROM messages WHERE platform_msg_id = 'h2'", "hot-user"},
			{"SELECT text FROM messages WHERE platform_msg_id = 'h2'", inText},
			{"SELECT text FROM outbox ORDER BY id LIMIT 1", outText},
			{"SELECT text FROM messages WHERE direction = 'out' ORDER BY id LIMIT 1", outText},
			{"SELECT query FROM faq_citations", query},
		} {
			var raw []string
			if err := db.Gorm().Raw(c.q).Scan(&raw).Error; err != nil || len(raw) != 1 {
				t.Fatalf("%s: %q, %v", c.q, raw, err)
			}
			if !storage.IsSealed(raw[0]) {
				t.Errorf("%s: stored %q, not sealed", c.q, raw[0])
			} else if got, err := db.Keys().Open(raw[0]); err != nil || got != c.want {
				t.Errorf("%s: opens to %q (%v), want %q", c.q, got, err, c.want)
			}
		}
		var rawSession []string
		if err := db.Gorm().Raw("SELECT session FROM conversations WHERE id = ?", conv.ID).Scan(&rawSession).Error; err != nil || len(rawSession) != 1 {
			t.Fatalf("session row %q, %v", rawSession, err)
		}
		if s, err := db.Keys().Open(rawSession[0]); !storage.IsSealed(rawSession[0]) || err != nil || !strings.Contains(s, `"answered"`) {
			t.Errorf("stored session %q opens to %q (%v), want sealed answered session", rawSession[0], s, err)
		}
		dump := storetest.DumpTables(t, db)
		for _, s := range []string{name, phone, email, inText, query, outText, intakeDs} {
			if strings.Contains(dump, s) {
				t.Errorf("the tables hold %q in plain text", s)
			}
		}
		// A session stored before encryption (plain JSON) is read as it is by the returning path.
		if err := db.Gorm().Exec("UPDATE conversations SET session = ? WHERE id = ?",
			`{"state":"idle","lang":"en","intake":{},"seq":7}`, conv.ID).Error; err != nil {
			t.Fatal(err)
		}
		err = db.Tx(ctx, func(tx bot.Tx) error {
			c, err := tx.SaveInbound(ctx, ev("h3", "again"))
			if err != nil {
				return err
			}
			s, err := tx.Session(ctx, c.ID)
			if err != nil || s.Lang != "en" || s.Seq != 7 {
				t.Errorf("legacy plain session %+v, %v", s, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestSessionSavedWithReplies: on PostgreSQL SaveSession of the conversation SaveInbound locked is
// held back and written with the next statement (the replies' INSERT, any other statement, or before
// COMMIT); on both databases the session is stored whichever comes next, a rolled back transaction
// stores none, and a conversation that does not exist is still ErrNotFound.
func TestSessionSavedWithReplies(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		db := open(t)
		ctx := context.Background()
		at := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
		ev := func(id string) bot.Event {
			return bot.Event{Channel: bot.ChannelWeb, MsgID: id, ChatID: "held-chat", UserID: "held-user", Kind: bot.KindText, Text: "hi", At: at}
		}
		stored := func(id int64) flows.State {
			t.Helper()
			var raw []string
			if err := db.Gorm().Raw("SELECT session FROM conversations WHERE id = ?", id).Scan(&raw).Error; err != nil || len(raw) != 1 {
				t.Fatalf("session row %q, %v", raw, err)
			}
			s, err := db.Keys().Open(raw[0])
			if err != nil {
				t.Fatal(err)
			}
			var st struct{ State flows.State }
			if err := json.Unmarshal([]byte(s), &st); err != nil {
				t.Fatal(err)
			}
			return st.State
		}
		save := func(msgID string, state flows.State, then func(tx bot.Tx, c bot.Conversation) error) (bot.Conversation, error) {
			var c bot.Conversation
			err := db.Tx(ctx, func(tx bot.Tx) error {
				var err error
				if c, err = tx.SaveInbound(ctx, ev(msgID)); err != nil {
					return err
				}
				s := flows.NewSession("en")
				s.State = state
				if err := tx.SaveSession(ctx, c.ID, s, at); err != nil {
					return err
				}
				if got, err := tx.Session(ctx, c.ID); err != nil || got.State != state {
					t.Errorf("%s: the transaction reads %q (%v), want %q", msgID, got.State, err, state)
				}
				return then(tx, c)
			})
			return c, err
		}
		// Nothing after SaveSession: written before COMMIT.
		c, err := save("s1", "one", func(bot.Tx, bot.Conversation) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		if got := stored(c.ID); got != "one" {
			t.Errorf("after commit: %q, want one", got)
		}
		// Another statement next (gorm), then a rollback: nothing stored.
		_, err = save("s2", "two", func(tx bot.Tx, c bot.Conversation) error {
			if err := tx.LockConversation(ctx, c.ID); err != nil {
				return err
			}
			return errors.New("roll back")
		})
		if err == nil {
			t.Fatal("no error from a rolled back transaction")
		}
		if got := stored(c.ID); got != "one" {
			t.Errorf("after rollback: %q, want one", got)
		}
		// The replies next: written with them.
		_, err = save("s3", "three", func(tx bot.Tx, c bot.Conversation) error {
			_, err := tx.EnqueueDelivered(ctx, at, bot.Reply{ConversationID: c.ID, Channel: c.Channel, ChatID: c.ChatID, Text: "ok"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := stored(c.ID); got != "three" {
			t.Errorf("with the replies: %q, want three", got)
		}
		err = db.Tx(ctx, func(tx bot.Tx) error { return tx.SaveSession(ctx, c.ID+1000, flows.NewSession("en"), at) })
		if !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("session of a missing conversation: %v, want ErrNotFound", err)
		}
	})
}
