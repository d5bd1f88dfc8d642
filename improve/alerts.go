package improve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Threshold is an alert rule on a live number: metric op value over the sliding window ending now.
type Threshold struct {
	ID        int64         `json:"-"`
	Name      string        `json:"name"`
	Metric    string        `json:"metric"`
	Op        string        `json:"op"` // > or <
	Value     float64       `json:"value"`
	Window    time.Duration `json:"window"`
	State     string        `json:"state"` // ok | firing
	LastValue *float64      `json:"last_value"`
	ChangedAt *time.Time    `json:"changed_at"`
}

// Threshold states.
const (
	AlertOK     = "ok"
	AlertFiring = "firing"
)

var nameRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// SetThreshold validates th and stores it by name (replacing the rule of that name; its state is
// kept). Supervisors only.
func (s *Service) SetThreshold(ctx context.Context, actor string, th Threshold) (Threshold, error) {
	if !s.IsSupervisor(actor) {
		return th, forbidden("improve.err.supervisor_only", "actor", actor)
	}
	th.Name = strings.TrimSpace(th.Name)
	if !nameRe.MatchString(th.Name) {
		return th, bad("improve.err.name")
	}
	th.Metric = strings.TrimSpace(th.Metric)
	if _, ok := s.metrics.Get(th.Metric); !ok {
		return th, bad("improve.err.unknown_metric", "metric", th.Metric, "known", strings.Join(s.metrics.Names(), ", "))
	}
	if th.Op = strings.TrimSpace(th.Op); th.Op != ">" && th.Op != "<" {
		return th, bad("improve.err.threshold_op", "op", th.Op)
	}
	if math.IsNaN(th.Value) || math.IsInf(th.Value, 0) {
		return th, bad("improve.err.value")
	}
	if th.Window <= 0 {
		return th, bad("improve.err.window")
	}
	now := s.now().UTC()
	m := thresholdRow{Name: th.Name, Metric: th.Metric, Op: th.Op, Value: th.Value, WindowS: int64(th.Window / time.Second),
		State: AlertOK, CreatedBy: actor, CreatedAt: now}
	err := s.g.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "name"}},
		DoUpdates: clause.AssignmentColumns([]string{"metric", "op", "value", "window_s", "created_by"}),
	}).Create(&m).Error
	if err != nil {
		return th, wrap("set threshold", err)
	}
	th.State = AlertOK
	return th, nil
}

// Thresholds lists the rules by name.
func (s *Service) Thresholds(ctx context.Context) ([]Threshold, error) {
	var rows []thresholdRow
	if err := s.g.WithContext(ctx).Order("name").Find(&rows).Error; err != nil {
		return nil, wrap("thresholds", err)
	}
	out := make([]Threshold, len(rows))
	for i, r := range rows {
		out[i] = r.toThreshold()
	}
	return out, nil
}

// crossed reports whether v is past the rule.
func crossed(op string, v, limit float64) bool {
	if op == ">" {
		return v > limit
	}
	return v < limit
}

