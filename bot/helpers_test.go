package bot_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/flows"
	"github.com/kefu-dev/kefu/internal/testenv"
	"github.com/kefu-dev/kefu/kb"
	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// scripted is a flows-independent Stepper: a tiny conversation that exercises every effect the
// engine carries out. Text commands: "hi" greets; "faq X" answers entry X; "helped X"/"nothelped X";
// "ticket [text]" opens a ticket; "complaint" opens a complaint; "boom" fails; "/status", "/show NO",
// "/link [CODE]", "/lang en". In StateTicketOpen other text is added to the ticket. Signals move to
// StateConfirmSolved; buttons "solved", "unsolved", "rate:N", "comment" follow the survey. "/adopt NO",
// "/confirm NO", "/reopen NO", "/rate NO N" and "/comment NO TEXT" aim ticket effects at any ticket.
type scripted struct{}

func (scripted) Step(s flows.Session, in flows.Input) (flows.Session, []flows.Effect, error) {
	if s.State == "from_the_future" { // like flows.Machine for a state it has no step for
		return s, nil, fmt.Errorf("scripted: %w %q", flows.ErrUnknownState, s.State)
	}
	s.Seq++
	switch {
	case in.Signal == flows.SignalResolved:
		s.State = flows.StateConfirmSolved
		s.TicketNo = in.TicketNo
		return s, []flows.Effect{flows.Say{Key: "resolve.confirm", Choices: []flows.Choice{
			{Key: "resolve.yes", Payload: "solved"}, {Key: "resolve.no", Payload: "unsolved"}}}}, nil
	case in.Signal == flows.SignalClosed:
		s.State = flows.StateIdle
		return s, []flows.Effect{flows.Say{Key: "ticket.closed", Args: map[string]any{"no": in.TicketNo}}}, nil
	case in.Command == "status":
		return s, []flows.Effect{flows.ListTickets{}}, nil
	case in.Command == "show":
		return s, []flows.Effect{flows.ShowTicket{No: in.Args}}, nil
	case in.Command == "link" && in.Args == "":
		return s, []flows.Effect{flows.IssueLinkCode{}}, nil
	case in.Command == "link":
		return s, []flows.Effect{flows.UseLinkCode{Code: in.Args}}, nil
	// Ticket effects aimed at any ticket number, as a buggy or forged flow could produce them: the
	// engine's ownership checks must stop them (bot/guards_test.go).
	case in.Command == "adopt": // the session now points at ticket Args, in StateTicketOpen
		s.State, s.TicketNo = flows.StateTicketOpen, in.Args
		return s, nil, nil
	case in.Command == "confirm":
		return s, []flows.Effect{flows.ConfirmSolved{No: in.Args}}, nil
	case in.Command == "reopen":
		return s, []flows.Effect{flows.Reopen{No: in.Args, Reason: "forged"}}, nil
	case in.Command == "rate":
		no, score, _ := strings.Cut(in.Args, " ")
		var n int
		fmt.Sscanf(score, "%d", &n)
		return s, []flows.Effect{flows.Rate{No: no, Score: n}}, nil
	case in.Command == "comment":
		no, text, _ := strings.Cut(in.Args, " ")
		return s, []flows.Effect{flows.Comment{No: no, Text: text}}, nil
	case in.Command == "lang":
		s.Lang = in.Args
		return s, []flows.Effect{flows.SetLang{Lang: in.Args}, flows.Say{Key: "lang.switched"}}, nil
	case in.Text == "boom":
		return s, nil, fmt.Errorf("scripted failure")
	case s.State == flows.StateConfirmSolved && in.Button == "solved":
		s.State = flows.StateRating
		return s, []flows.Effect{flows.ConfirmSolved{No: s.TicketNo}, flows.Say{Key: "survey.ask"}}, nil
	case s.State == flows.StateConfirmSolved && in.Button == "unsolved":
		s.State = flows.StateTicketOpen
		return s, []flows.Effect{flows.Reopen{No: s.TicketNo, Reason: "still broken"}, flows.Say{Key: "reopen.done", Args: map[string]any{"no": s.TicketNo}}}, nil
	case s.State == flows.StateRating && strings.HasPrefix(in.Button, "rate:"):
		var n int
		fmt.Sscanf(in.Button, "rate:%d", &n)
		s.State = flows.StateComment
		return s, []flows.Effect{flows.Rate{No: s.TicketNo, Score: n}, flows.Say{Key: "survey.ask_comment"}}, nil
	case s.State == flows.StateComment:
		s.State = flows.StateIdle
		return s, []flows.Effect{flows.Comment{No: s.TicketNo, Text: in.Text}, flows.Say{Key: "survey.thanks"}}, nil
	case s.State == flows.StateTicketOpen:
		return s, []flows.Effect{flows.AddToTicket{Text: in.Text, Media: in.Media}, flows.Say{Key: "ticket.added", Args: map[string]any{"no": s.TicketNo}}}, nil
	case strings.HasPrefix(in.Text, "faq "):
		s.State = flows.StateAnswered
		s.LastFAQ = strings.TrimPrefix(in.Text, "faq ")
		return s, []flows.Effect{flows.AnswerFAQ{EntryID: s.LastFAQ}, flows.Say{Key: "faq.helped?"}}, nil
	case strings.HasPrefix(in.Text, "helped "), strings.HasPrefix(in.Text, "nothelped "):
		id := in.Text[strings.IndexByte(in.Text, ' ')+1:]
		return s, []flows.Effect{flows.FAQFeedback{EntryID: id, Helped: strings.HasPrefix(in.Text, "helped")}}, nil
	case strings.HasPrefix(in.Text, "ticket"):
		s.State = flows.StateTicketOpen
		return s, []flows.Effect{flows.OpenTicket{Intake: flows.Intake{Category: "order", Description: strings.TrimSpace(strings.TrimPrefix(in.Text, "ticket")), Priority: "P2"}}}, nil
	case in.Text == "complaint":
		s.State = flows.StateTicketOpen
		return s, []flows.Effect{flows.Say{Key: "complaint.soothe"}, flows.OpenTicket{Intake: flows.Intake{Category: "complaint", Description: "rude courier", Complaint: true}}}, nil
	case s.State == flows.StateNew:
		s.State = flows.StateIdle
		return s, []flows.Effect{flows.Say{Key: "greeting.hello"}}, nil
	}
	return s, []flows.Effect{flows.Unanswered{Text: in.Text}, flows.Say{Key: "faq.no_answer"}}, nil
}

