package bot

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Customer flags ("vip", "media", "legal" …) raise a complaint's level through ComplaintLevel.Flags.
// Only supervisors set or clear them: a flag changes priorities and SLA targets of every later
// complaint of the customer, a decision above a single agent.

var flagRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// KnownFlags lists the flags the complaint level rules name, sorted.
func (e *Engine) KnownFlags() []string {
	var out []string
	for _, l := range e.cc.Levels {
		for _, f := range l.Flags {
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	sort.Strings(out)
	return out
}

// CustomerFlags returns a customer's flags (any agent may look).
func (e *Engine) CustomerFlags(ctx context.Context, a Actor, customerID int64) ([]string, error) {
	if _, err := e.authorize(a); err != nil {
		return nil, err
	}
	var flags []string
	err := e.store.Tx(ctx, func(tx Tx) error {
		var err error
		flags, err = tx.CustomerFlags(ctx, customerID)
		return err
	})
	return flags, err
}

// SetCustomerFlags adds set and removes clear from customer id's flags and returns the result. Only
// supervisors may; a flag no complaint level rule names is refused with ErrBadInput (a typo would
// otherwise be stored and never take effect). Clearing a flag the customer does not have is no error.
func (e *Engine) SetCustomerFlags(ctx context.Context, a Actor, customerID int64, set, clear []string) ([]string, error) {
	a, err := e.authorize(a)
	if err != nil {
		return nil, err
	}
	if !a.Supervisor {
		return nil, fmt.Errorf("bot: customer flags: %q: %w", a.ID, ErrSupervisorOnly)
	}
	known := e.KnownFlags()
	norm := func(fs []string) ([]string, error) {
		var out []string
		for _, f := range fs {
			f = strings.ToLower(strings.TrimSpace(f))
			if f == "" {
				continue
			}
			if !flagRE.MatchString(f) || !slices.Contains(known, f) {
				return nil, fmt.Errorf("bot: customer flag %q: %w (known: %s)", f, ErrBadInput, strings.Join(known, ", "))
			}
			out = append(out, f)
		}
		return out, nil
	}
	if set, err = norm(set); err != nil {
		return nil, err
	}
	if clear, err = norm(clear); err != nil {
		return nil, err
	}
	if len(set)+len(clear) == 0 {
		return nil, fmt.Errorf("bot: customer flags: nothing to set or clear: %w", ErrBadInput)
	}
	var out []string
	err = e.store.Tx(ctx, func(tx Tx) error {
		cur, err := tx.CustomerFlags(ctx, customerID)
		if err != nil {
			return err
		}
		out = nil
		for _, f := range append(cur, set...) {
			if f != "" && !slices.Contains(clear, f) && !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
		sort.Strings(out)
		return tx.SetCustomerFlags(ctx, customerID, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
