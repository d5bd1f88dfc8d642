package storetest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/flows"
	"github.com/kefu-dev/kefu/storage"
)

// Personal data that Journey writes into every kind of column (message, session, ticket, events,
// survey, FAQ citation, unanswered question, outbox). A test reading the raw database files must find
// none of them in plain text.
var JourneySecrets = []string{"王小明", "110101199003074514", "wang.xiaoming@example.cn", "6222021234567890128", "u-pii", "我的快递丢了",
	"一点也不满意"}

// Journey runs one customer's data through the store's write paths, with phone in a message, the
// session, the ticket and its events, and returns the ticket.
func Journey(t testing.TB, db *storage.DB, phone string) bot.Ticket {
	t.Helper()
	ctx := context.Background()
	at := time.Now().UTC()
	text := "我是王小明，电话 " + phone + "，身份证 110101199003074514，邮箱 wang.xiaoming@example.cn，卡号 6222021234567890128，我的快递丢了"
	var tk bot.Ticket
	err := db.Tx(ctx, func(tx bot.Tx) error {
		conv, err := tx.SaveInbound(ctx, bot.Event{Channel: bot.ChannelTelegram, MsgID: "pii-" + at.Format(time.RFC3339Nano), ChatID: "chat-pii", UserID: "u-pii", UserName: "王小明",
			Kind: bot.KindText, Text: text, At: at, Attachments: []bot.Attachment{{Type: "photo", FileID: "f1", Name: "王小明的发票.jpg"}}})
		if err != nil {
			return err
		}
		s := flows.Session{State: "intake", Lang: "zh-CN"}
		s.Intake.FirstText = text
		s.Intake.Description = text
		if err := tx.SaveSession(ctx, conv.ID, s, at); err != nil {
			return err
		}
		tk, err = tx.CreateTicket(ctx, bot.Ticket{ConversationID: conv.ID, CustomerID: conv.CustomerID, Channel: bot.ChannelTelegram,
			CustomerName: "王小明", CustomerPhone: phone, Category: "order", Priority: bot.P2, Summary: "我的快递丢了 " + phone,
			Description: text, CreatedAt: at, FirstResponseDue: at.Add(time.Hour), ResolutionDue: at.Add(24 * time.Hour)}, at.Format("20060102"))
		if err != nil {
			return err
		}
		for _, ev := range []bot.TicketEvent{
			{Kind: bot.EvCreated, Actor: "customer", Text: text},
			{Kind: bot.EvAgentReply, Actor: "cli:alice", Text: "王小明您好，已记录 " + phone},
			{Kind: bot.EvNote, Actor: "cli:alice", Text: "客户身份证 110101199003074514", Internal: true},
			{Kind: bot.EvRated, Actor: "customer", Text: "1 一点也不满意"},
		} {
			ev.TicketID, ev.TicketNo, ev.At, ev.Channel = tk.ID, tk.No, at, bot.ChannelTelegram
			if _, err := tx.AddEvent(ctx, ev); err != nil {
				return err
			}
		}
		tk.Rating, tk.RatingComment = 1, "一点也不满意 "+phone
		if err := tx.UpdateTicket(ctx, tk); err != nil {
			return err
		}
		if err := tx.SaveSurvey(ctx, tk.ID, conv.CustomerID, 1, "一点也不满意 "+phone, at); err != nil {
			return err
		}
		// A follow-through task's note and a draft FAQ entry from the ticket (sealed; erased with it).
		if _, err := tx.SaveTask(ctx, bot.Task{TicketID: tk.ID, Kind: "refund", Owner: "finance:li", DueAt: at.Add(time.Hour),
			State: bot.TaskOpen, Note: "退款给王小明 " + phone, CreatedBy: "cli:alice", CreatedAt: at}); err != nil {
			return err
		}
		if _, err := tx.SaveFAQDraft(ctx, bot.FAQDraft{TicketNo: tk.No, Lang: "zh-CN", Question: "我的快递丢了", Answer: "王小明您好",
			Status: bot.DraftOpen, CreatedBy: "cli:alice", CreatedAt: at}); err != nil {
			return err
		}
		if err := tx.Cite(ctx, bot.Citation{EntryID: "faq-1", ConversationID: conv.ID, Lang: "zh-CN", Query: text, At: at}); err != nil {
			return err
		}
		if err := tx.SaveUnanswered(ctx, conv.ID, "zh-CN", text, at); err != nil {
			return err
		}
		_, err = tx.Enqueue(ctx, at, bot.Reply{ConversationID: conv.ID, Channel: bot.ChannelTelegram, ChatID: "chat-pii", Text: "王小明您好，电话 " + phone})
		return err
	})
	if err != nil {
		t.Fatalf("storetest: journey: %v", err)
	}
	tk, err = db.TicketByNo(ctx, tk.No)
	if err != nil {
		t.Fatalf("storetest: journey: %v", err)
	}
	return tk
}

// DumpTables returns the text of every row of every table (for tests that look for plain text).
func DumpTables(t testing.TB, db *storage.DB) string {
	t.Helper()
	var tables []string
	q := "SELECT name FROM sqlite_master WHERE type = 'table'"
	if db.Dialect() == storage.Postgres {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
	}
	if err := db.Gorm().Raw(q).Scan(&tables).Error; err != nil {
		t.Fatalf("storetest: list tables: %v", err)
	}
	var b strings.Builder
	for _, table := range tables {
		rows, err := db.Gorm().Raw("SELECT * FROM " + table).Rows()
		if err != nil {
			t.Fatalf("storetest: dump %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				t.Fatalf("storetest: dump %s: %v", table, err)
			}
			for _, v := range vals {
				switch x := v.(type) {
				case string:
					b.WriteString(x)
				case []byte:
					b.Write(x)
				default:
					fmt.Fprint(&b, x)
				}
				b.WriteByte('\t')
			}
			b.WriteByte('\n')
		}
		rows.Close()
	}
	return b.String()
}

// DSN returns the DSN db was opened with (SQLite: its file; PostgreSQL: the test schema's DSN), for
// tests that open a second handle as another process would.
func DSN(t testing.TB, db *storage.DB) string {
	t.Helper()
	if db.Dialect() == storage.SQLite {
		var path string
		if err := db.Gorm().Raw("SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&path).Error; err != nil {
			t.Fatal(err)
		}
		return path
	}
	var schema string
	if err := db.Gorm().Raw("SELECT current_schema()").Scan(&schema).Error; err != nil {
		t.Fatal(err)
	}
	return withSearchPath(os.Getenv(EnvPostgres), schema)
}

// Reopen opens another handle on dsn (closed at cleanup).
func Reopen(t testing.TB, dsn string) *storage.DB {
	t.Helper()
	db, err := storage.Open(context.Background(), dsn, storage.Options{})
	if err != nil {
		t.Fatalf("storetest: reopen: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
