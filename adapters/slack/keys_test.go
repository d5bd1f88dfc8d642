package slack

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"text/template"

	"gopkg.in/yaml.v3"

	"github.com/kefu-dev/kefu/bot"
)

// TestKeysDocumented: every key the package renders is in KEYS.md, in both languages, as a valid
// text/template; so the lead can paste the blocks into locales/ and nothing shows up as a raw key.
func TestKeysDocumented(t *testing.T) {
	doc, err := os.ReadFile("KEYS.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(doc, -1)
	if len(blocks) != 2 {
		t.Fatalf("KEYS.md: want 2 yaml blocks (zh-CN, en), got %d", len(blocks))
	}
	langs := map[string]map[string]string{}
	for i, name := range []string{"zh-CN", "en"} {
		m := map[string]string{}
		if err := yaml.Unmarshal(blocks[i][1], &m); err != nil {
			t.Fatalf("%s block: %v", name, err)
		}
		for k, v := range m {
			if _, err := template.New(k).Parse(v); err != nil {
				t.Errorf("%s %s: %v", name, k, err)
			}
		}
		langs[name] = m
	}

	used := map[string]bool{}
	files, _ := filepath.Glob("*.go")
	lit := regexp.MustCompile(`"(slack\.[a-z_.]*[a-z_])"`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, _ := os.ReadFile(f)
		for _, m := range lit.FindAllSubmatch(src, -1) {
			used[string(m[1])] = true
		}
	}
	for _, s := range []bot.Status{bot.StatusOpen, bot.StatusInProgress, bot.StatusPending, bot.StatusResolved, bot.StatusClosed} {
		used["slack.status."+string(s)] = true
	}
	for _, c := range []bot.Channel{bot.ChannelWeb, bot.ChannelTelegram, bot.ChannelDiscord, bot.ChannelSlack, bot.ChannelCLI,
		bot.ChannelWeChat, bot.ChannelWeCom, bot.ChannelEmail} {
		used["slack.channel."+string(c)] = true
	}
	for _, k := range []bot.EventKind{bot.EvCreated, bot.EvCustomerMessage, bot.EvAgentReply, bot.EvNote, bot.EvClaimed,
		bot.EvAssigned, bot.EvPriority, bot.EvStatus, bot.EvEscalated, bot.EvResolved, bot.EvReopened, bot.EvClosed,
		bot.EvRated, bot.EvSLA, bot.EvComplaintLevel, bot.EvComplaint, bot.EvProposal, bot.EvVisit, bot.EvVisitOverdue,
		bot.EvFAQReply, bot.EvForced, bot.EvTask, bot.EvTaskLate, bot.EvFAQDraft} {
		used["slack.event."+string(k)] = true
	}
	for _, s := range []string{"open", "done", "cancelled", "late"} { // followup.go
		used["slack.task.state."+s] = true
	}
	for _, a := range []string{"customer", "bot", "system"} {
		used["slack.actor."+a] = true
	}
	for _, f := range listFilters {
		used["slack.list.filter."+f] = true
	}
	for _, v := range []string{"list", "show", "claim", "ack", "reply", "note", "escalate", "status", "priority", "assign", "faq", "report"} {
		used["slack.usage."+v] = true
	}
	for _, m := range []string{"reply", "escalate"} {
		for _, p := range []string{"title", "label", "placeholder"} {
			used["slack.modal."+m+"."+p] = true
		}
	}
	for _, tg := range []string{"first_response", "next_response", "resolution"} {
		used["slack.sla.target."+tg] = true
	}
	delete(used, "slack.sla.target.") // a prefix, completed above
	delete(used, "slack.modal.reply") // prefixes, completed above
	delete(used, "slack.modal.escalate")
	for k := range used {
		for name, m := range langs {
			if _, ok := m[k]; !ok {
				t.Errorf("%s: key %s is used but not in KEYS.md", name, k)
			}
		}
	}
	for k := range langs["zh-CN"] {
		if _, ok := langs["en"][k]; !ok {
			t.Errorf("en lacks %s", k)
		}
	}
	for k := range langs["en"] {
		if !used[k] {
			t.Errorf("KEYS.md documents %s, which the code never uses", k)
		}
	}
}
