package bot_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/storage"
)

// TestTaskStates walks the follow-through task state machine: every move from every state, allowed or
// refused, and what each leaves behind (state, done-by, audit event).
func TestTaskStates(t *testing.T) {
	ctx := context.Background()
	alice := bot.Actor{ID: agentA.ID}
	tests := []struct {
		name    string
		from    bot.TaskState // reached from open first (done or cancelled)
		to      bot.TaskState
		note    string
		wantErr error
	}{
		{"open to done", bot.TaskOpen, bot.TaskDone, "", nil},
		{"open to done with a note", bot.TaskOpen, bot.TaskDone, "refunded 200", nil},
		{"open to cancelled with a reason", bot.TaskOpen, bot.TaskCancelled, "customer kept the goods", nil},
		{"cancel needs a reason", bot.TaskOpen, bot.TaskCancelled, " ", bot.ErrBadInput},
		{"open to open", bot.TaskOpen, bot.TaskOpen, "", bot.ErrConflict},
		{"done twice", bot.TaskDone, bot.TaskDone, "", bot.ErrConflict},
		{"done to cancelled", bot.TaskDone, bot.TaskCancelled, "x", bot.ErrConflict},
		{"done reopened", bot.TaskDone, bot.TaskOpen, "refund bounced", nil},
		{"cancelled reopened", bot.TaskCancelled, bot.TaskOpen, "", nil},
		{"cancelled to done", bot.TaskCancelled, bot.TaskDone, "", bot.ErrConflict},
		{"unknown state", bot.TaskOpen, "lost", "", bot.ErrBadInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, agentA, supS)
			e.say(t, "c", "complaint")
			no := "GD20261123001"
			tk, err := e.eng.AddTask(ctx, alice, no, bot.NewTask{Kind: "refund", Owner: "finance:li", Due: e.clock.Now().Add(24 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			if tt.from != bot.TaskOpen {
				if _, err := e.eng.SetTaskState(ctx, alice, no, tk.ID, tt.from, "first"); err != nil {
					t.Fatal(err)
				}
			}
			evBefore := taskEvents(t, e, no)
			got, err := e.eng.SetTaskState(ctx, alice, no, tk.ID, tt.to, tt.note)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			ts, _ := e.eng.Tasks(ctx, no)
			if len(ts) != 1 {
				t.Fatalf("tasks %+v", ts)
			}
			if tt.wantErr != nil {
				if ts[0].State != tt.from || taskEvents(t, e, no) != evBefore {
					t.Errorf("refused move changed something: %+v, events %d->%d", ts[0], evBefore, taskEvents(t, e, no))
				}
				return
			}
			if got.State != tt.to || ts[0].State != tt.to {
				t.Errorf("state %s (stored %s), want %s", got.State, ts[0].State, tt.to)
			}
			if done := ts[0].DoneAt != nil && ts[0].DoneBy == alice.ID; done == (tt.to == bot.TaskOpen) {
				t.Errorf("done-by %q at %v after moving to %s", ts[0].DoneBy, ts[0].DoneAt, tt.to)
			}
			if taskEvents(t, e, no) != evBefore+1 {
				t.Errorf("no audit event for the move")
			}
		})
	}
}

func taskEvents(t *testing.T, e *env, no string) int {
	t.Helper()
	_, evs, err := e.eng.Ticket(context.Background(), no)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range evs {
		if ev.Kind == bot.EvTask {
			n++
		}
	}
	return n
}

// TestAddTaskRefusals: bad input is refused with nothing stored.
func TestAddTaskRefusals(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, agentA, supS)
	e.say(t, "c", "complaint")
	no := "GD20261123001"
	now := e.clock.Now()
	tests := []struct {
		name    string
		actor   string
		no      string
		task    bot.NewTask
		wantErr error
	}{
		{"unknown kind", agentA.ID, no, bot.NewTask{Kind: "teleport", Owner: "finance:li", Due: now.Add(time.Hour)}, bot.ErrBadInput},
		{"no owner", agentA.ID, no, bot.NewTask{Kind: "refund", Due: now.Add(time.Hour)}, bot.ErrBadInput},
		{"owner with spaces", agentA.ID, no, bot.NewTask{Kind: "refund", Owner: "li and wang", Due: now.Add(time.Hour)}, bot.ErrBadInput},
		{"no due time", agentA.ID, no, bot.NewTask{Kind: "refund", Owner: "finance:li"}, bot.ErrBadInput},
		{"due in the past", agentA.ID, no, bot.NewTask{Kind: "refund", Owner: "finance:li", Due: now.Add(-time.Minute)}, bot.ErrBadInput},
		{"not an agent", "cli:mallory", no, bot.NewTask{Kind: "refund", Owner: "finance:li", Due: now.Add(time.Hour)}, bot.ErrForbidden},
		{"unknown ticket", agentA.ID, "GD20261123999", bot.NewTask{Kind: "refund", Owner: "finance:li", Due: now.Add(time.Hour)}, bot.ErrUnknownTkt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := e.eng.AddTask(ctx, bot.Actor{ID: tt.actor}, tt.no, tt.task); !errors.Is(err, tt.wantErr) {
				t.Errorf("err %v, want %v", err, tt.wantErr)
			}
		})
	}
	if ts, _ := e.eng.Tasks(ctx, no); len(ts) != 0 {
		t.Errorf("refused tasks stored: %+v", ts)
	}
	if _, err := e.eng.SetTaskState(ctx, bot.Actor{ID: agentA.ID}, no, 42, bot.TaskDone, ""); !errors.Is(err, bot.ErrNoTask) {
		t.Errorf("unknown task: %v", err)
	}
}

