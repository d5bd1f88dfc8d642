package bot_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/flows"
	"github.com/kefu-dev/kefu/kb"
	"github.com/kefu-dev/kefu/locales"
	"github.com/kefu-dev/kefu/storage"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden transcripts in testdata/")

var (
	agentA = bot.AgentConfig{ID: "cli:alice", Name: "Alice"}
	supS   = bot.AgentConfig{ID: "cli:sue", Name: "Sue", Supervisor: true}
)

// complaintEngine is the real stack (flows, catalogs, bundled FAQ) with an agent and a supervisor.
func complaintEngine(t testing.TB, db *storage.DB, now func() time.Time) *bot.Engine {
	t.Helper()
	matcher := kb.NewMatcher(kb.Sample(), kb.MatchOptions{})
	m, err := flows.New(flows.Options{KB: matcher, Config: flows.DefaultConfig()})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := bot.New(bot.Options{Store: db, Flows: m, KB: matcher, Catalog: locales.Default(), Now: now,
		Agents: []bot.AgentConfig{agentA, supS}})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// transcript drives one web chat (or, with tg set, one Telegram chat through the fake Bot API; see
// journey_telegram_test.go) and writes what the customer and the bot said, and what agents did.
type transcript struct {
	t    *testing.T
	e    *env
	eng  *bot.Engine
	chat string
	seq  int
	last []bot.Reply
	b    strings.Builder
	tg   *tgChat
}

func (x *transcript) send(kind bot.Kind, text, payload string) {
	x.t.Helper()
	if x.tg != nil {
		x.tg.send(x, kind, text, payload)
		x.collect(0)
		return
	}
	before, _ := x.e.db.LastWebMessageID(context.Background(), x.chat)
	x.seq++
	if err := x.eng.Deliver(context.Background(), bot.Event{Channel: bot.ChannelWeb, MsgID: fmt.Sprintf("%s-%d", x.chat, x.seq),
		ChatID: x.chat, UserID: x.chat, Kind: kind, Text: text, Payload: payload, At: x.e.clock.Now()}); err != nil {
		x.t.Fatalf("deliver %q: %v", text+payload, err)
	}
	x.collect(before)
}

func (x *transcript) collect(before int64) {
	if x.tg != nil {
		x.last = x.tg.replies(x)
	} else {
		x.last = lastReplies(x.t, x.e.db, x.chat, before)
	}
	for _, r := range x.last {
		fmt.Fprintf(&x.b, "< %s", r.Text)
		for _, b := range r.Buttons {
			fmt.Fprintf(&x.b, " [%s]", b.Label)
		}
		x.b.WriteString("\n")
	}
}

func (x *transcript) say(text string) {
	x.t.Helper()
	fmt.Fprintf(&x.b, "> %s\n", text)
	x.send(bot.KindText, text, "")
}

// press taps the button of the last replies whose label contains label.
func (x *transcript) press(label string) {
	x.t.Helper()
	for i := len(x.last) - 1; i >= 0; i-- {
		for _, b := range x.last[i].Buttons {
			if strings.Contains(b.Label, label) {
				fmt.Fprintf(&x.b, "> [%s]\n", b.Label)
				x.send(bot.KindButton, "", b.Payload)
				return
			}
		}
	}
	x.t.Fatalf("no button %q in %+v", label, x.last)
}

// agent runs a desk action and records it with the customer's messages it caused.
func (x *transcript) agent(what string, do func() error) {
	x.t.Helper()
	fmt.Fprintf(&x.b, "* %s\n", what)
	before, _ := x.e.db.LastWebMessageID(context.Background(), x.chat)
	if err := do(); err != nil {
		x.t.Fatalf("%s: %v", what, err)
	}
	x.collect(before)
}

// The complaint journey of issue 11: angry first message → soothing → complaint ticket → proposal →
// decline → second proposal (above the agent's limit: a supervisor approves) → accept → follow-through
// task (resolving is refused while it is open) → task done → resolved →
// confirmed and rated → return visit recorded; in both languages, on SQLite and PostgreSQL.
func TestComplaintJourneyGolden(t *testing.T) {
	script := map[string][]string{
		"zh-CN": {"你们的快递员态度恶劣，把我的冰箱摔坏了，太差了，我要投诉！", "!对", "不行，优惠券没用，我要退款", "!可以", "!已解决", "!2"},
		"en":    {"Your courier was rude and broke my fridge, this is terrible, I want to complain!", "!Yes", "No, a coupon is useless to me, I want a refund", "!Yes, accept", "!Solved", "!2"},
	}
	forEachDB(t, func(t *testing.T, mk envMaker) {
		for _, v := range journeyVariants {
			lang := v.lang
			t.Run(v.name(), func(t *testing.T) {
				e := mk(t, agentA, supS)
				x := v.transcript(t, e, complaintEngine(t, e.db, e.clock.Now))
				ctx := context.Background()
				alice, sue := bot.Actor{ID: agentA.ID}, bot.Actor{ID: supS.ID}
				in := script[lang]
				step := func(s string) {
					if strings.HasPrefix(s, "!") {
						x.press(s[1:])
					} else {
						x.say(s)
					}
				}
				step(in[0])
				step(in[1]) // confirm: the complaint ticket opens
				no := "GD20261123001"
				tk, _, err := x.eng.Ticket(ctx, no)
				if err != nil {
					t.Fatal(err)
				}
				if tk.ComplaintLevel != 2 || tk.Priority != bot.P1 {
					t.Errorf("complaint level %d priority %s, want 2 P1 (态度恶劣 / rude)", tk.ComplaintLevel, tk.Priority)
				}
				x.agent("alice replies", func() error {
					_, err := x.eng.Reply(ctx, alice, no, map[string]string{"zh-CN": "您好，非常抱歉，我们马上核实", "en": "Hello, we are very sorry and are looking into it"}[lang])
					return err
				})
				x.agent("alice records the complaint", func() error {
					_, err := x.eng.RecordComplaint(ctx, alice, no, bot.ComplaintDetails{CorePoints: []string{"attitude", "logistics"},
						Verification: "物流签收照片显示外箱破损", Responsible: "logistics"})
					return err
				})
				x.agent("alice proposes coupon 30", func() error {
					p, err := x.eng.Propose(ctx, alice, no, "coupon", 3000)
					if err == nil && p.Status != bot.ProposalOffered {
						err = fmt.Errorf("status %s", p.Status)
					}
					return err
				})
				x.press(map[string]string{"zh-CN": "不接受", "en": "No"}[lang])
				step(in[2]) // the reason
				x.agent("alice proposes refund 200 (above her 100 limit)", func() error {
					p, err := x.eng.Propose(ctx, alice, no, "refund", 20000)
					if err == nil && p.Status != bot.ProposalApproval {
						err = fmt.Errorf("status %s, want approval", p.Status)
					}
					return err
				})
				x.agent("sue approves #2", func() error { _, err := x.eng.Approve(ctx, sue, no, 2); return err })
				step(in[3]) // accept
				x.agent("alice adds a follow-through task: finance refunds within 24 hours", func() error {
					_, err := x.eng.AddTask(ctx, alice, no, bot.NewTask{Kind: "refund", Owner: "finance:li", Due: e.clock.Now().Add(24 * time.Hour), Note: "退款 200 元"})
					return err
				})
				if _, err := x.eng.Resolve(ctx, alice, no, "too early"); !errors.Is(err, bot.ErrOpenTasks) {
					t.Fatalf("resolve with the refund task open: %v, want ErrOpenTasks", err)
				}
				fmt.Fprintf(&x.b, "* alice tries to resolve: refused, task #1 refund is open\n")
				e.clock.Add(3 * time.Hour)
				x.agent("alice marks the task done", func() error { _, err := x.eng.DoneTask(ctx, alice, no, 1, "财务已退款"); return err })
				x.agent("alice resolves", func() error {
					_, err := x.eng.Resolve(ctx, alice, no, map[string]string{"zh-CN": "已退款 200 元", "en": "Refunded 200 yuan"}[lang])
					return err
				})
				step(in[4]) // solved
				step(in[5]) // 2 stars: apology, a supervisor follows up
				x.say(map[string]string{"zh-CN": "谢谢", "en": "thanks"}[lang])
				x.agent("sue records the return visit: satisfied", func() error {
					_, err := x.eng.RecordVisit(ctx, sue, no, bot.VisitSatisfied, "客户对退款满意")
					return err
				})
				x.agent("alice records the complaint's return visit: satisfied", func() error {
					_, err := x.eng.RecordVisit(ctx, alice, no, bot.VisitSatisfied, "退款已到账")
					return err
				})
				if _, err := x.eng.RecordVisit(ctx, alice, no, bot.VisitSatisfied, ""); !errors.Is(err, bot.ErrNoVisit) {
					t.Errorf("a third visit outcome: %v, want ErrNoVisit", err)
				}
				tk, _, _ = x.eng.Ticket(ctx, no)
				ps, _ := e.db.Proposals(ctx, tk.ID)
				vs, _ := e.db.ReturnVisits(ctx, tk.ID)
				fmt.Fprintf(&x.b, "= ticket %s %s level=%d rating=%d\n", tk.Status, tk.Priority, tk.ComplaintLevel, tk.Rating)
				for _, p := range ps {
					fmt.Fprintf(&x.b, "= proposal #%d %s %s %s proposed_by=%s approved_by=%s reason=%q\n", p.ID, p.Solution, bot.Yuan(p.Amount), p.Status, p.ProposedBy, p.ApprovedBy, p.Reason)
				}
				ts, _ := e.db.Tasks(ctx, tk.ID)
				for _, k := range ts {
					fmt.Fprintf(&x.b, "= task #%d %s owner=%s due=%s state=%s done_by=%s\n", k.ID, k.Kind, k.Owner, k.DueAt.UTC().Format(time.RFC3339), k.State, k.DoneBy)
				}
				for _, v := range vs {
					fmt.Fprintf(&x.b, "= visit %s due=%s outcome=%s done=%v\n", v.Reason, v.DueAt.UTC().Format(time.RFC3339), v.Outcome, v.Done())
				}
				path := filepath.Join("testdata", "complaint_journey."+v.file()+".txt")
				if *updateGolden {
					if err := os.WriteFile(path, []byte(x.b.String()), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./bot -run TestComplaintJourneyGolden -update)", err)
				}
				if diff := cmp.Diff(string(want), x.b.String()); diff != "" {
					t.Errorf("%s differs (-want +got):\n%s", path, diff)
				}
			})
		}
	})
}