// ScanThresholds computes every rule's number over its window ending at now and records each change
// of state. A change is one conditional UPDATE … WHERE state = <the state read>: when several
// processes scan at once exactly one of them wins each crossing (the others update no row), and the
// winner queues the ping in the same transaction, keyed by the rule and its transition count. A rule
// whose number has no sample (no tickets in the window) keeps its state. It returns the number of
// changes this call made.
func (s *Service) ScanThresholds(ctx context.Context, now time.Time) (int, error) {
	ths, err := s.Thresholds(ctx)
	if err != nil {
		return 0, err
	}
	changes := 0
	for _, th := range ths {
		m, ok := s.metrics.Get(th.Metric)
		if !ok {
			continue
		}
		v, err := value(ctx, s.db, m, now.Add(-th.Window), now, now, s.loc)
		if err != nil {
			return changes, err
		}
		if v == nil {
			continue
		}
		want := AlertOK
		if crossed(th.Op, *v, th.Value) {
			want = AlertFiring
		}
		if want == th.State {
			continue
		}
		won := false
		err = s.tx(ctx, func(tx *gorm.DB) error {
			won = false
			res := tx.Exec("UPDATE improve_thresholds SET state = ?, version = version + 1, last_value = ?, changed_at = ? WHERE id = ? AND state = ?",
				want, *v, now.UTC(), th.ID, th.State)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected != 1 {
				return nil
			}
			won = true
			var row thresholdRow
			if err := tx.Where("id = ?", th.ID).Take(&row).Error; err != nil {
				return err
			}
			key := "improve.ping.cleared"
			if want == AlertFiring {
				key = "improve.ping.crossed"
			}
			return queuePing(tx, fmt.Sprintf("threshold:%d:%d", th.ID, row.Version), key, map[string]any{
				"name": th.Name, "metric": th.Metric, "value": strconv.FormatFloat(*v, 'f', -1, 64), "op": th.Op,
				"threshold": strconv.FormatFloat(th.Value, 'f', -1, 64), "window": th.Window.String(),
			}, nil, now)
		})
		if err != nil {
			return changes, wrap("threshold "+th.Name, err)
		}
		if won {
			changes++
		}
	}
	return changes, nil
}

// ScanLateActions queues one ping per late action and due date — to its owner and the supervisors.
// An action is late once its due date has passed in the configured time zone and it is not done.
// The ping's key is the action and its due date, so every process may scan: the first insert wins,
// and a new due date pings again when that one passes too.
func (s *Service) ScanLateActions(ctx context.Context, now time.Time) (int, error) {
	today := now.In(s.loc).Format("2006-01-02")
	type row struct {
		A  actionRow `gorm:"embedded"`
		No string
	}
	var rows []row
	err := s.g.WithContext(ctx).Table("improve_actions a").Select("a.*, r.no AS no").Joins("JOIN improve_records r ON r.id = a.record_id").
		Where("a.state <> ? AND a.due_date < ?", StateDone, today).Order("a.id").Limit(1000).Find(&rows).Error
	if err != nil {
		return 0, wrap("late actions", err)
	}
	n := 0
	for _, r := range rows {
		rcpt := append([]string{r.A.Owner}, s.Supervisors()...)
		var inserted bool
		err := s.tx(ctx, func(tx *gorm.DB) error {
			var err error
			inserted, err = queuePingOnce(tx, fmt.Sprintf("late:%d:%s", r.A.ID, r.A.DueDate), "improve.ping.late", map[string]any{
				"id": r.A.ID, "no": r.No, "description": r.A.Description, "owner": r.A.Owner, "due": r.A.DueDate, "state": r.A.State,
			}, dedupe(rcpt), now)
			return err
		})
		if err != nil {
			return n, wrap("late action", err)
		}
		if inserted {
			n++
		}
	}
	return n, nil
}

func dedupe(ids []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func queuePing(tx *gorm.DB, key, textKey string, args map[string]any, rcpt []string, now time.Time) error {
	_, err := queuePingOnce(tx, key, textKey, args, rcpt, now)
	return err
}

// queuePingOnce inserts the ping unless its key is queued already; it reports whether it did.
func queuePingOnce(tx *gorm.DB, key, textKey string, args map[string]any, rcpt []string, now time.Time) (bool, error) {
	a, _ := json.Marshal(args)
	r, _ := json.Marshal(rcpt)
	res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&pingRow{Key: key, TextKey: textKey, Args: string(a), Recipients: string(r),
		Status: "pending", CreatedAt: now.UTC()})
	return res.RowsAffected == 1, res.Error
}

// Ping is one queued notification: a catalog key, its arguments and the people it is for (besides
// the supervisors' channel it is posted to).
type Ping struct {
	ID         int64
	Key        string
	TextKey    string
	Args       map[string]any
	Recipients []string
}

// Notifier delivers a ping (posts it to the supervisors' Slack channel, or logs it).
type Notifier func(ctx context.Context, p Ping) error

// pingLease is how long a process holds a ping it is delivering before another may take it over.
const pingLease = 2 * time.Minute

