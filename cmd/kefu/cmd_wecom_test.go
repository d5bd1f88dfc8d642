package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/adapters/wecom"
	"github.com/kefu-dev/kefu/adapters/wecom/wecomtest"
	"github.com/kefu-dev/kefu/bot"
)

// TestWeComHandOffCLI: `kefu wecom handoff` gives a WeCom ticket's session to the agent's servicer
// (wecom.servicers) through the strict fake's service_state/trans and records a note; an agent without
// a servicer, a ticket on another channel, an ended session and a bad mapping are refused, localized.
func TestWeComHandOffCLI(t *testing.T) {
	const customer = "wmHandOffCustomer0001"
	tests := []struct {
		name    string
		lang    string
		channel bot.Channel
		args    []string
		ended   bool
		want    string // in the output (ok) or the error
		ok      bool
	}{
		{name: "to my servicer zh-CN", lang: "zh-CN", channel: bot.ChannelWeCom, args: []string{"--as", "alice"}, want: "已将微信客服会话转给企业微信接待人员 lisi", ok: true},
		{name: "to another agent's en", lang: "en", channel: bot.ChannelWeCom, args: []string{"--as", "alice", "--to", "carol"}, want: "WeCom servicer zhangsan (agent cli:carol)", ok: true},
		{name: "agent without a servicer", lang: "zh-CN", channel: bot.ChannelWeCom, args: []string{"--as", "bob"}, want: "坐席 cli:bob 没有对应的企业微信接待人员"},
		{name: "not a wecom ticket", lang: "en", channel: bot.ChannelWeChat, args: []string{"--as", "alice"}, want: "is not a WeCom customer-service ticket"},
		{name: "ended session", lang: "en", channel: bot.ChannelWeCom, args: []string{"--as", "alice"}, ended: true, want: "WeCom refused to hand ticket"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := wecomtest.New(t)
			f.SetServicers("lisi", "zhangsan")
			dir := t.TempDir()
			dbURL := filepath.Join(dir, "kefu.db")
			cfgPath := filepath.Join(dir, "kefu.yaml")
			os.WriteFile(cfgPath, []byte("database_url: "+dbURL+"\ndefault_lang: "+tc.lang+"\n"+
				"agents:\n  - {id: \"cli:alice\", name: Alice}\n  - {id: \"cli:bob\", name: Bob}\n  - {id: \"cli:carol\", name: Carol}\n"+
				"wecom:\n  corp_id: "+wecomtest.CorpID+"\n  api_url: "+f.URL+"\n  servicers: {\"cli:alice\": lisi, \"cli:carol\": zhangsan}\n"), 0o600)
			env := map[string]string{"KEFU_WECOM_SECRET": wecomtest.Secret, "KEFU_WECOM_TOKEN": wecomtest.Token,
				"KEFU_WECOM_ENCODING_AES_KEY": wecomtest.EncodingAESKey}
			getenv := func(k string) string { return env[k] }
			db := openTestDB(t, dbURL)
			f.Follow(customer)
			state := wecomtest.StateBot
			if tc.ended {
				state = wecomtest.StateEnded
			}
			f.SetServiceState(customer, state, "")
			chat := wecom.ChatID(wecomtest.OpenKfID, customer)
			if tc.channel != bot.ChannelWeCom {
				chat = "oFollower1"
			}
			tk := windowTicket(t, db, tc.channel, chat, time.Now().Add(-time.Hour))
			var out bytes.Buffer
			err := runWeCom(context.Background(), append([]string{"handoff", "--config", cfgPath, tk.No}, tc.args...), &out, getenv)
			evs, terr := db.TicketEvents(context.Background(), tk.ID)
			if terr != nil {
				t.Fatal(terr)
			}
			notes := 0
			for _, ev := range evs {
				if ev.Kind == bot.EvNote {
					notes++
				}
			}
			if !tc.ok {
				if err == nil || !strings.Contains(err.Error(), tc.want) || notes != 0 || f.ServiceState(customer) != state {
					t.Fatalf("handoff = %v, notes %d, state %d; want refused with %q, nothing changed", err, notes, f.ServiceState(customer), tc.want)
				}
				return
			}
			if err != nil || !strings.Contains(out.String(), tc.want) || notes != 1 || f.ServiceState(customer) != wecomtest.StateServicer {
				t.Fatalf("handoff = %v, out %q, notes %d, state %d", err, out.String(), notes, f.ServiceState(customer))
			}
			if tr := f.Trans(); len(tr) != 1 || !strings.Contains(tr[0], "->3@") {
				t.Errorf("trans calls %v", tr)
			}
		})
	}
}

// TestWeComServicersConfig: a servicer mapping must name a configured agent and a userid.
func TestWeComServicersConfig(t *testing.T) {
	for _, tc := range []struct {
		name, servicers string
		ok              bool
	}{
		{"known agent", `{"cli:alice": lisi}`, true},
		{"unknown agent", `{"cli:nobody": lisi}`, false},
		{"empty userid", `{"cli:alice": ""}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfgPath := filepath.Join(dir, "kefu.yaml")
			os.WriteFile(cfgPath, []byte("database_url: "+filepath.Join(dir, "kefu.db")+"\nagents:\n  - {id: \"cli:alice\", name: Alice}\n"+
				"wecom:\n  servicers: "+tc.servicers+"\n"), 0o600)
			_, err := loadConfig(cfgPath, func(string) string { return "" })
			if (err == nil) != tc.ok || (err != nil && !strings.Contains(err.Error(), "wecom.servicers")) {
				t.Fatalf("loadConfig = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
