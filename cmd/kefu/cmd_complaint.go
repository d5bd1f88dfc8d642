package main

import (
	"github.com/kefu-dev/kefu/pii"

	"fmt"
	"io"
	"strings"
	"time"

	"github.com/kefu-dev/kefu/bot"
)

// printComplaint prints what `kefu ticket show` adds for complaints: core points, verification,
// responsible party, proposals and return visits.
func printComplaint(out io.Writer, t bot.Ticket, cv bot.ComplaintView, loc *time.Location, m pii.Masker) {
	ts := func(x time.Time) string { return x.In(loc).Format("2006-01-02 15:04") }
	d := cv.Details
	if len(d.CorePoints) > 0 || d.Verification != "" || d.Responsible != "" {
		fmt.Fprintf(out, "\ncomplaint: points=%s responsible=%s (by %s)\n", orDash(strings.Join(d.CorePoints, ",")), orDash(d.Responsible), orDash(d.UpdatedBy))
		if d.Verification != "" {
			fmt.Fprintf(out, "verified:  %s\n", m.Text(d.Verification))
		}
	}
	for _, p := range cv.Proposals {
		fmt.Fprintf(out, "proposal #%d: %s %s  %s  by %s", p.ID, p.Solution, yuan(p.Amount), p.Status, p.ProposedBy)
		if p.ApprovedBy != "" {
			fmt.Fprintf(out, ", approved by %s", p.ApprovedBy)
		}
		if p.Reason != "" {
			fmt.Fprintf(out, ", reason: %s", m.Text(p.Reason))
		}
		fmt.Fprintln(out)
	}
	for _, v := range cv.Visits {
		state := "due " + ts(v.DueAt)
		if v.Done() {
			state = fmt.Sprintf("done %s by %s: %s %s", ts(*v.DoneAt), v.DoneBy, v.Outcome, m.Text(v.Note))
		}
		fmt.Fprintf(out, "return visit (%s): %s\n", v.Reason, state)
	}
}

// yuan renders an amount in fen as yuan ("200", "12.50"); "" for 0.
func yuan(fen int64) string {
	if fen == 0 {
		return ""
	}
	if fen%100 == 0 {
		return fmt.Sprintf("%d", fen/100)
	}
	return fmt.Sprintf("%d.%02d", fen/100, fen%100)
}
