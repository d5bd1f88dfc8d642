package flows

import (
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kefu-dev/kefu/kb"
)

// countingKB is testKB counting its lookups.
type countingKB struct {
	fakeKB
	n atomic.Int32
}

func (c *countingKB) Match(q, lang string, k int) []kb.Hit {
	c.n.Add(1)
	return c.fakeKB.Match(q, lang, k)
}

// TestPrematchSavesTheLookupAndChangesNothing: a question looked up before the step (Prematch, as
// the engine does outside the message's transaction) is not looked up again, and the step's result
// is the same as without it; a lookup for another text or language is not used; states and texts
// that never reach the FAQ library are not looked up ahead at all.
func TestPrematchSavesTheLookupAndChangesNothing(t *testing.T) {
	ckb := &countingKB{fakeKB: testKB}
	m, err := New(Options{KB: ckb, Config: DefaultConfig()})
	if err != nil {
		t.Fatal(err)
	}
	idle := func(lang string) Session { s := NewSession(lang); s.State = StateIdle; return s }
	answered := func(lang string) Session { s := idle(lang); s.State, s.LastFAQ = StateAnswered, "warranty"; return s }
	for _, tc := range []struct {
		name      string
		s         Session
		text      string
		preLang   string // the language the lookup ahead is made in
		preText   string // "" = the message's text
		wantAhead bool   // Prematch looks up
		wantCalls int32  // lookups in all (ahead and in the step)
	}{
		{"idle zh", idle("zh-CN"), "保修多久", "zh-CN", "", true, 1},
		{"idle en", idle("en"), "how long is the warranty", "en", "", true, 1},
		{"suggestions", idle("zh-CN"), "怎么安装", "zh-CN", "", true, 1},
		{"no answer", idle("zh-CN"), "发票怎么开", "zh-CN", "", true, 1},
		{"answered, new question", answered("en"), "install fee?", "en", "", true, 1},
		{"other language", idle("en"), "how long is the warranty", "zh-CN", "", true, 2},
		{"other text", idle("zh-CN"), "保修多久", "zh-CN", "怎么安装", true, 2},
		{"yes to did it help", answered("zh-CN"), "是的", "zh-CN", "", false, 0},
		{"greeting", idle("zh-CN"), "你好", "zh-CN", "", false, 0},
		{"ticket description", func() Session { s := idle("zh-CN"); s.State = StateAskDescription; return s }(), "冰箱不制冷", "zh-CN", "", false, 0},
		{"command", idle("zh-CN"), "/status", "zh-CN", "", false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := Input{Text: tc.text}
			ckb.n.Store(0)
			want, wantFx, err := m.Step(tc.s, in)
			if err != nil {
				t.Fatal(err)
			}
			plain := ckb.n.Load()
			ckb.n.Store(0)
			ahead := in
			if tc.preText != "" {
				ahead.Text = tc.preText
			}
			p := m.Prematch(tc.s.State, tc.preLang, ahead)
			if (p != nil) != tc.wantAhead {
				t.Fatalf("Prematch = %v, want a lookup: %v", p, tc.wantAhead)
			}
			in.Matched = p
			got, gotFx, err := m.Step(tc.s, in)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, got, cmp.AllowUnexported(Session{})); d != "" {
				t.Errorf("session differs with the lookup ahead (-without +with):\n%s", d)
			}
			if d := cmp.Diff(wantFx, gotFx); d != "" {
				t.Errorf("effects differ with the lookup ahead (-without +with):\n%s", d)
			}
			if n := ckb.n.Load(); n != tc.wantCalls {
				t.Errorf("%d lookups with the lookup ahead, want %d (%d without)", n, tc.wantCalls, plain)
			}
		})
	}
}
