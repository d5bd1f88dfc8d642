package flows

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// sayK is a Say whose buttons are given as key=payload pairs (payloads without the seq prefix).
func sayK(key string, buttons ...string) Say {
	s := Say{Key: key}
	for _, b := range buttons {
		k, p, _ := strings.Cut(b, "=")
		s.Choices = append(s.Choices, Choice{Key: k, Payload: p})
	}
	return s
}

var (
	helped    = sayK("faq.helped?", "faq.yes=yes", "faq.no=no")
	askType   = sayK("clarify.ask_type", "category.product=type:product", "category.order=type:order", "category.aftersale=type:aftersale", "category.tech=type:tech", "category.complaint=type:complaint", "category.suggestion=type:suggestion")
	pickType  = sayK("clarify.pick_button", "category.product=type:product", "category.order=type:order", "category.aftersale=type:aftersale", "category.tech=type:tech", "category.complaint=type:complaint", "category.suggestion=type:suggestion")
	askOrder  = sayK("clarify.ask_order", "clarify.no_order=noorder")
	badOrder  = sayK("error.bad_order", "clarify.no_order=noorder")
	askUrg    = sayK("clarify.ask_urgency", "urgency.urgent=urg:urgent", "urgency.normal=urg:normal", "urgency.low=urg:low")
	confirm   = sayK("clarify.confirm", "clarify.confirm_yes=ok", "clarify.confirm_no=redo")
	anything  = sayK("anything.else", "anything.yes=more", "anything.no=done")
	solvedQ   = sayK("resolve.confirm", "resolve.yes=solved", "resolve.no=unsolved")
	askRating = Say{Key: "survey.ask", Choices: scoreChoices()}
	badRating = Say{Key: "survey.bad_score", Choices: scoreChoices()}
	askCommnt = sayK("survey.ask_comment", "btn.skip=skip")
	humanType = sayK("human.ask_type", "category.product=type:product", "category.order=type:order", "category.aftersale=type:aftersale", "category.tech=type:tech", "category.complaint=type:complaint", "category.suggestion=type:suggestion", "btn.skip=skip")
	langQ     = sayK("lang.choose", "lang.zh=lang:zh-CN", "lang.en=lang:en")
	suggest3  = Say{Key: "faq.suggest", Choices: []Choice{{Payload: "pick:install-ac"}, {Payload: "pick:install-fee"}, {Payload: "pick:install-wifi"}, {Key: "faq.none", Payload: "none"}}}
)

func scoreChoices() []Choice {
	var cs []Choice
	for n := 5; n >= 1; n-- {
		cs = append(cs, Choice{Key: "survey.score", Args: map[string]any{"n": n}, Payload: "rate:" + strconv.Itoa(n)})
	}
	return cs
}

const (
	longZh = "冰箱不制冷了，已经三天，食物都坏了，希望尽快上门维修"
	longEn = "The fridge stopped cooling three days ago, our food spoiled, please send a technician soon"
)

// bi is text in each language.
type bi struct{ zh, en string }

func (b bi) in(lang string) string {
	if lang == "en" {
		return b.en
	}
	return b.zh
}

func same(s string) bi { return bi{s, s} }

type pathTest struct {
	name      string
	s         Session // Lang is set per language
	text      bi      // typed text, or
	button    string  // a button action pressed on the session's current keyboard (seq added), or
	raw       string  // a raw button payload, or
	signal    Signal
	media     bool
	wantState State
	want      func(text string) []Effect // text is the input text in the run's language
	check     func(t *testing.T, s Session)
}

func effects(es ...Effect) func(string) []Effect { return func(string) []Effect { return es } }

func st(state State) Session { return Session{State: state, Seq: 7} }

func withIntake(state State, in Intake) Session {
	s := st(state)
	s.Intake = in
	return s
}

func withTicket(state State) Session {
	s := st(state)
	s.TicketNo = "GD20261123001"
	return s
}

