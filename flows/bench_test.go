package flows

import (
	"strconv"
	"testing"
)

// BenchmarkStepJourney runs a whole clarification journey (question, type, description, order,
// urgency, confirm) per iteration.
func BenchmarkStepJourney(b *testing.B) {
	m := newTestMachine(b)
	for b.Loop() {
		s := Session{State: StateIdle, Lang: "zh-CN"}
		for _, in := range []Input{{Text: "我的快递到哪了"}, {Button: "type:order"}, {Text: longZh}, {Text: "202611230001234"}, {Button: "urg:normal"}, {Button: "ok"}} {
			if in.Button != "" {
				in.Button = strconv.Itoa(s.Seq) + ":" + in.Button
			}
			var err error
			if s, _, err = m.Step(s, in); err != nil {
				b.Fatal(err)
			}
		}
		if s.State != StateTicketOpen {
			b.Fatalf("state %s", s.State)
		}
	}
}
