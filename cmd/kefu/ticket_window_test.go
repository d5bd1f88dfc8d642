package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/adapters/slack/slacktest"
	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/storage"
)

// windowTicket stores a customer's message on ch at at and opens a ticket on it.
func windowTicket(t testing.TB, db *storage.DB, ch bot.Channel, chat string, at time.Time) bot.Ticket {
	t.Helper()
	ctx := context.Background()
	var tk bot.Ticket
	err := db.Tx(ctx, func(tx bot.Tx) error {
		conv, err := tx.SaveInbound(ctx, bot.Event{Channel: ch, MsgID: chat + "-1", ChatID: chat, UserID: chat, Kind: bot.KindText,
			Text: "冰箱不制冷", At: at})
		if err != nil {
			return err
		}
		tk, err = tx.CreateTicket(ctx, bot.Ticket{ConversationID: conv.ID, CustomerID: conv.CustomerID, Channel: ch, Lang: "zh-CN",
			Category: "repair", Priority: bot.P2, Summary: "冰箱不制冷", CreatedAt: at, FirstResponseDue: at.Add(time.Hour),
			ResolutionDue: at.Add(24 * time.Hour)}, at.Format("20060102"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// writesAgain stores another message of the customer of chat on ch, now.
func writesAgain(t testing.TB, db *storage.DB, ch bot.Channel, chat string) {
	t.Helper()
	err := db.Tx(context.Background(), func(tx bot.Tx) error {
		_, err := tx.SaveInbound(context.Background(), bot.Event{Channel: ch, MsgID: chat + "-2", ChatID: chat, UserID: chat,
			Kind: bot.KindText, Text: "还在吗", At: time.Now()})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestTicketReplyWindowCLI: `kefu ticket reply` after WeChat's/WeCom's 48-hour window refuses at once
// with the localized reason (when it closed, what to do instead) and queues nothing; within the window,
// on a channel without one, or once the customer wrote again, the reply is queued.
func TestTicketReplyWindowCLI(t *testing.T) {
	tests := []struct {
		name    string
		lang    string
		channel bot.Channel
		ago     time.Duration
		again   bool
		purged  bool   // the customer's messages are gone (retention): no inbound message at all
		want    string // in the refusal; "" = sent
	}{
		{name: "wechat within", lang: "zh-CN", channel: bot.ChannelWeChat, ago: 47 * time.Hour},
		{name: "wechat after zh-CN", lang: "zh-CN", channel: bot.ChannelWeChat, ago: 49 * time.Hour, want: "微信公众号 的 48 小时回复窗口已于"},
		{name: "wecom after en", lang: "en", channel: bot.ChannelWeCom, ago: 50 * time.Hour, want: "WeCom customer service 48-hour reply window"},
		{name: "telegram no window", lang: "en", channel: bot.ChannelTelegram, ago: 200 * time.Hour},
		{name: "wechat customer wrote again", lang: "zh-CN", channel: bot.ChannelWeChat, ago: 49 * time.Hour, again: true},
		{name: "wechat never wrote zh-CN", lang: "zh-CN", channel: bot.ChannelWeChat, ago: time.Hour, purged: true, want: "该客户在 微信公众号 没有发过消息"},
		{name: "wecom never wrote en", lang: "en", channel: bot.ChannelWeCom, ago: time.Hour, purged: true, want: "has not written on WeCom customer service"},
		{name: "telegram never wrote", lang: "en", channel: bot.ChannelTelegram, ago: time.Hour, purged: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("KEFU_LANG", tc.lang) // the refusal is in the operator's language
			dir := t.TempDir()
			dbURL := filepath.Join(dir, "kefu.db")
			cfgPath := filepath.Join(dir, "kefu.yaml")
			os.WriteFile(cfgPath, []byte("database_url: "+dbURL+"\ndefault_lang: "+tc.lang+"\ntimezone: Asia/Shanghai\n"+
				"agents:\n  - {id: \"cli:alice\", name: Alice}\n"), 0o600)
			db := openTestDB(t, dbURL)
			last := time.Now().Add(-tc.ago)
			tk := windowTicket(t, db, tc.channel, "c1", last)
			if tc.again {
				writesAgain(t, db, tc.channel, "c1")
			}
			if tc.purged {
				if err := db.Gorm().Exec("DELETE FROM messages").Error; err != nil {
					t.Fatal(err)
				}
			}
			before, _ := db.OutboxRows(context.Background(), tc.channel, "c1")
			var out bytes.Buffer
			err := runTicket(context.Background(), []string{"reply", "--config", cfgPath, "--as", "alice", tk.No, "师傅明天上午到"}, &out,
				func(string) string { return "" })
			after, _ := db.OutboxRows(context.Background(), tc.channel, "c1")
			if tc.want == "" {
				if err != nil || len(after) != len(before)+1 {
					t.Fatalf("reply: %v, outbox %d -> %d: want sent", err, len(before), len(after))
				}
				return
			}
			closed := last.Add(48 * time.Hour).In(mustLoc(t, "Asia/Shanghai")).Format("2006-01-02 15:04")
			if tc.purged {
				closed = "" // no window ever opened: nothing closed
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), closed) || errors.Is(err, errUsage) {
				t.Errorf("reply after the window: %v, want %q and the closing time %s", err, tc.want, closed)
			}
			if len(after) != len(before) {
				t.Errorf("outbox %d -> %d: a refused reply was queued", len(before), len(after))
			}
		})
	}
}

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestSlackReplyWindow: `/kefu reply` on the real stack (engine, storage, Slack adapter, strict fake
// Slack API) after the WeChat window closed answers the agent at once with the localized reason and
// queues nothing; within the window the reply is queued.
func TestSlackReplyWindow(t *testing.T) {
	tests := []struct {
		name string
		ago  time.Duration
		want string // in the answer; "" = sent
	}{
		{name: "within", ago: time.Hour},
		{name: "after", ago: 49 * time.Hour, want: "48 小时回复窗口已于"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dbURL := dsnSQLite(t)
			f := slacktest.NewServer(t)
			s := startSlackServer(t, dbURL, f)
			db := openTestDB(t, dbURL)
			tk := windowTicket(t, db, bot.ChannelWeChat, "o-slack", time.Now().Add(-tc.ago))
			answer := journeyKefuCommand(t, s, f, slackAgent1, "reply "+tk.No+" 师傅明天上午到")
			rows, err := db.OutboxRows(context.Background(), bot.ChannelWeChat, "o-slack")
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if len(rows) != 1 {
					t.Fatalf("answer %q, outbox %d rows: want the reply queued", answer, len(rows))
				}
				return
			}
			mustContain(t, "/kefu reply after the window", answer, tc.want, "内部备注", "再次来消息")
			if len(rows) != 0 {
				t.Errorf("outbox %d rows after a refused reply", len(rows))
			}
			_, evs := s.ticketEvents(t, tk.No)
			for _, e := range evs {
				if e.Kind == bot.EvAgentReply {
					t.Errorf("refused reply recorded as event %+v", e)
				}
			}
		})
	}
}
