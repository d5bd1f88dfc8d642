package flows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

var shanghai = time.FixedZone("CST", 8*3600)

// now of the parser tests: Monday 2026-11-23 10:00 in Shanghai.
var parseNow = time.Date(2026, 11, 23, 10, 0, 0, 0, shanghai)

func at(mo, d, h, mi int) time.Time { return time.Date(2026, time.Month(mo), d, h, mi, 0, 0, shanghai) }

func TestParseExpected(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		err  error
	}{
		// spans
		{"3天内", parseNow.Add(72 * time.Hour), nil},
		{"三天之内", parseNow.Add(72 * time.Hour), nil},
		{"5个小时内", parseNow.Add(5 * time.Hour), nil},
		{"两周内", parseNow.Add(14 * 24 * time.Hour), nil},
		{"within 3 days", parseNow.Add(72 * time.Hour), nil},
		{"in 5 hours", parseNow.Add(5 * time.Hour), nil},
		{"within a week", parseNow.Add(7 * 24 * time.Hour), nil},
		{"2 days", parseNow.Add(48 * time.Hour), nil},
		// days and parts of the day
		{"明天下午", at(11, 24, 18, 0), nil},
		{"明天上午", at(11, 24, 12, 0), nil},
		{"明天", at(11, 24, 18, 0), nil},
		{"后天晚上", at(11, 25, 22, 0), nil},
		{"今晚", at(11, 23, 22, 0), nil},
		{"今天下午3点前", at(11, 23, 15, 0), nil},
		{"明天下午3点半", at(11, 24, 15, 30), nil},
		{"明天15:20", at(11, 24, 15, 20), nil},
		{"tomorrow afternoon", at(11, 24, 18, 0), nil},
		{"by tomorrow 3pm", at(11, 24, 15, 0), nil},
		{"tomorrow at 9:30am", at(11, 24, 9, 30), nil},
		{"today at 4pm", at(11, 23, 16, 0), nil},
		{"tonight", at(11, 23, 22, 0), nil},
		{"the day after tomorrow", at(11, 25, 18, 0), nil},
		{"end of day", at(11, 23, 18, 0), nil},
		// weekdays and weeks
		{"周五", at(11, 27, 18, 0), nil},
		{"本周五之前", at(11, 27, 18, 0), nil},
		{"星期三上午", at(11, 25, 12, 0), nil},
		{"下周一", at(11, 30, 18, 0), nil},
		{"by Friday", at(11, 27, 18, 0), nil},
		{"next monday morning", at(11, 30, 12, 0), nil},
		{"本周内", at(11, 29, 18, 0), nil},
		{"next week", at(12, 6, 18, 0), nil},
		// dates
		{"11月30日", at(11, 30, 18, 0), nil},
		{"12月1号上午10点", at(12, 1, 10, 0), nil},
		{"2026-12-05", at(12, 5, 18, 0), nil},
		{"2026/12/05 14:00", at(12, 5, 14, 0), nil},
		{"12/5", at(12, 5, 18, 0), nil},
		{"Nov 30", at(11, 30, 18, 0), nil},
		{"by 30 November", at(11, 30, 18, 0), nil},
		{"December 1st 9am", at(12, 1, 9, 0), nil},
		// past
		{"今天早上8点", time.Time{}, ErrExpectedPast},
		{"11月20日", time.Time{}, ErrExpectedPast},
		{"today at 8am", time.Time{}, ErrExpectedPast},
		// outside the grammar
		{"尽快吧随便", time.Time{}, ErrExpectedBad},
		{"asap", time.Time{}, ErrExpectedBad},
		{"明天后天", time.Time{}, ErrExpectedBad},
		{"2月30日", time.Time{}, ErrExpectedBad},
		{"13月1日", time.Time{}, ErrExpectedBad},
		{"25点", time.Time{}, ErrExpectedBad},
		{"when you can", time.Time{}, ErrExpectedBad},
		{"", time.Time{}, ErrExpectedBad},
		{"2000 days", time.Time{}, ErrExpectedBad},
		{"2028-01-01", time.Time{}, ErrExpectedBad},
		{"一", time.Time{}, ErrExpectedBad},
	}
	for _, tc := range tests {
		got, err := ParseExpected(tc.in, parseNow)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("%q: %v %v, want %v", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("%q: %v %v, want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestParsePhoneEmailName(t *testing.T) {
	tests := []struct {
		field, in, want string // want "" = refused
	}{
		{FieldPhone, "13812345678", "13812345678"},
		{FieldPhone, "138-1234-5678", "13812345678"},
		{FieldPhone, "+86 138 1234 5678", "13812345678"},
		{FieldPhone, "008613812345678", "13812345678"},
		{FieldPhone, "+44 7911 123456", "+447911123456"},
		{FieldPhone, "0044 (7911) 123456", "+447911123456"},
		{FieldPhone, "+1 415 555 0100", "+14155550100"},
		{FieldPhone, "12812345678", ""},       // no mainland mobile starts with 12
		{FieldPhone, "1381234567", ""},        // ten digits
		{FieldPhone, "138123456789", ""},      // twelve
		{FieldPhone, "+86 1234567", ""},       // +86 is mainland: must be a mobile
		{FieldPhone, "+0 123456789", ""},      // no country code 0
		{FieldPhone, "+1234567890123456", ""}, // over 15 digits
		{FieldPhone, "138abc45678", ""},
		{FieldPhone, "我的电话", ""},
		{FieldPhone, "", ""},
		{FieldEmail, "Wang@Example.COM", "wang@example.com"},
		{FieldEmail, "li.si+kefu@mail.example.cn", "li.si+kefu@mail.example.cn"},
		{FieldEmail, "wang@example", ""},
		{FieldEmail, "wang at example.com", ""},
		{FieldEmail, "Wang <wang@example.com>", ""},
		{FieldEmail, "@example.com", ""},
		{FieldEmail, "wang@@example.com", ""},
		{FieldEmail, "wang@example..com", ""},
		{FieldEmail, "wang@.example.com", ""},
		{FieldName, "张三", "张三"},
		{FieldName, "我叫李四", "李四"},
		{FieldName, "My name is John Smith.", "John Smith"},
		{FieldName, "王女士", "王女士"},
		{FieldName, "13812345678", ""},
		{FieldName, "!!!", ""},
		{FieldName, "张三三三三三三三三三三三三三三三三三三三三三三三三三三三三三三三三三三三三三三三三三", ""},
	}
	for _, tc := range tests {
		got, err := ParseField(tc.field, tc.in, parseNow)
		if tc.want == "" {
			var fe *FieldError
			if err == nil || !errors.As(err, &fe) || fe.Key != "intake.bad."+tc.field || !errors.Is(err, ErrBadField) {
				t.Errorf("%s %q: accepted as %q (%v)", tc.field, tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s %q: %q %v, want %q", tc.field, tc.in, got, err, tc.want)
		}
	}
	if _, err := ParseField(FieldExpected, "今天早上8点", parseNow); err == nil || err.(*FieldError).Key != "intake.bad.expected_past" {
		t.Errorf("a past time: %v, want intake.bad.expected_past", err)
	}
}

// fieldsConfig: phone required for complaints, optional elsewhere; e-mail optional for after-sales
// only; name optional everywhere; the expected time optional for complaints and after-sales.
func fieldsConfig() Config {
	c := DefaultConfig()
	c.Fields = IntakeFields{
		Name:         FieldRule{Mode: FieldOptional},
		Phone:        FieldRule{Mode: FieldOptional, Categories: map[string]string{"complaint": FieldRequired}},
		Email:        FieldRule{Mode: FieldOff, Categories: map[string]string{"aftersale": FieldOptional}},
		ExpectedTime: FieldRule{Mode: FieldOff, Categories: map[string]string{"complaint": FieldOptional, "aftersale": FieldRequired}},
	}
	return c
}

func TestPendingFields(t *testing.T) {
	m, err := New(Options{KB: testKB, Config: fieldsConfig()})
	if err != nil {
		t.Fatal(err)
	}
	type req = FieldRequest
	tests := []struct {
		name     string
		category string
		p        Profile
		in       Intake
		want     []FieldRequest
	}{
		{"complaint, nothing known", "complaint", Profile{}, Intake{},
			[]req{{FieldName, false}, {FieldPhone, true}, {FieldExpected, false}}},
		{"aftersale, nothing known", "aftersale", Profile{}, Intake{},
			[]req{{FieldName, false}, {FieldPhone, false}, {FieldEmail, false}, {FieldExpected, true}}},
		{"uncategorized uses the default modes", "", Profile{}, Intake{}, []req{{FieldName, false}, {FieldPhone, false}}},
		{"tech: the default modes", "tech", Profile{}, Intake{}, []req{{FieldName, false}, {FieldPhone, false}}},
		{"remembered values are not asked again", "aftersale", Profile{Name: "张三", Phone: "13812345678", Email: "a@b.cn"}, Intake{},
			[]req{{FieldExpected, true}}},
		{"an optional field skipped earlier is not asked again", "tech", Profile{Asked: []string{FieldName, FieldPhone}}, Intake{}, nil},
		{"a required field skipped earlier is asked", "complaint", Profile{Asked: []string{FieldName, FieldPhone}}, Intake{},
			[]req{{FieldPhone, true}, {FieldExpected, false}}},
		{"the expected time is asked for every ticket", "complaint", Profile{Name: "x", Phone: "13812345678", Asked: []string{FieldExpected}}, Intake{},
			[]req{{FieldExpected, false}}},
		{"answered or skipped in this intake", "complaint", Profile{}, Intake{Name: "x", Asked: []string{FieldName, FieldExpected}},
			[]req{{FieldPhone, true}}},
	}
	for _, tc := range tests {
		got := m.PendingFields(tc.category, tc.p, tc.in)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	if len(newTestMachine(t).PendingFields("complaint", Profile{}, Intake{})) != 0 {
		t.Error("the default configuration asks intake fields")
	}
}

func TestFieldsConfigValidation(t *testing.T) {
	c := DefaultConfig()
	c.Fields.Phone = FieldRule{Mode: "sometimes", Categories: map[string]string{"nosuch": FieldRequired, "tech": "always"}}
	_, err := New(Options{Config: c})
	if err == nil {
		t.Fatal("bad field modes accepted")
	}
	for _, want := range []string{`fields.phone.mode "sometimes"`, `unknown category "nosuch"`, `fields.phone.categories.tech "always"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

// TestAskFieldSteps: one intake-field question and its answers, in both languages.
func TestAskFieldSteps(t *testing.T) {
	m, err := New(Options{KB: testKB, Config: fieldsConfig()})
	if err != nil {
		t.Fatal(err)
	}
	desc := "安装师傅迟到了三个小时，态度很差，还多收了两百块钱安装费"
	at := func(field string, in Intake, asked int) Session {
		in.Category, in.Complaint, in.Urgency = "complaint", true, UrgencyNormal
		if in.Description == "" {
			in.Description = desc
		}
		return Session{State: StateAskField, Field: field, Seq: 4, Intake: in, Asked: asked}
	}
	keys := func(effects []Effect) []string {
		var out []string
		for _, e := range effects {
			switch e := e.(type) {
			case Say:
				out = append(out, e.Key)
			default:
				out = append(out, fmt.Sprintf("%T", e))
			}
		}
		return out
	}
	tests := []struct {
		name      string
		s         Session
		text      string
		button    string
		profile   *Profile
		wantState State
		wantField string
		want      []string
		check     func(t *testing.T, s Session, effects []Effect)
	}{
		{name: "optional skipped by button", s: at(FieldName, Intake{}, 0), button: "skip", wantState: StateAskField, wantField: FieldPhone,
			want: []string{"intake.skipped", "intake.ask.phone"}, check: func(t *testing.T, s Session, _ []Effect) {
				if !slices.Equal(s.Intake.Asked, []string{FieldName}) || s.Intake.Name != "" {
					t.Errorf("intake %+v", s.Intake)
				}
			}},
		{name: "a required field has no skip button", s: at(FieldPhone, Intake{}, 0), button: "skip", wantState: StateAskField, wantField: FieldPhone,
			want: []string{"error.stale_button", "intake.ask.phone"}},
		{name: "a required field refuses a skip word", s: at(FieldPhone, Intake{}, 0), text: "跳过", wantState: StateAskField, wantField: FieldPhone,
			want: []string{"intake.required", "intake.ask.phone"}},
		{name: "a bad phone number is explained and asked again", s: at(FieldPhone, Intake{}, 0), text: "12345", wantState: StateAskField, wantField: FieldPhone,
			want: []string{"intake.bad.phone", "intake.ask.phone"}, check: func(t *testing.T, s Session, effects []Effect) {
				if s.Asked != 1 || s.Intake.Phone != "" || s.Intake.Description != desc {
					t.Errorf("session %+v", s)
				}
				if in := effects[0].(Say).Args["input"]; in != "12345" {
					t.Errorf("input arg %v", in)
				}
			}},
		{name: "more description at the phone question is kept", s: at(FieldPhone, Intake{}, 0), text: "另外师傅把我家地板也刮花了，希望一并处理赔偿",
			wantState: StateAskField, wantField: FieldPhone, want: []string{"intake.bad.phone", "intake.ask.phone"}, check: func(t *testing.T, s Session, _ []Effect) {
				if !strings.Contains(s.Intake.Description, "地板也刮花了") || !strings.HasPrefix(s.Intake.Description, desc) {
					t.Errorf("description %q", s.Intake.Description)
				}
			}},
		{name: "a valid phone goes on to the expected time", s: at(FieldPhone, Intake{Asked: []string{FieldName}}, 1), text: "+86 138 1234 5678",
			wantState: StateAskField, wantField: FieldExpected, want: []string{"intake.ask.expected_time"}, check: func(t *testing.T, s Session, _ []Effect) {
				if s.Intake.Phone != "13812345678" || s.Asked != 0 {
					t.Errorf("session %+v", s)
				}
			}},
		{name: "the last field goes on to the restatement", s: at(FieldExpected, Intake{Phone: "13812345678", Asked: []string{FieldName, FieldPhone}}, 0), text: "3天内",
			wantState: StateConfirm, want: []string{"clarify.confirm"}, check: func(t *testing.T, s Session, _ []Effect) {
				if s.Intake.Expected != "2026-11-26T10:00:00Z" || s.Field != "" {
					t.Errorf("session %+v", s)
				}
			}},
		{name: "a past time is explained", s: at(FieldExpected, Intake{}, 0), text: "今天早上8点", wantState: StateAskField, wantField: FieldExpected,
			want: []string{"intake.bad.expected_past", "intake.ask.expected_time"}},
		{name: "an optional field is skipped after the re-asks", s: at(FieldExpected, Intake{Phone: "13812345678", Asked: []string{FieldName, FieldPhone}}, 2), text: "whenever you like", wantState: StateConfirm,
			want: []string{"intake.skipped", "clarify.confirm"}},
		{name: "a required field keeps asking", s: at(FieldPhone, Intake{}, 5), text: "abc", wantState: StateAskField, wantField: FieldPhone,
			want: []string{"intake.bad.phone", "intake.required", "intake.ask.phone"}},
		{name: "an acknowledgement asks again", s: at(FieldEmail, Intake{}, 0), text: "好的", wantState: StateAskField, wantField: FieldEmail,
			want: []string{"ack.ok", "intake.ask.email"}},
		{name: "a remembered phone is not asked", s: at(FieldName, Intake{}, 0), text: "王小明", profile: &Profile{Phone: "13812345678"},
			wantState: StateAskField, wantField: FieldExpected, want: []string{"intake.ask.expected_time"}},
		{name: "转人工 opens the ticket with what is known", s: at(FieldPhone, Intake{Name: "王小明", Asked: []string{FieldName}}, 0), text: "转人工",
			wantState: StateTicketOpen, want: []string{"human.transfer", "flows.OpenTicket"}, check: func(t *testing.T, _ Session, effects []Effect) {
				if in := effects[1].(OpenTicket).Intake; in.Name != "王小明" || in.Description != desc || !in.Human {
					t.Errorf("opened %+v", in)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := Input{Text: tc.text, At: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), Profile: tc.profile}
			if tc.button != "" {
				in.Button = "4:" + tc.button
			}
			next, effects, err := m.Step(tc.s, in)
			if err != nil {
				t.Fatal(err)
			}
			if next.State != tc.wantState || next.State == StateAskField && next.Field != tc.wantField {
				t.Errorf("state %s field %q, want %s %q", next.State, next.Field, tc.wantState, tc.wantField)
			}
			if got := keys(effects); !slices.Equal(got, tc.want) {
				t.Errorf("effects %v, want %v", got, tc.want)
			}
			if tc.check != nil {
				tc.check(t, next, effects)
			}
		})
	}
}
