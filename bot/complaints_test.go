package bot_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
)

func TestComplaintLevelRules(t *testing.T) {
	cfg := bot.DefaultComplaintConfig()
	custom := bot.ComplaintConfig{Levels: []bot.ComplaintLevel{
		{Level: 2, Priority: bot.P1, Categories: []string{"order"}},
		{Level: 1, Priority: bot.P0, Words: []string{"lawyer"}},
		{Level: 3, Priority: bot.P2},
	}}
	tests := []struct {
		name  string
		cfg   bot.ComplaintConfig
		facts bot.ComplaintFacts
		want  int
		pr    bot.Priority
		why   string
	}{
		{"safety word zh", cfg, bot.ComplaintFacts{Text: "热水器漏电了，投诉"}, 1, bot.P0, "word: 漏电"},
		{"media word en", cfg, bot.ComplaintFacts{Text: "I will go to the media about this"}, 1, bot.P0, "word: media"},
		{"english word needs word boundary", cfg, bot.ComplaintFacts{Text: "the firewall is terrible"}, 3, bot.P1, "default"},
		{"legal", cfg, bot.ComplaintFacts{Text: "我要找律师起诉你们"}, 1, bot.P0, "word: 律师"},
		{"fraud", cfg, bot.ComplaintFacts{Text: "你们多收了200元"}, 2, bot.P1, "word: 多收"},
		{"rudeness in everyday words", cfg, bot.ComplaintFacts{Text: "投诉！你们的客服态度太差了，骂人"}, 2, bot.P1, "word: 态度太差"},
		{"insult", cfg, bot.ComplaintFacts{Text: "电话里客服还骂人"}, 2, bot.P1, "word: 骂人"},
		{"repeat", cfg, bot.ComplaintFacts{Text: "还是没到货", Repeat: true}, 2, bot.P1, "repeat"},
		{"vip flag", cfg, bot.ComplaintFacts{Text: "太差了", Flags: []string{"vip"}}, 2, bot.P1, "flag: vip"},
		{"media flag beats repeat", cfg, bot.ComplaintFacts{Text: "太差了", Flags: []string{"media"}, Repeat: true}, 1, bot.P0, "flag: media"},
		{"default is the least severe", cfg, bot.ComplaintFacts{Text: "物流太慢了"}, 3, bot.P1, "default"},
		{"custom: sorted by level, category rule", custom, bot.ComplaintFacts{Text: "slow", Category: "order"}, 2, bot.P1, "category: order"},
		{"custom: level 1 checked first", custom, bot.ComplaintFacts{Text: "my lawyer", Category: "order"}, 1, bot.P0, "word: lawyer"},
		{"custom: default", custom, bot.ComplaintFacts{Text: "slow", Category: "tech"}, 3, bot.P2, "default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lv, why := tt.cfg.Level(tt.facts)
			if lv.Level != tt.want || lv.Priority != tt.pr || why != tt.why {
				t.Errorf("level %d %s (%s), want %d %s (%s)", lv.Level, lv.Priority, why, tt.want, tt.pr, tt.why)
			}
		})
	}
	for _, bad := range []bot.ComplaintConfig{
		{Levels: []bot.ComplaintLevel{{Level: 0, Priority: bot.P1}}},
		{Levels: []bot.ComplaintLevel{{Level: 1, Priority: "P9"}}},
		{Levels: []bot.ComplaintLevel{{Level: 1, Priority: bot.P0}, {Level: 1, Priority: bot.P1}}},
	} {
		if bad.Validate() == nil {
			t.Errorf("config %+v accepted", bad)
		}
	}
}

// A complaint ticket gets its level and priority from the rules; the second complaint of the same
// customer in the same category within 30 days is a repeat (level 2) and names the first.
func TestComplaintTicketLevelAndRepeat(t *testing.T) { forEachDB(t, testComplaintLevelAndRepeat) }

