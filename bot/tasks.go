package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-dev/kefu/flows"
)

// Follow-through tasks (issue 11): what a ticket still needs from someone outside the conversation (a
// finance refund, a warehouse reship …), with an owner and a due time. A late open task pings the
// supervisors (and its owner) exactly once, from whichever process runs Housekeep first (sla_fired);
// a complaint cannot be resolved or closed while a task is open unless a supervisor forces it with a
// reason.

// EvTask records a task's life (added, done, cancelled, reopened); EvTaskLate the late ping.
const (
	EvTask     EventKind = "task"
	EvTaskLate EventKind = "task_late"
)

// TaskState is where a follow-through task stands.
type TaskState string

const (
	TaskOpen      TaskState = "open"
	TaskDone      TaskState = "done"
	TaskCancelled TaskState = "cancelled"
)

// DefaultTaskKinds are the kinds of follow-through task (labels: locale key "task.kind.<key>").
func DefaultTaskKinds() []string {
	return []string{"refund", "reship", "exchange", "repair", "coupon", "callback", "other"}
}

// ErrOpenTasks refuses resolving or closing a complaint while a follow-through task is open.
var ErrOpenTasks = errors.New("follow-through tasks still open")

// ErrNoTask refuses an operation on a task the ticket does not have.
var ErrNoTask = fmt.Errorf("no such task: %w", ErrNotFound)

// Task is one follow-through task on a ticket.
type Task struct {
	ID        int64
	TicketID  int64
	TicketNo  string
	Kind      string // a ComplaintConfig.TaskKinds key
	Owner     string // who does it: "finance:li", "slack:U123", "cli:bob"
	DueAt     time.Time
	State     TaskState
	Note      string // what to do, or why it was cancelled; personal data
	CreatedBy string
	CreatedAt time.Time
	DoneBy    string // who marked it done or cancelled
	DoneAt    *time.Time
}

// Late reports whether the task is open past its due time at now.
func (t Task) Late(now time.Time) bool { return t.State == TaskOpen && !now.Before(t.DueAt) }

// TaskReader reads follow-through tasks.
type TaskReader interface {
	// Tasks returns a ticket's tasks, oldest first.
	Tasks(ctx context.Context, ticketID int64) ([]Task, error)
}

// TaskTx writes follow-through tasks inside a desk transaction.
type TaskTx interface {
	TaskReader
	// SaveTask inserts t (ID 0) or updates its state, note, done-by and done time.
	SaveTask(ctx context.Context, t Task) (Task, error)
	// LateTasks returns open tasks due at or before now, oldest due first.
	LateTasks(ctx context.Context, now time.Time, limit int) ([]Task, error)
}

// NewTask is what an agent gives to add a task.
type NewTask struct {
	Kind  string
	Owner string
	Due   time.Time
	Note  string
}

// TaskKinds returns the configured kinds of follow-through task.
func (e *Engine) TaskKinds() []string { return e.cc.TaskKinds }

// AddTask adds a follow-through task to ticket no. The kind must be configured, the owner non-empty
// and the due time in the future; the ticket must not be closed.
func (e *Engine) AddTask(ctx context.Context, a Actor, no string, n NewTask) (Task, error) {
	n.Kind, n.Owner, n.Note = strings.TrimSpace(n.Kind), strings.TrimSpace(n.Owner), flows.Normalize(n.Note)
	switch {
	case !slices.Contains(e.cc.TaskKinds, n.Kind):
		return Task{}, fmt.Errorf("bot: task on %s: kind %q: %w (known: %s)", no, n.Kind, ErrBadInput, strings.Join(e.cc.TaskKinds, ", "))
	case n.Owner == "" || len(n.Owner) > 200 || strings.ContainsAny(n.Owner, " \t\n"):
		return Task{}, fmt.Errorf("bot: task on %s: %w: an owner is needed (one word, like finance:li)", no, ErrBadInput)
	case n.Due.IsZero():
		return Task{}, fmt.Errorf("bot: task on %s: %w: a due time is needed", no, ErrBadInput)
	}
	var out Task
	_, err := e.desk(ctx, a, no, func(ctx context.Context, d *deskTurn) error {
		if err := notClosed(d.t); err != nil {
			return err
		}
		if !n.Due.After(d.at) {
			return fmt.Errorf("bot: task on %s: %w: the due time %s has passed", d.t.No, ErrBadInput, e.stamp(n.Due))
		}
		t, err := d.tx.SaveTask(ctx, Task{TicketID: d.t.ID, TicketNo: d.t.No, Kind: n.Kind, Owner: n.Owner, DueAt: n.Due.UTC(),
			State: TaskOpen, Note: truncateRunes(n.Note, 2000), CreatedBy: d.actor.ID, CreatedAt: d.at})
		if err != nil {
			return err
		}
		t.TicketNo, out = d.t.No, t
		d.event(EvTask, fmt.Sprintf("#%d %s owner=%s due=%s: added %s", t.ID, t.Kind, t.Owner, e.stamp(t.DueAt), t.Note), true)
		return nil
	})
	return out, err
}

