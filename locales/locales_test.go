package locales

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// sampleArgs fills every argument any template uses.
var sampleArgs = map[string]any{
	"company": "小客科技", "bot": "小客", "no": "GD20261123001", "priority": "priority.P1",
	"due": "2026-11-23 17:00", "resolve_due": "2026-11-24 17:00", "status": "status.open",
	"category": "category.order", "urgency": "urgency.urgent", "description": "快递三天没动",
	"order": "202611230001234", "example": "202611230001234", "input": "abc", "n": 5, "cmd": "foo",
	"arg": "fr", "code": "K7P2QX", "minutes": 10, "agent": "Alice", "text": "您好", "summary": "已补发",
	"updated": "11-23 15:00", "filter": "mine", "count": 3, "assignee": "<@U1>", "actor": "<@U1>", "card": "<#C1>",
	"score": 2, "at": "10:00", "user": "<@U2>", "usage": "/kefu list", "query": "退款", "id": "faq-1",
	"question": "q", "answer": "a", "type": "photo", "name": "a.jpg", "size": 1024, "channel": "web", "comment": "慢",
	"target": "首次响应", "level": 2, "level_name": "team_lead", "by": "<@U3>",
	// reports/digest
	"from": "2026-11-16", "to": "2026-11-22", "created": 120, "resolved": 110, "backlog": 14, "median": "12 分钟", "p90": "2.5 小时",
	"response": "92.5%", "resolution": "88.0%", "avg": "4.62", "rate": "71.0%", "fcr": "83.1%", "bot_pct": "41.2%", "kb": "55.0%",
	"list": "订单问题 30.1%", "share": "30.1%", "seconds": 30, "team": "售后",
	// REST API errors (integrate)
	"param": "from", "request_id": "3f2a9c",
	// improve
	"field": "why", "max": 5, "term": "mid", "owner": "cli:alice", "state": "open", "metric": "csat", "known": "backlog, csat",
	"period": "2026-Q4", "op": ">", "date": "2026-13-01", "value": "27.5", "window": "1h", "threshold": "25", "weeks": 4,
	// complaints
	"solution": "solution.refund", "amount": "200", "outcome": "satisfied", "repeat": "GD20261120001",
	"ticket": "GD20261123001", "tb": "2", "ta": "1.5", "rb": "6", "ra": "2.5", "cb": "2.5", "ca": "4.5",
	// channels (reply window)
	"hours": 5, "until": "11-24 10:00",
	// WeCom hand-off
	"servicer": "lisi", "err": "errcode 95016",
	// the command line (cmd/kefu, *.cli.yaml)
	"flag": "--bogus", "what": "cli.ticket.what.reply", "sub": "claim", "lang": "zh-CN",
	"first": "2026-11-23 10:30", "v": "张**", "late": " (passed)",
	"points": "delay,attitude", "kind": "refund", "closed": 1, "visits": 2, "tasks": 0, "reopened": true, "pw": "Xk3-pQ9", "role": "agent", "flags": "vip", "pct": "80.0%", "format": "pdf", "event": "ticket.moved", "addr": ":9090", "i": 0, "p": "P1", "review": "2026-12-31", "crossed": 1, "sent": 2, "body": "database: down", "traffic": 40, "confirmations": 12, "added": 9, "tickets": 120, "conversations": 300, "surveys": 80, "citations": 40, "dialect": "sqlite", "applied": 27, "pending": 0, "version": "dev", "newest": "0190", "where": "data/kefu.key", "db": "./data/kefu.db", "key": "k2", "all": "k2, k1", "decision": "answer", "ins": 78, "oos": 20, "entries": 40, "p50": "1ms", "p99": "3ms", "load": "80ms", "heap": "12.5", "file": "faq.yaml", "days": 30, "month": "2026-11", "met": true, "entry": "faq-d1", "q": "怎么退货？", "a": "七天无理由", "accepted": true, "part": "9", "url": "https://crm.example.com/hook", "events": "ticket.created", "secret": "whsec_x", "overlap": "24h0m0s", "took": "12ms", "endpoint": "crm", "responsible": "logistics", "reason": "核实中", "note": "已致电", "rating": "4/5",
}

func TestCatalogsHaveSameKeys(t *testing.T) {
	c := Default()
	if diff := cmp.Diff(c.Keys(ZhCN), c.Keys(En)); diff != "" {
		t.Errorf("zh-CN and en keys differ (-zh-CN +en):\n%s", diff)
	}
	if got := c.Langs(); !cmp.Equal(got, []string{ZhCN, En}) {
		t.Errorf("Langs() = %v", got)
	}
}

