package email

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Loop guard. Robots that mark their mail (Auto-Submitted, Precedence, DSNs …) are recognised by
// autoReason; one that does not — an old ticket system's "we received your request", a forwarding
// rule pointed back at the support mailbox, a forged sender address aimed at a third party — would
// otherwise get an answer to every mail, and answer that answer, forever. So an address that sends
// more than Options.LoopLimit mails within one hour is not answered for the rest of that hour: its
// mail is left in the mailbox (read) and logged once per hour, with the keyed hash, never the address.
// A person writes far less than that; an agent still sees the conversation so far.
//
// The count lives in State (the database's key-value table in kefu serve), so a restart does not
// reset it. Only the process holding the mailbox reads it (one reader at a time), so a plain
// read-modify-write is enough.

// loopWindow is the window LoopLimit counts mails in.
const loopWindow = time.Hour

type loopCount struct {
	Start int64 `json:"start"` // unix seconds when the window began
	N     int   `json:"n"`
}

// overLoopLimit counts one mail from addr and reports whether it is over the limit (not to be
// answered); first is true for the first mail over the limit in this window (the one to log).
func (a *Adapter) overLoopLimit(ctx context.Context, addr string) (over, first bool, err error) {
	if a.opt.LoopLimit < 0 {
		return false, false, nil
	}
	key := "email:loop:" + a.addrKey(addr)
	var c loopCount
	if v, ok, err := a.opt.State.GetKV(ctx, key); err != nil {
		return false, false, fmt.Errorf("email: loop count: %w", err)
	} else if ok {
		_ = json.Unmarshal([]byte(v), &c) // a damaged value starts a new window
	}
	now := a.opt.Now()
	if now.Sub(time.Unix(c.Start, 0)) >= loopWindow || c.Start > now.Unix() {
		c = loopCount{Start: now.Unix()}
	}
	c.N++
	b, _ := json.Marshal(c)
	if err := a.opt.State.SetKV(ctx, key, string(b)); err != nil {
		return false, false, fmt.Errorf("email: loop count: %w", err)
	}
	return c.N > a.opt.LoopLimit, c.N == a.opt.LoopLimit+1, nil
}

// addrKey names an address in State and logs, and is its conversation's chat id: its keyed hash when
// Options.Hash is set.
func (a *Adapter) addrKey(addr string) string {
	addr = strings.ToLower(strings.TrimSpace(addr))
	if a.opt.Hash == nil {
		return addr
	}
	return "h:" + a.opt.Hash(addr)
}
