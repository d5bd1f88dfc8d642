package slack

import (
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    Command
		wantErr string // ParseError key
	}{
		{"", Command{Verb: "help"}, ""},
		{"help", Command{Verb: "help"}, ""},
		{"HELP", Command{Verb: "help"}, ""},
		{"list", Command{Verb: "list", Arg: "open"}, ""},
		{"list mine", Command{Verb: "list", Arg: "mine"}, ""},
		{"list Overdue", Command{Verb: "list", Arg: "overdue"}, ""},
		{"list unassigned", Command{Verb: "list", Arg: "unassigned"}, ""},
		{"list everything", Command{}, "slack.usage.list"},
		{"show gd20261123001", Command{Verb: "show", Ticket: "GD20261123001"}, ""},
		{"show", Command{}, "slack.usage.show"},
		{"show 123", Command{}, "slack.usage.show"},
		{"claim GD20261123001", Command{Verb: "claim", Ticket: "GD20261123001"}, ""},
		{"claim GD20261123001 now", Command{}, "slack.usage.claim"},
		{"reply GD20261123001 您好，已为您处理  请查收", Command{Verb: "reply", Ticket: "GD20261123001", Text: "您好，已为您处理  请查收"}, ""},
		{"reply\u3000GD20261123001\u3000好的", Command{Verb: "reply", Ticket: "GD20261123001", Text: "好的"}, ""},
		{"reply GD20261123001", Command{}, "slack.usage.reply"},
		{"note GD20261123001 VIP 客户", Command{Verb: "note", Ticket: "GD20261123001", Text: "VIP 客户"}, ""},
		{"escalate GD20261123001 客户要求赔偿", Command{Verb: "escalate", Ticket: "GD20261123001", Text: "客户要求赔偿"}, ""},
		{"escalate GD20261123001", Command{}, "slack.usage.escalate"},
		{"status GD20261123001 pending", Command{Verb: "status", Ticket: "GD20261123001", Arg: "pending"}, ""},
		{"status GD20261123001 RESOLVED", Command{Verb: "status", Ticket: "GD20261123001", Arg: "resolved"}, ""},
		{"status GD20261123001 open", Command{}, "slack.usage.status"},
		{"status GD20261123001 closed now", Command{}, "slack.usage.status"},
		{"priority GD20261123001 p0", Command{Verb: "priority", Ticket: "GD20261123001", Arg: "P0"}, ""},
		{"priority GD20261123001 P3", Command{}, "slack.usage.priority"},
		{"assign GD20261123001 <@U024BE7LH|bob>", Command{Verb: "assign", Ticket: "GD20261123001", Arg: "U024BE7LH"}, ""},
		{"assign GD20261123001 <@U024BE7LH>", Command{Verb: "assign", Ticket: "GD20261123001", Arg: "U024BE7LH"}, ""},
		{"assign GD20261123001 U024BE7LH", Command{Verb: "assign", Ticket: "GD20261123001", Arg: "U024BE7LH"}, ""},
		{"assign GD20261123001 @bob", Command{}, "slack.usage.assign"},
		{"faq search 退款 多久", Command{Verb: "faq", Arg: "search", Text: "退款 多久"}, ""},
		{"faq add 退款多久到账？ | 1-3 个工作日", Command{Verb: "faq", Arg: "add", Text: "退款多久到账？ | 1-3 个工作日"}, ""},
		{"faq add 没有答案", Command{}, "slack.usage.faq"},
		{"faq add | only answer", Command{}, "slack.usage.faq"},
		{"faq edit refund-1 3 个工作日", Command{Verb: "faq", Arg: "edit", FAQID: "refund-1", Text: "3 个工作日"}, ""},
		{"faq edit refund-1", Command{}, "slack.usage.faq"},
		{"faq", Command{}, "slack.usage.faq"},
		{"report", Command{Verb: "report", Arg: "today"}, ""},
		{"report week", Command{Verb: "report", Arg: "week"}, ""},
		{"report year", Command{}, "slack.usage.report"},
		{"dance", Command{}, "slack.usage.unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.wantErr != "" {
				var pe *ParseError
				if !errors.As(err, &pe) || pe.Key != tt.wantErr {
					t.Fatalf("Parse(%q) error %v, want %s", tt.in, err, tt.wantErr)
				}
				if !errors.Is(err, ErrSyntax) {
					t.Errorf("error does not match ErrSyntax")
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// FuzzParse: Parse never panics, errors are ParseErrors, and a parsed command round-trips through String.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "help", "list mine", "show GD20261123001", "reply GD20261123001 你好 世界",
		"status gd20261123001 closed", "priority GD1234 p0", "assign GD1234 <@U1234|x>", "faq add a | b | c",
		"faq edit x.y answer", "report month", "note GD123 //x", "reply GD123 \t\n", "\xff\xfe", "faq search  |"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse(s)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q): non-ParseError %v", s, err)
			}
			return
		}
		for _, f := range []string{c.Verb, c.Ticket, c.Arg, c.Text, c.FAQID} {
			if !utf8.ValidString(f) {
				t.Fatalf("Parse(%q) gave invalid UTF-8 %q", s, f)
			}
		}
		again, err := Parse(c.String())
		if err != nil {
			t.Fatalf("Parse(%q) = %+v; String %q does not parse: %v", s, c, c.String(), err)
		}
		if diff := cmp.Diff(c, again); diff != "" {
			t.Fatalf("round trip of %q via %q (-first +second):\n%s", s, c.String(), diff)
		}
	})
}