func testComplaintLevelAndRepeat(t *testing.T, mk envMaker) {
	e := mk(t)
	ctx := context.Background()
	e.say(t, "c1", "complaint")
	first, _, err := e.eng.Ticket(ctx, "GD20261123001")
	if err != nil {
		t.Fatal(err)
	}
	if !first.Complaint || first.ComplaintLevel != 2 || first.Priority != bot.P1 || first.RepeatOf != "" { // "rude"
		t.Fatalf("first complaint: level %d priority %s repeat %q", first.ComplaintLevel, first.Priority, first.RepeatOf)
	}
	if _, err := e.eng.Reply(ctx, alice, first.No, "sorry"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.Close(ctx, alice, first.No); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(24 * time.Hour)
	e.say(t, "c1", "complaint")
	tks, err := e.eng.ListTickets(ctx, bot.TicketFilter{})
	if err != nil || len(tks) != 1 {
		t.Fatalf("open tickets %v %v", tks, err)
	}
	second, evs, err := e.eng.Ticket(ctx, tks[0].No)
	if err != nil {
		t.Fatal(err)
	}
	if second.ComplaintLevel != 2 || second.RepeatOf != first.No {
		t.Errorf("second complaint: level %d repeat of %q, want 2 and %s", second.ComplaintLevel, second.RepeatOf, first.No)
	}
	found := false
	for _, ev := range evs {
		if ev.Kind == bot.EvComplaintLevel && strings.Contains(ev.Text, "repeat") && ev.Internal {
			found = true
		}
	}
	if !found {
		t.Errorf("no complaint level event: %+v", evs)
	}
	// Another customer's complaint is not a repeat.
	e.say(t, "c2", "complaint")
	tks, _ = e.eng.ListTickets(ctx, bot.TicketFilter{})
	for _, tk := range tks {
		if tk.No != second.No && tk.RepeatOf != "" {
			t.Errorf("other customer's complaint %s: level %d repeat %q", tk.No, tk.ComplaintLevel, tk.RepeatOf)
		}
	}
}

func TestRecordComplaintDetails(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.say(t, "c1", "complaint")
	no := "GD20261123001"
	if _, err := e.eng.RecordComplaint(ctx, alice, no, bot.ComplaintDetails{CorePoints: []string{"attitude", "nonsense"}}); !errors.Is(err, bot.ErrBadInput) {
		t.Errorf("unknown core point: %v", err)
	}
	if _, err := e.eng.RecordComplaint(ctx, alice, no, bot.ComplaintDetails{Responsible: "moon"}); !errors.Is(err, bot.ErrBadInput) {
		t.Errorf("unknown party: %v", err)
	}
	if _, err := e.eng.RecordComplaint(ctx, bot.Actor{ID: "slack:intruder"}, no, bot.ComplaintDetails{Responsible: "agent"}); !errors.Is(err, bot.ErrForbidden) {
		t.Errorf("non-agent: %v", err)
	}
	if _, err := e.eng.RecordComplaint(ctx, alice, no, bot.ComplaintDetails{CorePoints: []string{"attitude", "billing"},
		Verification: "查看订单记录：多收 200 元安装费属实", Responsible: "agent"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.RecordComplaint(ctx, alice, no, bot.ComplaintDetails{Responsible: "product"}); err != nil {
		t.Fatal(err)
	}
	d, err := e.db.ComplaintDetails(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(d.CorePoints, ",") != "attitude,billing" || d.Responsible != "product" || !strings.Contains(d.Verification, "多收") || d.UpdatedBy != "cli:alice" {
		t.Errorf("details %+v", d)
	}
	e.say(t, "c2", "ticket not a complaint")
	if _, err := e.eng.RecordComplaint(ctx, alice, "GD20261123002", bot.ComplaintDetails{Responsible: "agent"}); !errors.Is(err, bot.ErrNotComplaint) {
		t.Errorf("details on a non-complaint: %v", err)
	}
}
