package flows

import (
	"fmt"
	"slices"
	"testing"
	"time"
	"unicode/utf8"
)

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"", "  你好 ", "／ｓｔａｔｕｓ", "\xff\xfe", "e\u0301", "a\u200b\u0301", "👨\u200d👩", "冰箱坏了，怎么办？……", "\r\n\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		if !utf8.ValidString(n) {
			t.Fatalf("Normalize(%q) = %q: invalid UTF-8", s, n)
		}
		if again := Normalize(n); again != n {
			t.Fatalf("not idempotent: Normalize(%q) = %q, again %q", s, n, again)
		}
	})
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"/lang en", "/start@bot", "/", "/ x", "hello", "/link K7P2QX", "/a\nb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, args, ok := ParseCommand(s)
		if !ok {
			return
		}
		// Round trip: the parsed command, written back, parses to the same.
		text := "/" + name
		if args != "" {
			text += " " + args
		}
		n2, a2, ok2 := ParseCommand(text)
		if !ok2 || n2 != name || a2 != args {
			t.Fatalf("ParseCommand(%q) = %q %q; round trip %q gives %q %q %v", s, name, args, text, n2, a2, ok2)
		}
	})
}

// FuzzStep: any input in any state ends in a known state, without an error or panic, and every
// button offered carries the new Seq.
func FuzzStep(f *testing.F) {
	m := newTestMachine(f)
	states := States()
	f.Add(0, "你好", "", "", false, 0)
	f.Add(3, "", "7:yes", "", false, 0)
	f.Add(5, "/lang en", "", "", false, 1)
	f.Add(10, "人工", "", "", true, 2)
	f.Add(11, "", "", "ticket_resolved", false, 0)
	f.Add(13, "5", "7:rate:5", "", false, 0)
	f.Add(7, "202611230001234", "7:noorder", "ticket_closed", false, 1)
	f.Fuzz(func(t *testing.T, state int, text, button, signal string, media bool, variant int) {
		s := Session{State: states[((state%len(states))+len(states))%len(states)], Lang: []string{"zh-CN", "en", "fr", ""}[((variant%4)+4)%4], Seq: 7,
			TicketNo: "GD20261123001", Candidates: []string{"install-ac", "warranty"}, LastFAQ: "warranty",
			Intake: Intake{Category: []string{"", "order", "complaint", "nope"}[((variant/4%4)+4)%4], Description: text}}
		in := Input{Text: text, Button: button, Signal: Signal(signal), Media: media}
		if variant%3 == 0 {
			in.Command, in.Args = text, button
		}
		watchdog := time.AfterFunc(3*time.Second, func() { panic(fmt.Sprintf("HANG %+v %+v", s, in)) })
		next, effects, err := m.Step(s, in)
		watchdog.Stop()
		if err != nil {
			t.Fatalf("Step(%+v, %+v): %v", s, in, err)
		}
		if !slices.Contains(states, next.State) {
			t.Fatalf("unknown state %q", next.State)
		}
		if next.Lang != "zh-CN" && next.Lang != "en" {
			t.Fatalf("lang %q", next.Lang)
		}
		for _, e := range effects {
			if e == nil {
				t.Fatal("nil effect")
			}
			if say, ok := e.(Say); ok {
				for _, c := range say.Choices {
					if seq, _, _, ok := ParsePayload(c.Payload); !ok || seq != next.Seq {
						t.Fatalf("payload %q, seq %d", c.Payload, next.Seq)
					}
				}
			}
		}
		if next.Seq < s.Seq {
			t.Fatalf("seq went back: %d -> %d", s.Seq, next.Seq)
		}
	})
}