// A complaint cannot be resolved (or closed) while a task is open; the message names the task; a
// supervisor's reason forces it and the trail says which tasks were open; done tasks let it through.
func TestOpenTaskBlocksResolve(t *testing.T) { forEachDB(t, testOpenTaskBlocksResolve) }

func testOpenTaskBlocksResolve(t *testing.T, mk envMaker) {
	ctx := context.Background()
	e := mk(t, agentA, supS)
	alice, sue := bot.Actor{ID: agentA.ID}, bot.Actor{ID: supS.ID}
	e.say(t, "c", "complaint")
	no := "GD20261123001"
	if _, err := e.eng.Reply(ctx, alice, no, "sorry, refund on its way"); err != nil {
		t.Fatal(err)
	}
	tk, err := e.eng.AddTask(ctx, alice, no, bot.NewTask{Kind: "refund", Owner: "finance:li", Due: e.clock.Now().Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.eng.Resolve(ctx, alice, no, "refunded")
	if !errors.Is(err, bot.ErrOpenTasks) || !strings.Contains(err.Error(), "#1 refund (owner finance:li") {
		t.Fatalf("resolve with an open task: %v", err)
	}
	if _, err := e.eng.Close(ctx, alice, no); !errors.Is(err, bot.ErrOpenTasks) {
		t.Errorf("close with an open task: %v", err)
	}
	if _, err := e.eng.ForceResolve(ctx, alice, no, "", "agent forcing"); !errors.Is(err, bot.ErrForbidden) {
		t.Errorf("agent forces: %v", err)
	}
	if got, _, _ := e.eng.Ticket(ctx, no); got.Status == bot.StatusResolved {
		t.Fatal("resolved despite the open task")
	}
	// A non-complaint is not held back by tasks.
	e.say(t, "d", "ticket where is my parcel")
	if _, err := e.eng.AddTask(ctx, alice, "GD20261123002", bot.NewTask{Kind: "reship", Owner: "warehouse", Due: e.clock.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.Reply(ctx, alice, "GD20261123002", "reshipping"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.Resolve(ctx, alice, "GD20261123002", ""); err != nil {
		t.Errorf("non-complaint with a task: %v", err)
	}
	// The supervisor forces it: the reason and the open task are in the trail.
	if _, err := e.eng.ForceResolve(ctx, sue, no, "refunded", "finance confirmed by phone"); err != nil {
		t.Fatalf("supervisor forces: %v", err)
	}
	_, evs, _ := e.eng.Ticket(ctx, no)
	var forced, named bool
	for _, ev := range evs {
		forced = forced || ev.Kind == bot.EvForced && strings.Contains(ev.Text, "finance confirmed by phone")
		named = named || ev.Kind == bot.EvTask && strings.HasPrefix(ev.Text, "resolve with open tasks: #1 refund")
	}
	if !forced || !named {
		t.Errorf("forced resolve trail: forced=%v named=%v", forced, named)
	}
	// A second complaint whose task is done resolves normally.
	e.say(t, "f", "complaint")
	no3 := "GD20261123003"
	if _, err := e.eng.Reply(ctx, alice, no3, "ok"); err != nil {
		t.Fatal(err)
	}
	tk, err = e.eng.AddTask(ctx, alice, no3, bot.NewTask{Kind: "reship", Owner: "warehouse", Due: e.clock.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.DoneTask(ctx, alice, no3, tk.ID, "shipped SF123"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.Resolve(ctx, alice, no3, ""); err != nil {
		t.Errorf("resolve after the task is done: %v", err)
	}
}

// TestLateTaskPingsOnce: a late open task pings exactly once across three engines (processes) running
// housekeeping concurrently and repeatedly, on SQLite and PostgreSQL with a fake clock; a task done
// before its due time never pings; reopening with the same due time does not ping again.
func TestLateTaskPingsOnce(t *testing.T) { forEachDB(t, testLateTaskPingsOnce) }

func testLateTaskPingsOnce(t *testing.T, mk envMaker) {
	ctx := context.Background()
	e := mk(t, agentA, supS)
	alice := bot.Actor{ID: agentA.ID}
	// Three processes: each its own connection pool on the same database, with the same fake clock.
	engines := []*bot.Engine{e.eng}
	for range 2 {
		db, err := storage.Open(ctx, e.dsn, storage.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		eng, err := bot.New(bot.Options{Store: db, Flows: scripted{}, KB: fakeKB{}, Catalog: catalog{}, Agents: e.agents, Now: e.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		engines = append(engines, eng)
	}
	e.say(t, "c", "complaint")
	no := "GD20261123001"
	due := e.clock.Now().Add(24 * time.Hour)
	late, err := e.eng.AddTask(ctx, alice, no, bot.NewTask{Kind: "refund", Owner: "slack:UFIN", Due: due, Note: "refund 200"})
	if err != nil {
		t.Fatal(err)
	}
	early, err := e.eng.AddTask(ctx, alice, no, bot.NewTask{Kind: "reship", Owner: "warehouse", Due: due})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.DoneTask(ctx, alice, no, early.ID, ""); err != nil {
		t.Fatal(err)
	}
	housekeep := func() int {
		t.Helper()
		var mu sync.Mutex
		var wg sync.WaitGroup
		total := 0
		for _, en := range engines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 3 {
					r, err := en.Housekeep(ctx)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					total += r.TasksPinged
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		return total
	}
	e.clock.Add(24*time.Hour - time.Second)
	if n := housekeep(); n != 0 {
		t.Fatalf("pinged %d times before the due time", n)
	}
	e.clock.Add(time.Second)
	if n := housekeep(); n != 1 {
		t.Fatalf("late task pinged %d times across processes, want 1", n)
	}
	e.clock.Add(time.Hour)
	if n := housekeep(); n != 0 {
		t.Errorf("pinged again an hour later: %d", n)
	}
	_, evs, _ := e.eng.Ticket(ctx, no)
	var pings []bot.TicketEvent
	for _, ev := range evs {
		if ev.Kind == bot.EvTaskLate {
			pings = append(pings, ev)
		}
	}
	if len(pings) != 1 || pings[0].Actor != "system" || !strings.Contains(pings[0].Text, "#1 refund owner=slack:UFIN") {
		t.Fatalf("late events %+v", pings)
	}
	// Done, then reopened (same due time): no second ping.
	if _, err := e.eng.DoneTask(ctx, alice, no, late.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.SetTaskState(ctx, alice, no, late.ID, bot.TaskOpen, "refund bounced"); err != nil {
		t.Fatal(err)
	}
	if n := housekeep(); n != 0 {
		t.Errorf("reopened task pinged again: %d", n)
	}
}

// TestTrailTimesAreLocal: the due times written into the audit trail and refusals (tasks, return
// visits) are in the configured time zone like every other time an agent reads (ticket show, the
// console, Slack), not UTC in RFC 3339.
func TestTrailTimesAreLocal(t *testing.T) {
	ctx := context.Background()
	alice := bot.Actor{ID: agentA.ID}
	e := newEnv(t, agentA, supS)
	e.say(t, "c", "complaint")
	no := "GD20261123001"
	tk, err := e.eng.AddTask(ctx, alice, no, bot.NewTask{Kind: "refund", Owner: "finance:li", Due: e.clock.Now().Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.Reply(ctx, alice, no, "sorry"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.Resolve(ctx, alice, no, ""); !errors.Is(err, bot.ErrOpenTasks) || !strings.Contains(err.Error(), "due 2026-11-24 09:30") {
		t.Errorf("resolve with an open task: %v", err)
	}
	if _, err := e.eng.SetTaskState(ctx, alice, no, tk.ID, bot.TaskDone, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.Resolve(ctx, alice, no, ""); err != nil {
		t.Fatal(err)
	}
	_, evs, err := e.eng.Ticket(ctx, no)
	if err != nil {
		t.Fatal(err)
	}
	var trail []string
	for _, ev := range evs {
		trail = append(trail, string(ev.Kind)+": "+ev.Text)
	}
	all := strings.Join(trail, "\n")
	for _, want := range []string{"task: #1 refund owner=finance:li due=2026-11-24 09:30: added", "return_visit: complaint due 2026-11-26 18:00"} {
		if !strings.Contains(all, want) {
			t.Errorf("trail lacks %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "T01:30:00Z") || strings.Contains(all, ":00Z") {
		t.Errorf("trail has UTC RFC 3339 times:\n%s", all)
	}
}

// TestClosingAComplaintSchedulesItsVisit: a complaint closed without being resolved first (an agent
// answered, then closed it) still gets its return visit in 3 working days; resolving then closing
// makes only one.
func TestClosingAComplaintSchedulesItsVisit(t *testing.T) {
	ctx := context.Background()
	alice := bot.Actor{ID: agentA.ID}
	for _, resolveFirst := range []bool{false, true} {
		e := newEnv(t, agentA, supS)
		e.say(t, "c", "complaint")
		no := "GD20261123001"
		if _, err := e.eng.Reply(ctx, alice, no, "sorry"); err != nil {
			t.Fatal(err)
		}
		if resolveFirst {
			if _, err := e.eng.Resolve(ctx, alice, no, ""); err != nil {
				t.Fatal(err)
			}
		}
		tk, err := e.eng.Close(ctx, alice, no)
		if err != nil {
			t.Fatal(err)
		}
		vs, err := e.db.ReturnVisits(ctx, tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		// Monday 09:30 Shanghai + 3 working days: Thursday 18:00 (10:00 UTC).
		if len(vs) != 1 || vs[0].Reason != bot.VisitComplaint || !vs[0].DueAt.Equal(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)) {
			t.Errorf("resolve first %v: visits %+v", resolveFirst, vs)
		}
	}
}