var pathTests = []pathTest{
	// greeting
	{name: "new: greeting", s: Session{State: StateNew}, text: bi{"你好", "hello"}, wantState: StateIdle,
		want: effects(Say{Key: "greeting.hello"})},
	{name: "new: question after greeting", s: Session{State: StateNew}, text: bi{"保修期多久", "how long is the warranty"}, wantState: StateAnswered,
		want: func(text string) []Effect {
			return []Effect{Say{Key: "greeting.hello"}, AnswerFAQ{EntryID: "warranty", Query: text}, helped}
		}},
	{name: "idle: greeting again", s: st(StateIdle), text: bi{"您好！", "Hi!"}, wantState: StateIdle, want: effects(Say{Key: "greeting.back"})},
	// FAQ
	{name: "idle: confident answer", s: st(StateIdle), text: bi{"保修多久", "what is the warranty"}, wantState: StateAnswered,
		want: func(text string) []Effect { return []Effect{AnswerFAQ{EntryID: "warranty", Query: text}, helped} }, check: func(t *testing.T, s Session) {
			if s.LastFAQ != "warranty" {
				t.Errorf("LastFAQ = %q", s.LastFAQ)
			}
		}},
	{name: "idle: unsure offers top 3", s: st(StateIdle), text: bi{"安装问题", "install question"}, wantState: StateChoosing,
		want: effects(suggest3), check: func(t *testing.T, s Session) {
			if diff := cmp.Diff([]string{"install-ac", "install-fee", "install-wifi"}, s.Candidates); diff != "" {
				t.Errorf("Candidates: %s", diff)
			}
		}},
	{name: "idle: no match clarifies", s: st(StateIdle), text: bi{"洗衣机有异响", "washing machine noise"}, wantState: StateAskType,
		want: func(text string) []Effect {
			return []Effect{Unanswered{Text: text}, Say{Key: "faq.no_answer"}, askType}
		}},
	{name: "answered: yes", s: func() Session { s := st(StateAnswered); s.LastFAQ = "warranty"; return s }(), button: "yes", wantState: StateAnythingElse,
		want: effects(FAQFeedback{EntryID: "warranty", Helped: true}, anything)},
	{name: "answered: typed yes", s: func() Session { s := st(StateAnswered); s.LastFAQ = "warranty"; return s }(), text: bi{"解决了", "yes"}, wantState: StateAnythingElse,
		want: effects(FAQFeedback{EntryID: "warranty", Helped: true}, anything)},
	{name: "answered: no clarifies", s: func() Session { s := st(StateAnswered); s.LastFAQ = "warranty"; return s }(), button: "no", wantState: StateAskType,
		want: effects(FAQFeedback{EntryID: "warranty", Helped: false}, Say{Key: "faq.not_helped"}, askType)},
	{name: "answered: new question", s: func() Session { s := st(StateAnswered); s.LastFAQ = "warranty"; return s }(), text: bi{"安装问题", "install question"}, wantState: StateChoosing,
		want: effects(suggest3)},
	{name: "anything else: done closes", s: st(StateAnythingElse), button: "done", wantState: StateIdle, want: effects(Say{Key: "closing"})},
	{name: "anything else: typed no closes", s: st(StateAnythingElse), text: bi{"没有了，谢谢", "no thanks"}, wantState: StateIdle, want: effects(Say{Key: "closing"})},
	{name: "anything else: more", s: st(StateAnythingElse), button: "more", wantState: StateIdle, want: effects(Say{Key: "anything.ask"})},
	// A pick carries the customer's own question, not the button's label (kefu kb learn learns from it).
	{name: "choosing: pick", s: func() Session {
		s := withIntake(StateChoosing, Intake{FirstText: "装机要钱吗"})
		s.Candidates = []string{"install-ac", "install-fee"}
		return s
	}(), button: "pick:install-fee", wantState: StateAnswered,
		want: effects(AnswerFAQ{EntryID: "install-fee", Query: "装机要钱吗"}, helped)},
	{name: "choosing: typed number", s: func() Session { s := st(StateChoosing); s.Candidates = []string{"install-ac", "install-fee"}; return s }(), text: same("2"), wantState: StateAnswered,
		want: effects(AnswerFAQ{EntryID: "install-fee"}, helped)},
	{name: "choosing: none of these", s: func() Session {
		s := withIntake(StateChoosing, Intake{FirstText: "q"})
		s.Candidates = []string{"install-ac"}
		return s
	}(), button: "none", wantState: StateAskType, want: effects(Unanswered{Text: "q"}, Say{Key: "faq.no_answer"}, askType)},
	{name: "choosing: pick not offered is stale", s: func() Session { s := st(StateChoosing); s.Candidates = []string{"install-ac"}; return s }(), button: "pick:warranty", wantState: StateChoosing,
		want: effects(Say{Key: "error.stale_button"}, Say{Key: "faq.suggest", Choices: []Choice{{Payload: "pick:install-ac"}, {Key: "faq.none", Payload: "none"}}})},
	// clarification
	{name: "type: button, short description asked", s: withIntake(StateAskType, Intake{FirstText: "x", Description: "x"}), button: "type:tech", wantState: StateAskDescription,
		want: effects(Say{Key: "clarify.ask_description"})},
	{name: "type: typed name", s: withIntake(StateAskType, Intake{Description: "x"}), text: bi{"订单物流", "order"}, wantState: StateAskDescription,
		want: effects(Say{Key: "clarify.ask_description"}), check: intakeIs(Intake{Category: "order", Description: "x"})},
	{name: "type: typed number", s: withIntake(StateAskType, Intake{Description: "x"}), text: same("4"), wantState: StateAskDescription,
		want: effects(Say{Key: "clarify.ask_description"}), check: intakeIs(Intake{Category: "tech", Description: "x"})},
	{name: "type: not a type re-asks", s: withIntake(StateAskType, Intake{Description: "x"}), text: bi{"啊这", "hmm"}, wantState: StateAskType,
		want: effects(pickType), check: func(t *testing.T, s Session) {
			if s.Asked != 1 {
				t.Errorf("Asked = %d", s.Asked)
			}
		}},
	{name: "type: re-ask cap goes on unclassified", s: func() Session { s := withIntake(StateAskType, Intake{Description: "x"}); s.Asked = 2; return s }(), text: bi{"啊这", "hmm"},
		wantState: StateAskDescription, want: effects(Say{Key: "clarify.ask_description"})},
	{name: "type: complaint soothes", s: withIntake(StateAskType, Intake{Description: longZh}), button: "type:complaint", wantState: StateConfirm,
		want: effects(Say{Key: "complaint.soothe"}, confirm), check: func(t *testing.T, s Session) {
			if !s.Intake.Complaint || s.Intake.Priority != P1 || s.Intake.Urgency != UrgencyNormal {
				t.Errorf("intake %+v: want complaint P1", s.Intake)
			}
		}},
	{name: "description: too short asks 现象+影响+期望", s: withIntake(StateAskDescription, Intake{Category: "tech"}), text: bi{"坏了", "broken"}, wantState: StateAskDescription,
		want: effects(Say{Key: "clarify.more_detail"})},
	{name: "description: re-ask cap goes on", s: func() Session { s := withIntake(StateAskDescription, Intake{Category: "tech"}); s.Asked = 2; return s }(), text: bi{"坏了", "broken"},
		wantState: StateAskUrgency, want: effects(askUrg)},
	{name: "description: enough, order needed", s: withIntake(StateAskDescription, Intake{Category: "order"}), text: bi{longZh, longEn}, wantState: StateAskOrder,
		want: effects(askOrder)},
	{name: "description: order number found in it", s: withIntake(StateAskDescription, Intake{Category: "order"}), text: bi{longZh + " 订单 202611230001234", longEn + " order 202611230001234"},
		wantState: StateAskUrgency, want: effects(askUrg), check: func(t *testing.T, s Session) {
			if s.Intake.OrderNo != "202611230001234" {
				t.Errorf("OrderNo = %q", s.Intake.OrderNo)
			}
		}},
	{name: "description: urgency inferred", s: withIntake(StateAskDescription, Intake{Category: "tech"}), text: bi{"空调完全无法使用了，家里老人很热，请尽快处理", "The air conditioner is unusable and my parents are suffering in the heat"},
		wantState: StateConfirm, want: effects(confirm), check: func(t *testing.T, s Session) {
			if s.Intake.Urgency != UrgencyUrgent || s.Intake.Priority != P0 {
				t.Errorf("intake %+v: want urgent P0", s.Intake)
			}
		}},
	{name: "description: low urgency inferred", s: withIntake(StateAskDescription, Intake{Category: "product"}), text: bi{"想了解一下冰箱的能耗等级和噪音大小，不着急", "I'd like to know the energy rating and noise level of the fridge, no rush"},
		wantState: StateConfirm, want: effects(confirm), check: func(t *testing.T, s Session) {
			if s.Intake.Urgency != UrgencyLow || s.Intake.Priority != P2 {
				t.Errorf("intake %+v: want low P2", s.Intake)
			}
		}},
	{name: "order: bad number", s: withIntake(StateAskOrder, Intake{Category: "order", Description: longZh}), text: same("12345"), wantState: StateAskOrder, want: effects(badOrder)},
	{name: "order: good number", s: withIntake(StateAskOrder, Intake{Category: "order", Description: longZh}), text: bi{"订单号：202611230001234", "it's 202611230001234"}, wantState: StateAskUrgency, want: effects(askUrg)},
	{name: "order: full-width digits", s: withIntake(StateAskOrder, Intake{Category: "order", Description: longZh}), text: same("２０２６１１２３０００１２３４"), wantState: StateAskUrgency, want: effects(askUrg),
		check: func(t *testing.T, s Session) {
			if s.Intake.OrderNo != "202611230001234" {
				t.Errorf("OrderNo = %q", s.Intake.OrderNo)
			}
		}},
	{name: "order: none button", s: withIntake(StateAskOrder, Intake{Category: "order", Description: longZh}), button: "noorder", wantState: StateAskUrgency, want: effects(askUrg)},
	{name: "order: typed none", s: withIntake(StateAskOrder, Intake{Category: "order", Description: longZh}), text: bi{"没有", "no"}, wantState: StateAskUrgency, want: effects(askUrg)},
	{name: "order: attempts cap goes on without", s: func() Session {
		s := withIntake(StateAskOrder, Intake{Category: "order", Description: longZh})
		s.Asked = 2
		return s
	}(), text: same("abc"), wantState: StateAskUrgency, want: effects(Say{Key: "clarify.order_giveup"}, askUrg)},
	{name: "urgency: button", s: withIntake(StateAskUrgency, Intake{Category: "tech", Description: longZh}), button: "urg:low", wantState: StateConfirm, want: effects(confirm),
		check: func(t *testing.T, s Session) {
			if s.Intake.Priority != P2 {
				t.Errorf("Priority = %s", s.Intake.Priority)
			}
		}},
	{name: "urgency: typed number", s: withIntake(StateAskUrgency, Intake{Category: "tech", Description: longZh}), text: same("1"), wantState: StateConfirm, want: effects(confirm),
		check: func(t *testing.T, s Session) {
			if s.Intake.Priority != P0 {
				t.Errorf("Priority = %s", s.Intake.Priority)
			}
		}},
	{name: "urgency: unclear re-asks", s: withIntake(StateAskUrgency, Intake{Category: "tech", Description: longZh}), text: bi{"不知道", "dunno"}, wantState: StateAskUrgency,
		want: effects(Say{Key: "clarify.pick_button"}, askUrg)},
	{name: "confirm: yes opens ticket", s: withIntake(StateConfirm, Intake{Category: "order", Description: longZh, OrderNo: "202611230001234", Urgency: UrgencyNormal, Priority: P1}),
		button: "ok", wantState: StateTicketOpen,
		want: effects(OpenTicket{Intake: Intake{Category: "order", Description: longZh, OrderNo: "202611230001234", Urgency: UrgencyNormal, Priority: P1}})},
	{name: "confirm: typed yes", s: withIntake(StateConfirm, Intake{Category: "tech", Description: "d", Urgency: UrgencyUrgent}), text: bi{"对的", "yes"}, wantState: StateTicketOpen,
		want: effects(OpenTicket{Intake: Intake{Category: "tech", Description: "d", Urgency: UrgencyUrgent, Priority: P0}})},
	{name: "confirm: no starts over", s: withIntake(StateConfirm, Intake{Category: "tech", Description: "d"}), button: "redo", wantState: StateAskType,
		want: effects(Say{Key: "clarify.restart"}, askType), check: intakeIs(Intake{})},
	{name: "confirm: correction restates", s: withIntake(StateConfirm, Intake{Category: "tech", Description: "d", Urgency: UrgencyNormal}), text: bi{"另外屏幕也不亮", "also the screen is dark"}, wantState: StateConfirm,
		want: effects(confirm)},
	// complaints
	{name: "idle: complaint soothed first", s: st(StateIdle), text: bi{"我要投诉，送货师傅态度恶劣，把我家地板刮坏了，要求赔偿", "I want to complain: the delivery man was rude and scratched my floor, I want compensation"},
		wantState: StateConfirm, want: effects(Say{Key: "complaint.soothe"}, confirm), check: func(t *testing.T, s Session) {
			if s.Intake.Category != "complaint" || !s.Intake.Complaint || s.Intake.Priority != P1 {
				t.Errorf("intake %+v", s.Intake)
			}
		}},
	{name: "complaint with safety is P0", s: st(StateIdle), text: bi{"投诉！你们的热水器漏电，差点出事", "Complaint: your water heater gave my son an electric shock"},
		wantState: StateConfirm, want: effects(Say{Key: "complaint.soothe"}, confirm), check: func(t *testing.T, s Session) {
			if s.Intake.Priority != P0 || !s.Intake.Complaint {
				t.Errorf("intake %+v", s.Intake)
			}
		}},
	// human
	{name: "human at type question asks the type once, skippable", s: withIntake(StateAskType, Intake{FirstText: "q", Description: "q"}), text: bi{"转人工", "human please"},
		wantState: StateAskType, want: effects(humanType), check: intakeIs(Intake{FirstText: "q", Description: "q", Human: true})},
	{name: "human type skipped opens uncategorized", s: withIntake(StateAskType, Intake{Description: "q", Human: true}), button: "skip", wantState: StateTicketOpen,
		want: effects(Say{Key: "human.transfer"}, OpenTicket{Intake: Intake{Description: "q", Human: true, Priority: P1}})},
	{name: "human type skipped in words asks the description, the word is not the summary", s: withIntake(StateAskType, Intake{Human: true}), text: bi{"跳过", "skip"}, wantState: StateTicketOpen,
		want: effects(Say{Key: "human.transfer_describe"}, OpenTicket{Intake: Intake{Human: true, Priority: P1}})},
	{name: "human type picked opens the ticket and asks the description", s: withIntake(StateAskType, Intake{Human: true}), button: "type:order", wantState: StateTicketOpen,
		want: effects(Say{Key: "human.transfer_describe"}, OpenTicket{Intake: Intake{Category: "order", Human: true, Priority: P1}})},
	{name: "human type answered in words is the description", s: withIntake(StateAskType, Intake{Human: true}), text: bi{"电视没有声音，换了遥控器也不行，希望有人帮我看看", "The TV has no sound even with a new remote, please have someone look at it"}, wantState: StateTicketOpen,
		want: func(text string) []Effect {
			return []Effect{Say{Key: "human.transfer"}, OpenTicket{Intake: Intake{Description: text, Human: true, Priority: P1}}}
		}},
	{name: "human in clarification with a type opens at once", s: withIntake(StateAskDescription, Intake{Category: "tech", Description: "q"}), text: bi{"转人工", "human please"},
		wantState: StateTicketOpen, want: effects(Say{Key: "human.transfer"}, OpenTicket{Intake: Intake{Category: "tech", Description: "q", Human: true, Priority: P1}})},
	{name: "human when idle", s: st(StateIdle), text: bi{"我要人工客服", "talk to an agent"}, wantState: StateAskType,
		want: effects(humanType), check: intakeIs(Intake{Human: true})},
	{name: "human after an FAQ answer does not copy the earlier question", s: func() Session {
		s := withIntake(StateAnswered, Intake{FirstText: "请问保修多久"})
		s.LastFAQ = "warranty"
		return s
	}(), text: bi{"转人工", "agent"}, wantState: StateAskType, want: effects(humanType), check: intakeIs(Intake{Human: true})},
	{name: "human word in a long description is not a request", s: withIntake(StateAskDescription, Intake{Category: "tech"}),
		text:      bi{"你们的人工智能音箱一直无法联网，重启了好几次也不行，希望远程帮忙看看", "The smart speaker agent app keeps crashing on start, I reinstalled it twice, please help"},
		wantState: StateAskUrgency, want: effects(askUrg)},
	{name: "human with open ticket", s: withTicket(StateTicketOpen), text: bi{"人工", "agent"}, wantState: StateTicketOpen,
		want: func(text string) []Effect {
			return []Effect{AddToTicket{Text: text}, Say{Key: "human.already", Args: map[string]any{"no": "GD20261123001"}}}
		}},
	// ticket open
	{name: "ticket: message added with one ack", s: withTicket(StateTicketOpen), text: bi{"师傅几点到？", "when will the technician come?"}, wantState: StateTicketOpen,
		want: func(text string) []Effect {
			return []Effect{AddToTicket{Text: text}, Say{Key: "ticket.added", Args: map[string]any{"no": "GD20261123001"}}}
		}},
	{name: "ticket: later messages not acked", s: func() Session { s := withTicket(StateTicketOpen); s.Asked = 1; return s }(), text: bi{"还有一个问题", "one more thing"}, wantState: StateTicketOpen,
		want: func(text string) []Effect { return []Effect{AddToTicket{Text: text}} }},
	{name: "ticket: media added", s: func() Session { s := withTicket(StateTicketOpen); s.Asked = 1; return s }(), media: true, wantState: StateTicketOpen,
		want: effects(AddToTicket{Media: true})},
	{name: "ticket: emoji added", s: func() Session { s := withTicket(StateTicketOpen); s.Asked = 1; return s }(), text: same("😡"), wantState: StateTicketOpen,
		want: effects(AddToTicket{Text: "😡"})},
	{name: "ticket: status in words", s: withTicket(StateTicketOpen), text: bi{"查询进度", "what's the status of my ticket"}, wantState: StateTicketOpen, want: effects(ListTickets{})},
	{name: "idle: status in words", s: st(StateIdle), text: bi{"我的工单", "my tickets"}, wantState: StateIdle, want: effects(ListTickets{})},
	{name: "ticket: number shows it", s: withTicket(StateTicketOpen), text: bi{"gd20261120007 怎么样了", "what about GD20261120007"}, wantState: StateTicketOpen, want: effects(ShowTicket{No: "GD20261120007"})},
	{name: "idle: number shows it", s: st(StateIdle), text: same("GD20261123001"), wantState: StateIdle, want: effects(ShowTicket{No: "GD20261123001"})},
	// resolution and survey
	{name: "signal resolved asks to confirm", s: withTicket(StateTicketOpen), signal: SignalResolved, wantState: StateConfirmSolved,
		want: effects(Say{Key: "resolve.confirm", Args: map[string]any{"no": "GD20261123001"}, Choices: solvedQ.Choices})},
	{name: "signal resolved interrupts clarification", s: withIntake(StateAskType, Intake{Description: "x"}), signal: SignalResolved, wantState: StateConfirmSolved,
		want: effects(Say{Key: "resolve.confirm", Args: map[string]any{"no": "GD20261123009"}, Choices: solvedQ.Choices})},
	{name: "solved starts survey", s: withTicket(StateConfirmSolved), button: "solved", wantState: StateRating,
		want: effects(ConfirmSolved{No: "GD20261123001"}, askRating)},
	{name: "typed solved", s: withTicket(StateConfirmSolved), text: bi{"已经解决了", "yes it's solved"}, wantState: StateRating,
		want: effects(ConfirmSolved{No: "GD20261123001"}, askRating)},
	{name: "unsolved asks reason", s: withTicket(StateConfirmSolved), button: "unsolved", wantState: StateReopenReason, want: effects(Say{Key: "reopen.ask_reason"})},
	{name: "typed unsolved", s: withTicket(StateConfirmSolved), text: bi{"没解决", "not solved"}, wantState: StateReopenReason, want: effects(Say{Key: "reopen.ask_reason"})},
	{name: "reason reopens", s: withTicket(StateReopenReason), text: bi{"还是不制冷", "still not cooling"}, wantState: StateTicketOpen,
		want: func(text string) []Effect {
			return []Effect{Reopen{No: "GD20261123001", Reason: text}, Say{Key: "reopen.done", Args: map[string]any{"no": "GD20261123001"}}}
		}},
	{name: "rating button", s: withTicket(StateRating), button: "rate:2", wantState: StateComment, want: effects(Rate{No: "GD20261123001", Score: 2}, askCommnt)},
	{name: "rating typed", s: withTicket(StateRating), text: bi{"5分", "5"}, wantState: StateComment, want: effects(Rate{No: "GD20261123001", Score: 5}, askCommnt)},
	{name: "rating out of range re-asks", s: withTicket(StateRating), text: same("9"), wantState: StateRating, want: effects(badRating)},
	{name: "comment stored, thanks and closing", s: withTicket(StateComment), text: bi{"服务很好", "great service"}, wantState: StateIdle,
		want: func(text string) []Effect {
			return []Effect{Comment{No: "GD20261123001", Text: text}, Say{Key: "survey.thanks"}, Say{Key: "closing"}}
		}},
	{name: "comment skipped", s: withTicket(StateComment), button: "skip", wantState: StateIdle, want: effects(Say{Key: "survey.thanks"}, Say{Key: "closing"})},
	{name: "signal closed", s: withTicket(StateTicketOpen), signal: SignalClosed, wantState: StateIdle,
		want: effects(Say{Key: "ticket.closed", Args: map[string]any{"no": "GD20261123001"}})},
	// commands
	{name: "/help", s: st(StateAskType), text: same("/help"), wantState: StateAskType, want: effects(Say{Key: "help.text"})},
	{name: "/status", s: withTicket(StateTicketOpen), text: same("/status"), wantState: StateTicketOpen, want: effects(ListTickets{})},
	{name: "/lang asks", s: st(StateIdle), text: same("/lang"), wantState: StateIdle, want: effects(langQ)},
	{name: "/lang bad", s: st(StateIdle), text: same("/lang fr"), wantState: StateIdle,
		want: effects(Say{Key: "lang.bad", Args: map[string]any{"arg": "fr"}, Choices: langQ.Choices})},
	{name: "/link issues a code", s: st(StateIdle), text: same("/link"), wantState: StateIdle, want: effects(IssueLinkCode{})},
	{name: "/link uses a code", s: st(StateIdle), text: same("/link K7P2QX"), wantState: StateIdle, want: effects(UseLinkCode{Code: "K7P2QX"})},
	{name: "/cancel clarification", s: withIntake(StateAskOrder, Intake{Category: "order"}), text: same("/cancel"), wantState: StateIdle, want: effects(Say{Key: "cancel.done"}), check: intakeIs(Intake{})},
	{name: "/cancel nothing", s: withTicket(StateTicketOpen), text: same("/cancel"), wantState: StateTicketOpen, want: effects(Say{Key: "cancel.nothing"})},
	{name: "/start with open ticket", s: withTicket(StateTicketOpen), text: same("/start"), wantState: StateTicketOpen,
		want: effects(Say{Key: "greeting.hello"}, Say{Key: "ticket.open_reminder", Args: map[string]any{"no": "GD20261123001"}})},
	{name: "/start resets", s: withIntake(StateAskUrgency, Intake{Category: "tech"}), text: same("/start"), wantState: StateIdle, want: effects(Say{Key: "greeting.hello"})},
	{name: "/human", s: st(StateIdle), text: same("/human"), wantState: StateAskType, want: effects(humanType)},
	{name: "unknown command", s: st(StateAskType), text: same("/foo bar"), wantState: StateAskType,
		want: effects(Say{Key: "error.unknown_command", Args: map[string]any{"cmd": "foo"}})},
	// bad input
	{name: "empty", s: st(StateAskDescription), text: same("  \t "), wantState: StateAskDescription, want: effects(Say{Key: "error.empty"})},
	{name: "too long", s: st(StateIdle), text: same(strings.Repeat("长", 1400)), wantState: StateIdle, want: effects(Say{Key: "error.too_long"})},
	{name: "emoji only", s: st(StateAskDescription), text: same("😭😭👍🏻"), wantState: StateAskDescription, want: effects(Say{Key: "error.emoji_only"})},
	{name: "binary", s: st(StateIdle), text: same("\xff\xfe\x00"), wantState: StateIdle, want: effects(Say{Key: "error.unreadable"})},
	{name: "media outside a ticket", s: st(StateIdle), media: true, wantState: StateIdle, want: effects(Say{Key: "error.media"})},
	{name: "stale seq", s: st(StateAnswered), raw: "3:yes", wantState: StateAnswered, want: effects(Say{Key: "error.stale_button"}, helped)},
	{name: "button of another state", s: st(StateAskType), raw: "7:rate:5", wantState: StateAskType, want: effects(Say{Key: "error.stale_button"}, askType)},
	{name: "malformed payload", s: st(StateIdle), raw: "garbage", wantState: StateIdle, want: effects(Say{Key: "error.stale_button"})},
	{name: "button in idle", s: st(StateIdle), raw: "7:yes", wantState: StateIdle, want: effects(Say{Key: "error.stale_button"})},
}

