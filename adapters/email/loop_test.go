package email

import (
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/adapters/adaptertest"
	"github.com/kefu-dev/kefu/adapters/email/emailtest"
	"github.com/kefu-dev/kefu/internal/testlog"
)

// TestLoopGuard: a robot that does not mark its mail as automatic (no Auto-Submitted, no Precedence)
// and mails the support address again and again is answered only LoopLimit times an hour; a person
// writing meanwhile is not affected; the log names the robot by its keyed hash, once, never by its
// address; after the hour the robot's next mail is taken again.
func TestLoopGuard(t *testing.T) {
	s := emailtest.New(t)
	var now atomic.Int64
	now.Store(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC).Unix())
	logs := &testlog.Buffer{}
	a := newAdapter(t, s, NewMemState(), func(o *Options) {
		o.LoopLimit = 3
		o.Now = func() time.Time { return time.Unix(now.Load(), 0) }
		o.Hash = func(v string) string { return fmt.Sprintf("%x", len(v)*7919) }
		o.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	st := adaptertest.NewStore()
	go func() { _ = a.Run(t.Context(), st) }()
	const robot = "tickets@oldsystem.example.cn"
	for i := 0; i < 8; i++ {
		if err := s.Deliver(emailtest.Message(robot, "We received your request", fmt.Sprintf("robot%d@oldsystem", i), fmt.Sprintf("Your request #%d has been received.", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Deliver(emailtest.Message(customer, "退款", "person@example.cn", "我要退款")); err != nil {
		t.Fatal(err)
	}
	st.WaitFor(t, 4, 10*time.Second)
	time.Sleep(300 * time.Millisecond) // nothing more arrives
	got := st.Texts()
	var fromRobot, fromPerson int
	for _, txt := range got {
		switch {
		case strings.Contains(txt, "has been received"):
			fromRobot++
		case strings.Contains(txt, "我要退款"):
			fromPerson++
		}
	}
	if fromRobot != 3 || fromPerson != 1 {
		t.Fatalf("taken %d of the robot's mails and %d of the person's, want 3 and 1: %q", fromRobot, fromPerson, got)
	}
	out := logs.String()
	if n := strings.Count(out, "mail loop suspected"); n != 1 {
		t.Errorf("loop logged %d times, want once:\n%s", n, out)
	}
	if strings.Contains(out, robot) {
		t.Errorf("the log holds the sender's address:\n%s", out)
	}

	now.Add(int64(loopWindow / time.Second))
	if err := s.Deliver(emailtest.Message(robot, "We received your request", "robot-next-hour@oldsystem", "Your request #9 has been received.")); err != nil {
		t.Fatal(err)
	}
	st.WaitFor(t, 5, 10*time.Second)
}