// DeliverPings hands every pending ping to notify, each once across processes: a ping is claimed by a
// conditional UPDATE (pending, or sending with its lease run out → sending until now+lease) that only
// one process wins, and marked sent after notify returns. A failed notify releases the ping for the
// next scan. It returns how many pings this call delivered.
func (s *Service) DeliverPings(ctx context.Context, now time.Time, holder string, notify Notifier) (int, error) {
	var rows []pingRow
	if err := s.g.WithContext(ctx).Where("status <> ?", "sent").Order("id").Limit(100).Find(&rows).Error; err != nil {
		return 0, wrap("pings", err)
	}
	sent := 0
	for _, r := range rows {
		res := s.g.WithContext(ctx).Exec(`UPDATE improve_pings SET status = 'sending', lease_until = ?
			WHERE id = ? AND (status = 'pending' OR (status = 'sending' AND lease_until < ?))`, now.UTC().Add(pingLease), r.ID, now.UTC())
		if res.Error != nil {
			return sent, wrap("claim ping", res.Error)
		}
		if res.RowsAffected != 1 {
			continue
		}
		p := Ping{ID: r.ID, Key: r.Key, TextKey: r.TextKey}
		_ = json.Unmarshal([]byte(r.Args), &p.Args)
		_ = json.Unmarshal([]byte(r.Recipients), &p.Recipients)
		if err := notify(ctx, p); err != nil {
			s.g.WithContext(context.WithoutCancel(ctx)).Exec("UPDATE improve_pings SET status = 'pending', lease_until = NULL WHERE id = ?", r.ID)
			return sent, fmt.Errorf("improve: deliver ping %s (%s): %w", r.Key, holder, err)
		}
		if err := s.g.WithContext(ctx).Exec("UPDATE improve_pings SET status = 'sent', sent_at = ?, lease_until = NULL WHERE id = ?", now.UTC(), r.ID).Error; err != nil {
			return sent, wrap("mark ping sent", err)
		}
		sent++
	}
	return sent, nil
}

// Run scans thresholds and late actions and delivers pings every interval until ctx ends. Every kefu
// process may run it on the same database.
func (s *Service) Run(ctx context.Context, every time.Duration, holder string, notify Notifier, log *slog.Logger) error {
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		now := s.now()
		if _, err := s.ScanThresholds(ctx, now); err != nil && ctx.Err() == nil {
			log.WarnContext(ctx, "improve: threshold scan failed", "err", err)
		}
		if _, err := s.ScanLateActions(ctx, now); err != nil && ctx.Err() == nil {
			log.WarnContext(ctx, "improve: late action scan failed", "err", err)
		}
		if _, err := s.DeliverPings(ctx, now, holder, notify); err != nil && ctx.Err() == nil {
			log.WarnContext(ctx, "improve: ping delivery failed", "err", err)
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.Canceled) {
				return nil
			}
			return ctx.Err()
		case <-t.C:
		}
	}
}

type thresholdRow struct {
	ID        int64 `gorm:"primaryKey"`
	Name      string
	Metric    string
	Op        string
	Value     float64
	WindowS   int64 `gorm:"column:window_s"`
	State     string
	Version   int64
	LastValue *float64
	ChangedAt *time.Time
	CreatedBy string
	CreatedAt time.Time
}

func (thresholdRow) TableName() string { return "improve_thresholds" }

func (r thresholdRow) toThreshold() Threshold {
	return Threshold{ID: r.ID, Name: r.Name, Metric: r.Metric, Op: r.Op, Value: r.Value, Window: time.Duration(r.WindowS) * time.Second,
		State: r.State, LastValue: r.LastValue, ChangedAt: r.ChangedAt}
}

type pingRow struct {
	ID         int64 `gorm:"primaryKey"`
	Key        string
	TextKey    string
	Args       string
	Recipients string
	Status     string
	LeaseUntil *time.Time
	CreatedAt  time.Time
	SentAt     *time.Time
}

func (pingRow) TableName() string { return "improve_pings" }