// fakeKB knows one entry per language.
type fakeKB struct{}

func (fakeKB) Match(string, string, int) []kb.Hit { return nil }
func (fakeKB) Decide([]kb.Hit) kb.Decision        { return kb.NoMatch }
func (fakeKB) Entry(id, lang string) *kb.Entry {
	if id != "refund" {
		return nil
	}
	return &kb.Entry{ID: id, Lang: lang, Question: "refund?", Answer: "answer:" + id + ":" + lang}
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// catalog renders "key|arg=value…" so tests can see what was said without depending on wording.
type catalog struct{}

func (catalog) T(lang, key string, args map[string]any) string {
	var b strings.Builder
	b.WriteString(lang + ":" + key)
	for _, k := range []string{"no", "priority", "due", "resolve_due", "code", "agent", "text", "summary"} {
		if v, ok := args[k]; ok {
			fmt.Fprintf(&b, "|%s=%v", k, v)
		}
	}
	return b.String()
}

type env struct {
	db     *storage.DB
	eng    *bot.Engine
	clock  *clock
	dsn    string
	agents []bot.AgentConfig
}

// newEnv is an engine on a fresh SQLite database.
func newEnv(t testing.TB, agents ...bot.AgentConfig) *env {
	t.Helper()
	return newEnvDSN(t, filepath.Join(t.TempDir(), "kefu.db"), agents...)
}

func newEnvDSN(t testing.TB, dsn string, agents ...bot.AgentConfig) *env {
	t.Helper()
	e := &env{dsn: dsn, clock: &clock{t: time.Date(2026, 11, 23, 1, 30, 0, 0, time.UTC)}, agents: agents}
	e.open(t)
	return e
}

// envMaker builds an engine environment on one database kind.
type envMaker func(t testing.TB, agents ...bot.AgentConfig) *env

// forEachDB runs f on SQLite, and on PostgreSQL when KEFU_TEST_POSTGRES_DSN is set (skipped otherwise).
func forEachDB(t *testing.T, f func(t *testing.T, mk envMaker)) {
	t.Run("sqlite", func(t *testing.T) { f(t, newEnv) })
	t.Run("postgres", func(t *testing.T) {
		if os.Getenv(storetest.EnvPostgres) == "" {
			testenv.Skip(t, testenv.Postgres, storetest.EnvPostgres+" is not set")
		}
		f(t, func(t testing.TB, agents ...bot.AgentConfig) *env {
			dsn, _ := storetest.PostgresSchemaDSN(t)
			return newEnvDSN(t, dsn, agents...)
		})
	})
}

func (e *env) open(t testing.TB) {
	t.Helper()
	db, err := storage.Open(context.Background(), e.dsn, storage.Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	loc, _ := time.LoadLocation("Asia/Shanghai")
	eng, err := bot.New(bot.Options{Store: db, Flows: scripted{}, KB: fakeKB{}, Catalog: catalog{}, Location: loc,
		Agents: e.agents, Now: e.clock.Now})
	if err != nil {
		t.Fatalf("new engine: %v", err)
	}
	e.db, e.eng = db, eng
}

var msgSeq int

// say delivers a text message from user on web chat chat and returns the texts the bot queued.
func (e *env) say(t testing.TB, chat, text string) []string {
	t.Helper()
	msgSeq++
	return e.deliver(t, bot.Event{Channel: bot.ChannelWeb, MsgID: fmt.Sprintf("m%d", msgSeq), ChatID: chat, UserID: chat,
		Kind: bot.KindText, Text: text, At: e.clock.Now()})
}

func (e *env) press(t testing.TB, chat, payload string) []string {
	t.Helper()
	msgSeq++
	return e.deliver(t, bot.Event{Channel: bot.ChannelWeb, MsgID: fmt.Sprintf("m%d", msgSeq), ChatID: chat, UserID: chat,
		Kind: bot.KindButton, Payload: payload, At: e.clock.Now()})
}

func (e *env) deliver(t testing.TB, ev bot.Event) []string {
	t.Helper()
	ctx := context.Background()
	before, err := e.db.LastWebMessageID(ctx, ev.ChatID)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.eng.Deliver(ctx, ev); err != nil {
		t.Fatalf("deliver %q: %v", ev.Text, err)
	}
	return e.after(t, ev.ChatID, before)
}

func (e *env) after(t testing.TB, chat string, before int64) []string {
	t.Helper()
	rs, err := e.db.WebMessagesAfter(context.Background(), chat, before, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rs {
		out = append(out, r.Text)
	}
	return out
}

type storageStat struct {
	ID                      string
	Cited, Helped, NotHelpd int
}

func toStats(s []storage.FAQStat) []storageStat {
	var out []storageStat
	for _, x := range s {
		out = append(out, storageStat{x.EntryID, x.Cited, x.Helped, x.NotHelped})
	}
	return out
}
