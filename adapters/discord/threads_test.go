package discord

import (
	"encoding/json"
	"testing"

	"github.com/kefu-dev/kefu/adapters/discord/discordtest"

	"github.com/google/go-cmp/cmp"
	"github.com/kefu-dev/kefu/bot"
)

func TestSupportChannelGivesEachCustomerAPrivateThread(t *testing.T) {
	f := discordtest.NewServer(t)
	sink := newRecSink()
	startAdapter(t, f, Options{SupportChannelID: "sup"}, sink)

	f.Dispatch("MESSAGE_CREATE", discordtest.MessageCreate("m1", "sup", "g1", "7", "我要退货", nil))
	evs := sink.waitFor(t, "m1", hasMsg("m1"))
	thread7 := evs[0].ChatID
	if thread7 == "" || thread7 == "sup" {
		t.Fatalf("ChatID = %q, want the customer's thread", thread7)
	}
	creates := f.CallsTo("POST", "/api/v9/channels/sup/threads")
	if len(creates) != 1 {
		t.Fatalf("thread creations = %d, want 1", len(creates))
	}
	var ts struct {
		Name      string `json:"name"`
		Type      int    `json:"type"`
		Invitable bool   `json:"invitable"`
	}
	json.Unmarshal(creates[0].Body, &ts)
	if ts != (struct {
		Name      string `json:"name"`
		Type      int    `json:"type"`
		Invitable bool   `json:"invitable"`
	}{"kefu-7", 12, false}) {
		t.Errorf("thread = %+v, want private (12), not invitable, named by user id", ts)
	}
	th, _ := f.Thread(thread7)
	members := th.Members
	if d := cmp.Diff([]string{"7"}, members); d != "" {
		t.Errorf("thread members (-want +got):\n%s", d)
	}

	// Same customer again in the channel, then inside the thread: same thread, no new one.
	f.Dispatch("MESSAGE_CREATE", discordtest.MessageCreate("m2", "sup", "g1", "7", "还有一个问题", nil))
	f.Dispatch("MESSAGE_CREATE", discordtest.MessageCreate("m3", thread7, "g1", "7", "订单号 12345678", nil))
	// Someone else typing in that thread is not the customer; a random guild channel is not ours.
	f.Dispatch("MESSAGE_CREATE", discordtest.MessageCreate("m4", thread7, "g1", "8", "moderator note", nil))
	f.Dispatch("MESSAGE_CREATE", discordtest.MessageCreate("m5", "random", "g1", "7", "off topic", nil))
	// A second customer gets a thread of their own.
	f.Dispatch("MESSAGE_CREATE", discordtest.MessageCreate("m6", "sup", "g1", "8", "hello", nil))
	f.Dispatch("MESSAGE_CREATE", discordtest.MessageCreate("m7", thread7, "g1", "7", "done", nil))
	evs = sink.waitFor(t, "m6 and m7", func(e []bot.Event) bool { return hasMsg("m6")(e) && hasMsg("m7")(e) })

	chats := map[string]string{}
	for _, e := range evs {
		chats[e.MsgID] = e.ChatID
	}
	if _, ok := chats["m4"]; ok {
		t.Error("a non-customer's message in the thread was delivered")
	}
	if _, ok := chats["m5"]; ok {
		t.Error("a message in an unrelated guild channel was delivered")
	}
	for _, id := range []string{"m2", "m3", "m7"} {
		if chats[id] != thread7 {
			t.Errorf("%s ChatID = %q, want %q", id, chats[id], thread7)
		}
	}
	if chats["m6"] == "" || chats["m6"] == thread7 || chats["m6"] == "sup" {
		t.Errorf("second customer's ChatID = %q, want a thread of their own", chats["m6"])
	}
	if n := len(f.CallsTo("POST", "/api/v9/channels/sup/threads")); n != 2 {
		t.Errorf("thread creations = %d, want 2 (one per customer)", n)
	}
}

func TestSupportThreadFoundAgainAfterRestart(t *testing.T) {
	for _, archived := range []bool{false, true} {
		t.Run(map[bool]string{false: "active", true: "archived"}[archived], func(t *testing.T) {
			f := discordtest.NewServer(t)
			f.AddThread(discordtest.Thread{ID: "t-old", Name: "kefu-7", ParentID: "sup", GuildID: "g1", Members: []string{"7"}}, archived)
			sink := newRecSink()
			startAdapter(t, f, Options{SupportChannelID: "sup"}, sink)
			f.Dispatch("MESSAGE_CREATE", discordtest.MessageCreate("m1", "sup", "g1", "7", "I'm back", nil))
			evs := sink.waitFor(t, "m1", hasMsg("m1"))
			if evs[0].ChatID != "t-old" {
				t.Errorf("ChatID = %q, want the existing thread t-old", evs[0].ChatID)
			}
			if n := len(f.CallsTo("POST", "/api/v9/channels/sup/threads")); n != 0 {
				t.Errorf("thread creations = %d, want 0", n)
			}
			if n := len(f.CallsTo("PATCH", "/api/v9/channels/t-old")); (n == 1) != archived {
				t.Errorf("unarchive calls = %d (archived=%v)", n, archived)
			}
		})
	}
}

func TestSlashCommandInSupportChannelAnsweredInThread(t *testing.T) {
	f := discordtest.NewServer(t)
	sink := newRecSink()
	startAdapter(t, f, Options{SupportChannelID: "sup"}, sink)
	f.Dispatch("INTERACTION_CREATE", commandInteraction("i5", "sup", "g1", "status"))
	evs := sink.waitFor(t, "i5", hasMsg("i5"))
	if evs[0].ChatID == "sup" || evs[0].ChatID == "" || evs[0].UserName != "Ann" || evs[0].Payload != "status" {
		t.Errorf("event = %+v, want the command in the customer's thread", evs[0])
	}
	var cb callback
	json.Unmarshal(f.CallsTo("POST", "/api/v9/interactions/i5/tok-i5/callback")[0].Body, &cb)
	if cb.Type != 4 || cb.Data.Flags != 64 || cb.Data.Content != "/status" {
		t.Errorf("ack = %+v, want an ephemeral echo (type 4, flags 64)", cb)
	}
}
