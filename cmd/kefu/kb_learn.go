package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/kb"
	"github.com/kefu-dev/kefu/storage"
)

// Learning from use (issue 18). A customer who picks one of the bot's candidate questions and says it
// helped confirms that their own words mean that entry; `kefu kb learn` lists those wordings the
// current matcher would not already answer confidently, and a supervisor accepts them in bulk. Accepted
// wordings become examples of their entry (kb.Library.WithExamples) in every library kefu serves (the
// sample, faq.file or an imported one); a running server reloads within faq.reload.

const kvFAQLearned = "faq:learned" // bumped by every decision; the server reloads when it changes

// kbLearnUsage is the usage text, cli.usage.kb_learn in locales/*.cli.yaml.
func kbLearnUsage() string { return msg("cli.usage.kb_learn") }

func kbLearn(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("kb learn", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfgPath := fs.String("config", "", "config file")
	days := fs.Int("days", 90, "look back this many days")
	limit := fs.Int("limit", 200, "consider at most this many confirmations")
	accept := fs.String("accept", "", "all, or the numbers of the list to accept")
	reject := fs.String("reject", "", "all, or the numbers of the list to reject")
	as := fs.String("as", "", "supervisor deciding (default $KEFU_AGENT, then $USER)")
	if _, err := parseArgs(fs, args, 0, 0, ""); err != nil {
		return err
	}
	if *accept != "" && *reject != "" {
		return fmt.Errorf("%w: %s\n%s", errUsage, msg("cli.kb.accept_and_reject"), kbLearnUsage())
	}
	if *days <= 0 || *limit <= 0 {
		return usageMsg("cli.kb.days_limit")
	}
	a, err := openCLI(ctx, *cfgPath, getenv)
	if err != nil {
		return err
	}
	defer a.Close()
	cands, err := a.learnCandidates(ctx, time.Now().AddDate(0, 0, -*days), *limit)
	if err != nil {
		return err
	}
	sel, decide := *accept, true
	if *reject != "" {
		sel, decide = *reject, false
	}
	if sel == "" {
		return printLearnCandidates(out, a, cands)
	}
	actor, err := agentFrom(*as, getenv)
	if err != nil {
		return err
	}
	if !a.mayCurate(actor) {
		return failMsg(nil, "cli.kb.learn_supervisor", "name", actor.Name)
	}
	chosen, err := pickCandidates(cands, sel)
	if err != nil {
		return err
	}
	n, err := a.db.DecideLearned(ctx, chosen, decide, actor.ID, time.Now())
	if err != nil {
		return err
	}
	if n > 0 {
		if err := a.db.SetKV(ctx, kvFAQLearned, strconv.FormatInt(time.Now().UnixNano(), 10)); err != nil {
			return err
		}
	}
	say(out, "cli.kb.learned", "n", n, "accepted", decide)
	return nil
}

// mayCurate: configured supervisors; anyone when no agents are configured (single-machine use, as
// for the ticket commands).
func (a *app) mayCurate(actor bot.Actor) bool {
	if len(a.agents) == 0 {
		return true
	}
	for _, ag := range a.agents {
		if ag.ID == actor.ID {
			return ag.Supervisor
		}
	}
	return false
}

// learnCandidates are the undecided confirmations whose wording could become an example: learnable
// (no personal data) and not already answered confidently with their entry by the current library.
// The list is ordered by entry, then time, so its numbers stay put between listing and deciding.
func (a *app) learnCandidates(ctx context.Context, since time.Time, limit int) ([]storage.LearnCandidate, error) {
	all, err := a.db.LearnCandidates(ctx, since, limit)
	if err != nil {
		return nil, err
	}
	var out []storage.LearnCandidate
	for _, c := range all {
		if !kb.Learnable(c.Text) || a.matcher.Entry(c.EntryID, c.Lang) == nil {
			continue
		}
		hits := a.matcher.Match(c.Text, c.Lang, 1)
		if len(hits) > 0 && hits[0].Entry.ID == c.EntryID && a.matcher.Decide(hits) == kb.Answer {
			continue // nothing to learn
		}
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].EntryID < out[j].EntryID })
	return out, nil
}

func printLearnCandidates(w io.Writer, a *app, cands []storage.LearnCandidate) error {
	if len(cands) == 0 {
		say(w, "cli.kb.nothing_to_learn")
		return nil
	}
	var tw table
	tw.header("cli.kb.learn_header")
	for i, c := range cands {
		q := ""
		if e := a.matcher.Entry(c.EntryID, c.Lang); e != nil {
			q = e.Question
		}
		tw.rowf("%d\t%s\t%s\t%s\t%s\n", i+1, c.EntryID, c.Lang, oneLine(c.Text), q)
	}
	tw.print(w)
	fmt.Fprintln(w)
	say(w, "cli.kb.learn_hint")
	return nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func pickCandidates(cands []storage.LearnCandidate, sel string) ([]storage.LearnCandidate, error) {
	if strings.TrimSpace(sel) == "all" {
		return cands, nil
	}
	var out []storage.LearnCandidate
	seen := map[int]bool{}
	for _, part := range strings.Split(sel, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n < 1 || n > len(cands) {
			return nil, usageMsg("cli.kb.bad_pick", "part", part, "max", len(cands))
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, cands[n-1])
		}
	}
	return out, nil
}

// withLearned adds the accepted wordings to lib. A database error keeps lib as it is (logged): the
// library must load even when the learning table cannot be read.
func (a *app) withLearned(ctx context.Context, lib *kb.Library) *kb.Library {
	ls, err := a.db.LearnedExamples(ctx)
	if err != nil {
		a.log.Warn("faq: learned examples not loaded", "err", err)
		return lib
	}
	out, n := lib.WithExamples(ls)
	if n > 0 {
		a.log.Info("faq: learned examples added", "examples", n)
	}
	return out
}

// swapLibrary makes lib (from the file, the database or the sample) the served library, with the
// learned examples added; the base is kept so that a later decision can be applied to it.
func (a *app) swapLibrary(ctx context.Context, lib *kb.Library) {
	a.baseLib.Store(lib)
	a.matcher.Swap(a.withLearned(ctx, lib), a.matchOptions())
}

// watchLearned reloads the served library when a supervisor decides on learned wordings.
func watchLearned(ctx context.Context, a *app) error {
	seen, _, _ := a.db.GetKV(ctx, kvFAQLearned)
	return watchKV(ctx, a, kvFAQLearned, seen, func() bool {
		if base := a.baseLib.Load(); base != nil {
			a.swapLibrary(ctx, base)
		}
		return true
	})
}