// taskMoves are the allowed state changes: an open task is done or cancelled; a done or cancelled
// one may be reopened (a refund that bounced).
var taskMoves = map[TaskState][]TaskState{
	TaskOpen:      {TaskDone, TaskCancelled},
	TaskDone:      {TaskOpen},
	TaskCancelled: {TaskOpen},
}

// SetTaskState moves task id of ticket no to state, with a note (required to cancel). A move the
// state machine does not allow is ErrConflict; a task of another ticket is ErrNoTask.
func (e *Engine) SetTaskState(ctx context.Context, a Actor, no string, id int64, state TaskState, note string) (Task, error) {
	note = flows.Normalize(note)
	if _, ok := taskMoves[state]; !ok {
		return Task{}, fmt.Errorf("bot: task #%d state %q: %w (want open, done or cancelled)", id, state, ErrBadInput)
	}
	if state == TaskCancelled && note == "" {
		return Task{}, fmt.Errorf("bot: cancel task #%d: %w: a reason is needed", id, ErrBadInput)
	}
	var out Task
	_, err := e.desk(ctx, a, no, func(ctx context.Context, d *deskTurn) error {
		if err := notClosed(d.t); err != nil {
			return err
		}
		ts, err := d.tx.Tasks(ctx, d.t.ID)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(ts, func(t Task) bool { return t.ID == id })
		if i < 0 {
			return fmt.Errorf("bot: task #%d on %s: %w", id, d.t.No, ErrNoTask)
		}
		t := ts[i]
		if !slices.Contains(taskMoves[t.State], state) {
			return fmt.Errorf("bot: task #%d on %s is %s, cannot become %s: %w", id, d.t.No, t.State, state, ErrConflict)
		}
		from := t.State
		t.State = state
		if note != "" {
			t.Note = truncateRunes(note, 2000)
		}
		if state == TaskOpen {
			t.DoneBy, t.DoneAt = "", nil
		} else {
			at := d.at
			t.DoneBy, t.DoneAt = d.actor.ID, &at
		}
		if out, err = d.tx.SaveTask(ctx, t); err != nil {
			return err
		}
		out.TicketNo = d.t.No
		d.event(EvTask, fmt.Sprintf("#%d %s owner=%s: %s->%s %s", t.ID, t.Kind, t.Owner, from, state, note), true)
		return nil
	})
	return out, err
}

// DoneTask marks task id of ticket no done.
func (e *Engine) DoneTask(ctx context.Context, a Actor, no string, id int64, note string) (Task, error) {
	return e.SetTaskState(ctx, a, no, id, TaskDone, note)
}

// Tasks returns the follow-through tasks of ticket no, oldest first.
func (e *Engine) Tasks(ctx context.Context, no string) ([]Task, error) {
	t, err := e.store.TicketByNo(ctx, NormalizeTicketNo(no))
	if err != nil {
		return nil, err
	}
	ts, err := e.store.Tasks(ctx, t.ID)
	for i := range ts {
		ts[i].TicketNo = t.No
	}
	return ts, err
}

// openTasksGuard refuses resolving or closing a complaint with open tasks, unless forced (a supervisor's
// reason, already checked and recorded by statusOrder): then the open tasks are named in the trail.
func (e *Engine) openTasksGuard(ctx context.Context, d *deskTurn, verb, force string) error {
	if !d.t.Complaint {
		return nil
	}
	ts, err := d.tx.Tasks(ctx, d.t.ID)
	if err != nil {
		return err
	}
	var open []string
	for _, t := range ts {
		if t.State == TaskOpen {
			open = append(open, fmt.Sprintf("#%d %s (owner %s, due %s)", t.ID, t.Kind, t.Owner, e.stamp(t.DueAt)))
		}
	}
	if len(open) == 0 {
		return nil
	}
	if flows.Normalize(force) == "" {
		return fmt.Errorf("bot: %s %s: %w: %s", verb, d.t.No, ErrOpenTasks, strings.Join(open, "; "))
	}
	d.event(EvTask, verb+" with open tasks: "+strings.Join(open, "; "), true)
	return nil
}

// pingLateTasks records one EvTaskLate event per open task past its due time, once across every
// process and pass (sla_fired, kind "task", target the task id and due time: a new due time after a
// reopening pings again).
func (e *Engine) pingLateTasks(ctx context.Context, tx Tx, now time.Time) (int, error) {
	ts, err := tx.LateTasks(ctx, now, 200)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, t := range ts {
		first, err := tx.FireOnce(ctx, t.TicketID, "task", strconv.FormatInt(t.ID, 10), t.DueAt, now)
		if err != nil {
			return n, err
		}
		if !first {
			continue
		}
		if _, err := tx.AddEvent(ctx, TicketEvent{TicketID: t.TicketID, TicketNo: t.TicketNo, At: now, Actor: "system", Kind: EvTaskLate,
			Text: fmt.Sprintf("#%d %s owner=%s due=%s", t.ID, t.Kind, t.Owner, e.stamp(t.DueAt))}); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