// requiredKeys are keys other packages render; a catalog missing one fails here.
var requiredKeys = []string{
	"greeting.hello", "faq.helped?", "faq.yes", "faq.no", "faq.suggest", "faq.none", "anything.else",
	"closing", "clarify.ask_type", "clarify.ask_description", "clarify.more_detail", "clarify.ask_order",
	"clarify.ask_urgency", "clarify.confirm", "category.product", "category.order", "category.aftersale",
	"category.tech", "category.complaint", "category.suggestion", "urgency.urgent", "urgency.normal",
	"urgency.low", "complaint.soothe", "human.transfer", "ticket.opened", "ticket.added",
	"ticket.list.header", "ticket.list.line", "ticket.list.empty", "ticket.show", "ticket.still_working",
	"ticket.closed", "status.open", "status.in_progress", "status.pending", "status.resolved",
	"status.closed", "agent.reply", "resolve.confirm", "resolve.yes", "resolve.no", "reopen.ask_reason",
	"reopen.done", "survey.ask", "survey.score", "survey.ask_comment", "survey.thanks", "help.text",
	"lang.switched", "lang.choose", "lang.bad", "link.code", "link.done", "link.bad_code", "error.empty",
	"error.too_long", "error.emoji_only", "error.unknown_command", "error.bad_order", "error.stale_button",
	"error.not_your_ticket", "error.unknown_ticket", "error.internal", "web.title", "web.placeholder",
	"web.send", "web.connecting", "priority.P0", "priority.P1", "priority.P2",
}

func TestRequiredKeys(t *testing.T) {
	c := Default()
	for _, lang := range c.Langs() {
		for _, k := range requiredKeys {
			if !c.Has(lang, k) {
				t.Errorf("%s: missing key %q", lang, k)
			}
		}
	}
}

func TestEveryTemplateExecutes(t *testing.T) {
	c := Default()
	for _, lang := range c.Langs() {
		for _, k := range c.Keys(lang) {
			var b strings.Builder
			if err := c.tmpl[lang][k].Execute(&b, sampleArgs); err != nil {
				t.Errorf("%s %s: %v", lang, k, err)
				continue
			}
			out := b.String()
			if strings.TrimSpace(out) == "" {
				t.Errorf("%s %s: renders empty", lang, k)
			}
			// {{"{{"}} prints braces on purpose (the macro placeholders in kefu macro's usage)
			literal := strings.Contains(c.raw[lang][k], `{{"{{"}}`)
			if strings.Contains(out, "<no value>") || (strings.Contains(out, "{{") && !literal) {
				t.Errorf("%s %s: unrendered placeholder in %q", lang, k, out)
			}
			// nested keys given to {{t}} must render, not leak the key
			if !strings.Contains(c.raw[lang][k], "{{t ") {
				continue
			}
			for _, leak := range []string{"category.", "status.", "urgency.", "priority."} {
				if strings.Contains(out, leak) {
					t.Errorf("%s %s: key leaked in %q", lang, k, out)
				}
			}
		}
	}
}

func TestT(t *testing.T) {
	c := Default()
	tests := []struct {
		name, lang, key string
		args            map[string]any
		want            string
	}{
		{"zh closing", "zh-CN", "closing", nil, "感谢您的咨询，祝您生活愉快，再见！"},
		{"en closing", "en", "closing", nil, "Thank you for contacting us. Have a nice day, goodbye!"},
		{"lang code variants", "en-US", "btn.yes", nil, "Yes"},
		{"zh variant", "zh_TW", "btn.yes", nil, "是"},
		{"unknown lang falls back to zh-CN", "fr", "btn.yes", nil, "是"},
		{"unknown key", "en", "no.such.key", nil, "no.such.key"},
		{"greeting args", "zh-CN", "greeting.hello", map[string]any{"company": "小客科技", "bot": "小客"},
			"您好，欢迎来到小客科技客服中心，我是智能客服小客，很高兴为您服务，请问您需要咨询什么问题呢？"},
		{"nested key", "en", "ticket.list.line", map[string]any{"no": "GD20261123001", "status": "status.in_progress",
			"category": "category.order", "priority": "P1"}, "GD20261123001 | In progress | Order & delivery | P1"},
		{"nested literal", "zh-CN", "ticket.list.line", map[string]any{"no": "GD20261123001", "status": "status.closed",
			"category": "会员", "priority": "priority.P0"}, "GD20261123001｜已关闭｜会员｜紧急（P0）"},
		{"missing args render empty", "zh-CN", "survey.score", nil, " 分"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.T(tt.lang, tt.key, tt.args); got != tt.want {
				t.Errorf("T(%q, %q) = %q, want %q", tt.lang, tt.key, got, tt.want)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	if _, err := Load(map[string][]byte{"zh-CN": []byte("a: \"{{.x\"\n")}); err == nil || !strings.Contains(err.Error(), `"a"`) {
		t.Errorf("bad template: err = %v, want one naming key a", err)
	}
	if _, err := Load(map[string][]byte{"en": []byte("- not a map")}); err == nil {
		t.Error("bad yaml: want error")
	}
}

func TestMatch(t *testing.T) {
	for in, want := range map[string]string{"zh": "zh-CN", "zh-Hans": "zh-CN", "EN-gb": "en", "en": "en", "de": "", "": ""} {
		if got := Match(in); got != want {
			t.Errorf("Match(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCommandDescriptionsFitDiscord(t *testing.T) {
	c := Default()
	for _, lang := range c.Langs() {
		for _, k := range c.Keys(lang) {
			if strings.HasPrefix(k, "command.") {
				if n := len([]rune(c.T(lang, k, nil))); n < 1 || n > 100 {
					t.Errorf("%s %s: %d characters, Discord allows 1–100", lang, k, n)
				}
			}
		}
	}
}