func intakeIs(want Intake) func(*testing.T, Session) {
	return func(t *testing.T, s Session) {
		t.Helper()
		if diff := cmp.Diff(want, s.Intake); diff != "" {
			t.Errorf("intake (-want +got):\n%s", diff)
		}
	}
}

func TestPaths(t *testing.T) {
	m := newTestMachine(t)
	for _, tt := range pathTests {
		for _, lang := range []string{"zh-CN", "en"} {
			t.Run(tt.name+"/"+lang, func(t *testing.T) {
				s := tt.s
				s.Lang = lang
				in := Input{Text: tt.text.in(lang), Signal: tt.signal, Media: tt.media, Button: tt.raw}
				if s.State == StateNew && lang == "en" {
					in.LangHint = "en"
				}
				if tt.button != "" {
					in.Button = strconv.Itoa(s.Seq) + ":" + tt.button
				}
				if tt.signal != SignalNone && s.TicketNo == "" {
					in.TicketNo = "GD20261123009"
				}
				next, got, err := m.Step(s, in)
				if err != nil {
					t.Fatal(err)
				}
				if next.State != tt.wantState {
					t.Errorf("state = %s, want %s", next.State, tt.wantState)
				}
				if next.Lang != lang {
					t.Errorf("lang = %s, want %s", next.Lang, lang)
				}
				got = stripSeq(t, next, got)
				want := tt.want(Normalize(tt.text.in(lang)))
				opts := cmp.Options{cmpopts.IgnoreFields(Choice{}, "Label"),
					cmp.FilterPath(func(p cmp.Path) bool { // Say args are checked only where a test gives them
						sf, ok := p.Last().(cmp.StructField)
						return ok && sf.Name() == "Args" && p.Index(-2).Type() == reflect.TypeOf(Say{})
					}, cmp.Comparer(func(a, b map[string]any) bool { return a == nil || b == nil || cmp.Equal(a, b) }))}
				if diff := cmp.Diff(want, got, opts); diff != "" {
					t.Errorf("effects (-want +got):\n%s", diff)
				}
				if tt.check != nil {
					tt.check(t, next)
				}
			})
		}
	}
}

