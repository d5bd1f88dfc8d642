package digest

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/kefu-dev/kefu/reports"
	"github.com/kefu-dev/kefu/storage"
)

// Options configure a Reporter and a Scheduler.
type Options struct {
	DB         *storage.DB
	Schedule   Schedule // Loc is also the zone of `/kefu report` periods
	Lang       string   // language of scheduled digests (default "zh-CN")
	T          Translator
	ConsoleURL string // e.g. "https://kefu.example.com/console"
	// Post sends a digest to the supervisors' channel (slack.(*App).PostDigest).
	Post func(ctx context.Context, text string) error
	// Owner names this process in claims (default host-pid-like random is not needed: any string).
	Owner    string
	Interval time.Duration // how often the loop looks at the clock (default 1 minute)
	Lease    time.Duration // how long a claim blocks other processes while posting (default 2 minutes)
	Now      func() time.Time
	Logger   *slog.Logger
}

// Reporter answers `/kefu report today|week|month` (it implements slack.Reports).
type Reporter struct{ o Options }

// NewReporter returns a Reporter over o.DB.
func NewReporter(o Options) *Reporter {
	o.defaults()
	return &Reporter{o: o}
}

func (o *Options) defaults() {
	if o.Schedule.Loc == nil {
		o.Schedule.Loc = time.UTC
	}
	if o.Lang == "" {
		o.Lang = "zh-CN"
	}
	if o.T == nil {
		o.T = func(_, key string, _ map[string]any) string { return key }
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Interval <= 0 {
		o.Interval = time.Minute
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.Owner == "" {
		o.Owner = "kefu"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Report computes the period's report and renders it in lang.
func (r *Reporter) Report(ctx context.Context, period, lang string) (string, error) {
	now := r.o.Now()
	from, to, err := Period(period, now, r.o.Schedule.Loc)
	if err != nil {
		return "", err
	}
	if !from.Before(to) { // exactly midnight
		to = from.Add(time.Second)
	}
	rep, err := reports.Compute(ctx, r.o.DB, reports.Filter{From: from, To: to, Now: now, Loc: r.o.Schedule.Loc})
	if err != nil {
		return "", fmt.Errorf("digest: report %s: %w", period, err)
	}
	if lang == "" {
		lang = r.o.Lang
	}
	return Text(r.o.T, lang, "digest.title."+period, rep, r.o.Schedule.Loc, r.o.ConsoleURL), nil
}

// Scheduler posts the due digests; run one per process, as many processes as you like.
type Scheduler struct {
	o   Options
	log *slog.Logger
}

// NewScheduler checks o and returns a Scheduler.
func NewScheduler(o Options) (*Scheduler, error) {
	if o.DB == nil || o.Post == nil {
		return nil, fmt.Errorf("digest: options: DB and Post are required")
	}
	o.defaults()
	return &Scheduler{o: o, log: o.Logger.With("component", "digest")}, nil
}

// Run ticks until ctx is done, posting what is due; it returns nil on cancel.
func (s *Scheduler) Run(ctx context.Context) error {
	t := time.NewTicker(s.o.Interval)
	defer t.Stop()
	for {
		if _, err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "digest tick", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Tick posts every digest due now that no process has posted yet and returns the keys it posted.
func (s *Scheduler) Tick(ctx context.Context) ([]string, error) {
	now := s.o.Now()
	var posted []string
	for _, slot := range Due(s.o.Schedule, now) {
		ok, token, err := s.claim(ctx, slot.Key(), now)
		if err != nil {
			return posted, err
		}
		if !ok {
			continue
		}
		if err := s.post(ctx, slot, now); err != nil {
			s.release(ctx, slot.Key(), token)
			return posted, err
		}
		if err := s.done(ctx, slot.Key(), token, now); err != nil {
			return posted, err
		}
		s.log.InfoContext(ctx, "digest posted", "key", slot.Key())
		posted = append(posted, slot.Key())
	}
	return posted, nil
}

func (s *Scheduler) post(ctx context.Context, slot Slot, now time.Time) error {
	rep, err := reports.Compute(ctx, s.o.DB, reports.Filter{From: slot.From, To: slot.To, Now: now, Loc: s.o.Schedule.Loc})
	if err != nil {
		return fmt.Errorf("digest: %s: %w", slot.Key(), err)
	}
	text := Text(s.o.T, s.o.Lang, "digest.title."+string(slot.Kind), rep, s.o.Schedule.Loc, s.o.ConsoleURL)
	if err := s.o.Post(ctx, text); err != nil {
		return fmt.Errorf("digest: post %s: %w", slot.Key(), err)
	}
	return nil
}

// Claims live in the kv table: value "posting <owner> <lease-until unix ms>" while one process
// posts, "posted <unix ms>" after. claim is one conditional upsert — atomic on both databases — that
// succeeds when the row is new or holds another process's expired lease (it died while posting).
const (
	posting = "posting "
	posted  = "posted "
)

func (s *Scheduler) claim(ctx context.Context, key string, now time.Time) (bool, string, error) {
	token := fmt.Sprintf("%s%s %d", posting, strings.ReplaceAll(s.o.Owner, " ", "_"), now.Add(s.o.Lease).UnixMilli())
	res := s.o.DB.Gorm().WithContext(ctx).Exec(`INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
WHERE kv.value LIKE 'posting %' AND kv.updated_at < ?`, key, token, now.UTC(), now.UTC().Add(-s.o.Lease))
	if res.Error != nil {
		return false, "", fmt.Errorf("digest: claim %s: %w", key, res.Error)
	}
	return res.RowsAffected == 1, token, nil
}

func (s *Scheduler) done(ctx context.Context, key, token string, now time.Time) error {
	err := s.o.DB.Gorm().WithContext(ctx).Exec("UPDATE kv SET value = ?, updated_at = ? WHERE key = ? AND value = ?",
		fmt.Sprintf("%s%d", posted, now.UnixMilli()), now.UTC(), key, token).Error
	if err != nil {
		return fmt.Errorf("digest: mark %s posted: %w", key, err)
	}
	return nil
}

// release gives a failed post back, so the next tick (here or elsewhere) retries it.
func (s *Scheduler) release(ctx context.Context, key, token string) {
	if err := s.o.DB.Gorm().WithContext(context.WithoutCancel(ctx)).Exec("DELETE FROM kv WHERE key = ? AND value = ?", key, token).Error; err != nil {
		s.log.WarnContext(ctx, "digest release", "key", key, "err", err)
	}
}
