package slack

import (
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/bot/sla"
)

// TestSLABreachEventPings: an EvSLA breach event on a ticket is posted as the SLA ping (with its
// action blocks), not as an ordinary thread line. Added for a mutant of the feed's EvSLA dispatch.
func TestSLABreachEventPings(t *testing.T) {
	e := newEnv(t)
	e.desk.create(ticketGD1())
	no := "GD20261123001"
	e.sync(t)
	before := len(e.slack.Called("chat.postMessage"))
	tk := e.desk.ticket(no)
	n := sla.Notify{Key: sla.Key{TicketID: tk.ID, Kind: sla.KindBreach, Target: sla.FirstResponse, Level: 1,
		Due: tk.FirstResponseDue}, TicketNo: no, Priority: sla.P1, At: tk.FirstResponseDue.Add(time.Minute),
		Audience: []sla.Audience{sla.ToTeam, sla.ToSupervisors}}
	e.desk.mu.Lock()
	e.desk.event(no, "system", bot.EvSLA, n.Text())
	e.desk.mu.Unlock()
	e.sync(t)
	posts := e.slack.Called("chat.postMessage")[before:]
	withBlocks := 0
	for _, p := range posts {
		if p.Form.Get("blocks") != "" && strings.Contains(p.Form.Get("text"), no) {
			withBlocks++
		}
	}
	if withBlocks == 0 {
		t.Errorf("the breach was posted as %d messages without an SLA ping: %+v", len(posts), posts)
	}
}