// stripSeq checks every payload carries the new Seq, removes it, and drops SetLang (tested apart).
func stripSeq(t *testing.T, next Session, effects []Effect) []Effect {
	t.Helper()
	var out []Effect
	for _, e := range effects {
		switch e := e.(type) {
		case SetLang:
			continue
		case Say:
			cs := make([]Choice, len(e.Choices))
			for i, c := range e.Choices {
				seq, action, arg, ok := ParsePayload(c.Payload)
				if !ok || seq != next.Seq {
					t.Errorf("payload %q: want seq %d", c.Payload, next.Seq)
				}
				c.Payload = action
				if arg != "" {
					c.Payload += ":" + arg
				}
				cs[i] = c
			}
			if len(cs) == 0 {
				cs = nil
			}
			e.Choices = cs
			out = append(out, e)
		default:
			out = append(out, e)
		}
	}
	return out
}

func TestUnknownState(t *testing.T) {
	m := newTestMachine(t)
	s := Session{State: "bogus", Lang: "zh-CN"}
	next, effects, err := m.Step(s, Input{Text: "hi"})
	if !errors.Is(err, ErrUnknownState) {
		t.Errorf("err = %v, want ErrUnknownState", err)
	}
	if next.State != "bogus" || effects != nil {
		t.Errorf("got %v %v", next, effects)
	}
}
