package flows

import (
	"strconv"
	"strings"
	"testing"

	"github.com/kefu-dev/kefu/locales"
)

// Thanks and small talk never start the ticket form: in states without a yes/no question they get a
// short acknowledgement and the state is kept; where a yes/no question is open they answer it.
func TestThanksInAnyState(t *testing.T) {
	m := newTestMachine(t)
	words := []string{"谢谢", "好的", "嗯", "ok", "👍", "Thanks!", "好的！", "收到", "👍🏻", "thank you"}
	tests := []struct {
		s        Session
		wantKey  string // first Say
		wantSame bool   // state kept
	}{
		{s: st(StateIdle), wantKey: "ack.thanks", wantSame: true},
		{s: withIntake(StateAskType, Intake{Description: "x"}), wantKey: "ack.ok", wantSame: true},
		{s: withIntake(StateAskDescription, Intake{Category: "tech"}), wantKey: "ack.ok", wantSame: true},
		{s: withIntake(StateAskUrgency, Intake{Category: "tech", Description: longZh}), wantKey: "ack.ok", wantSame: true},
		{s: withTicket(StateTicketOpen), wantKey: "ack.ticket_open", wantSame: true},
		{s: withTicket(StateReopenReason), wantKey: "ack.ok", wantSame: true},
		{s: withTicket(StateRating), wantKey: "ack.ok", wantSame: true},
		{s: withTicket(StateComment), wantKey: "survey.thanks"},
	}
	for _, tt := range tests {
		for _, w := range words {
			t.Run(string(tt.s.State)+"/"+w, func(t *testing.T) {
				next, effs, err := m.Step(tt.s, Input{Text: w})
				if err != nil {
					t.Fatal(err)
				}
				if tt.wantSame && next.State != tt.s.State {
					t.Errorf("state %s -> %s, want kept", tt.s.State, next.State)
				}
				for _, e := range effs {
					switch e.(type) {
					case OpenTicket, AddToTicket, Unanswered, Comment, Reopen:
						t.Errorf("effect %T for an acknowledgement", e)
					}
				}
				if len(effs) == 0 {
					t.Fatal("no answer")
				}
				if say, ok := effs[0].(Say); !ok || say.Key != tt.wantKey {
					t.Errorf("first effect %+v, want Say %s", effs[0], tt.wantKey)
				}
			})
		}
	}
	// A first message of thanks is greeted, not taken as a question.
	for _, w := range words {
		next, effs, err := m.Step(NewSession(""), Input{Text: w})
		if err != nil {
			t.Fatal(err)
		}
		if next.State != StateIdle || len(effs) == 0 {
			t.Errorf("%q as first message: state %s effects %v", w, next.State, effs)
		}
		for _, e := range effs {
			if say, ok := e.(Say); ok && (strings.HasPrefix(say.Key, "clarify.") || say.Key == "faq.no_answer") {
				t.Errorf("%q as first message: %s", w, say.Key)
			}
		}
	}
	// Where a yes/no question is open, an acknowledgement answers yes.
	yes := []struct {
		s    Session
		want State
	}{
		{withTicket(StateConfirmSolved), StateRating},
		{func() Session {
			s := withIntake(StateConfirm, Intake{Category: "tech", Description: longZh, Urgency: UrgencyLow})
			return s
		}(), StateTicketOpen},
	}
	for _, y := range yes {
		for _, w := range []string{"好的", "👍", "收到"} {
			next, _, err := m.Step(y.s, Input{Text: w})
			if err != nil {
				t.Fatal(err)
			}
			if next.State != y.want {
				t.Errorf("%s + %q: state %s, want %s", y.s.State, w, next.State, y.want)
			}
		}
	}
}

// The urgency the customer picks and the priority label they are told name the same level, in both
// languages, whether picked by button, number or word.
func TestUrgencyAndPriorityLabelsAgree(t *testing.T) {
	m := newTestMachine(t)
	cat := locales.Default()
	level := func(lang, label string) string { // the level word before the parenthesis
		label = cat.T(lang, label, nil)
		if i := strings.IndexAny(label, "（("); i > 0 {
			label = label[:i]
		}
		return strings.TrimSpace(label)
	}
	answers := []struct {
		in   Input
		want string // urgency
	}{
		{Input{Button: "urg:urgent"}, UrgencyUrgent},
		{Input{Button: "urg:normal"}, UrgencyNormal},
		{Input{Button: "urg:low"}, UrgencyLow},
		{Input{Text: "1"}, UrgencyUrgent},
		{Input{Text: "2"}, UrgencyNormal},
		{Input{Text: "3"}, UrgencyLow},
		{Input{Text: "一般"}, UrgencyLow},
		{Input{Text: "重要"}, UrgencyNormal},
		{Input{Text: "紧急"}, UrgencyUrgent},
		{Input{Text: "normal"}, UrgencyLow},
		{Input{Text: "high"}, UrgencyNormal},
		{Input{Text: "urgent"}, UrgencyUrgent},
	}
	for _, lang := range []string{locales.ZhCN, locales.En} {
		for _, a := range answers {
			s := withIntake(StateAskUrgency, Intake{Category: "tech", Description: longZh})
			s.Lang = lang
			in := a.in
			if in.Button != "" {
				in.Button = strconv.Itoa(s.Seq) + ":" + in.Button
			}
			next, effs, err := m.Step(s, in)
			if err != nil {
				t.Fatal(err)
			}
			if next.Intake.Urgency != a.want {
				t.Errorf("%s %+v: urgency %q, want %q", lang, a.in, next.Intake.Urgency, a.want)
				continue
			}
			say := effs[len(effs)-1].(Say)
			chosen := level(lang, say.Args["urgency"].(string))
			told := level(lang, "priority."+next.Intake.Priority)
			if chosen != told || chosen != level(lang, "urgency."+a.want) {
				t.Errorf("%s %+v: confirm says %q, ticket says %q, picked %q", lang, a.in, chosen, told, level(lang, "urgency."+a.want))
			}
		}
	}
}

// The survey's thank-you depends on the score: 1–3 apologizes and promises a supervisor's follow-up.
func TestSurveyThanksDependsOnScore(t *testing.T) {
	m := newTestMachine(t)
	for score := 1; score <= 5; score++ {
		s := withTicket(StateComment)
		s.Rating = score
		_, effs, err := m.Step(s, Input{Text: "一般般吧"})
		if err != nil {
			t.Fatal(err)
		}
		want := "survey.thanks"
		if score <= 3 {
			want = "survey.thanks_low"
		}
		if len(effs) < 2 || effs[1].(Say).Key != want {
			t.Errorf("score %d: %v, want %s", score, effs, want)
		}
	}
	cat := locales.Default()
	for _, lang := range cat.Langs() {
		if strings.Contains(cat.T(lang, "survey.thanks_low", nil), cat.T(lang, "survey.thanks", nil)) {
			t.Errorf("%s: low-score thanks repeats the encouragement", lang)
		}
	}
}
