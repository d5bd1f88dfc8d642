package flows

import (
	"sync/atomic"
	"testing"

	"github.com/kefu-dev/kefu/kb"
)

// countingKB counts lookups.
type countingKB struct {
	fakeKB
	n atomic.Int32
}

func (c *countingKB) Match(q, lang string, k int) []kb.Hit {
	c.n.Add(1)
	return c.fakeKB.Match(q, lang, k)
}

func TestPrematch(t *testing.T) {
	ck := &countingKB{fakeKB: testKB}
	m, err := New(Options{KB: ck, Config: DefaultConfig()})
	if err != nil {
		t.Fatal(err)
	}
	idle := Session{State: StateIdle, Lang: "zh-CN"}
	for _, tc := range []struct {
		name    string
		in      Input
		preLang string
		nilPre  bool
		lookups int32 // during Step, after Prematch
	}{
		{name: "same text and language: no second lookup", in: Input{Text: "保修多久"}, preLang: "zh-CN", lookups: 0},
		{name: "another language: looked up again in the session's", in: Input{Text: "保修多久"}, preLang: "en", lookups: 1},
		{name: "a command is not prematched", in: Input{Text: "/help"}, preLang: "zh-CN", nilPre: true},
		{name: "a button is not prematched", in: Input{Button: "1:yes"}, preLang: "zh-CN", nilPre: true},
		{name: "blank text is not prematched", in: Input{Text: "   "}, preLang: "zh-CN", nilPre: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ck.n.Store(0)
			pre := m.Prematch(tc.in, tc.preLang)
			if (pre == nil) != tc.nilPre {
				t.Fatalf("Prematch = %v, want nil %v", pre, tc.nilPre)
			}
			if pre == nil {
				return
			}
			if got := ck.n.Load(); got != 1 {
				t.Fatalf("Prematch made %d lookups, want 1", got)
			}
			ck.n.Store(0)
			want, wantFx, _ := m.Step(idle, tc.in) // without the prematch
			ck.n.Store(0)
			in := tc.in
			in.Prematched = pre
			got, fx, err := m.Step(idle, in)
			if err != nil {
				t.Fatal(err)
			}
			if n := ck.n.Load(); n != tc.lookups {
				t.Errorf("Step made %d lookups, want %d", n, tc.lookups)
			}
			if got.State != want.State || got.LastFAQ != want.LastFAQ || len(fx) != len(wantFx) {
				t.Errorf("with prematch: %s %q %d effects; without: %s %q %d", got.State, got.LastFAQ, len(fx), want.State, want.LastFAQ, len(wantFx))
			}
		})
	}
	if got := (Session{State: StateAnswered, Lang: "zh-CN"}); !MayAsk(got.State) {
		t.Error("MayAsk(answered) = false")
	}
	for _, st := range []State{StateTicketOpen, StateRating, StateAskDescription} {
		if MayAsk(st) {
			t.Errorf("MayAsk(%s) = true", st)
		}
	}
}
