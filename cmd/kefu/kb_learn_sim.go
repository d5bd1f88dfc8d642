package main

import (
	"context"
	"io"
	"time"

	"github.com/kefu-dev/kefu/kb"
)

// kbEvalLearning measures the learning loop (issue 18): it evaluates, replays traffic through
// kb.SimulateLearning (a customer confirms an entry only when the bot showed it and it is the right
// one), adds every confirmation as an example as a supervisor accepting them in bulk would, rebuilds
// the matcher and evaluates again on the same queries. With split, the odd lines of the queries file
// are the traffic and the even lines the evaluation, so nothing evaluated was learned.
func kbEvalLearning(ctx context.Context, w io.Writer, lib *kb.Library, opts kb.MatchOptions, m *kb.Index, queriesPath, trafficPath string, split bool, lang string) error {
	qs, err := readQueryFile(queriesPath)
	if err != nil {
		return err
	}
	var traffic []kbQuery
	switch {
	case split:
		var eval []kbQuery
		for i, q := range qs {
			if i%2 == 0 {
				traffic = append(traffic, q)
			} else {
				eval = append(eval, q)
			}
		}
		qs = eval
	default:
		if traffic, err = readQueryFile(trafficPath); err != nil {
			return err
		}
	}
	say(w, "cli.kb.before_learning")
	if err := kbEvalQueries(ctx, w, m, qs, lang, 0); err != nil {
		return err
	}
	stream := make([]kb.LabeledQuery, 0, len(traffic))
	for _, q := range traffic {
		l := lang
		if q.Lang != "" {
			l = q.Lang
		}
		want := ""
		if q.Expect != nil {
			want = *q.Expect
		}
		stream = append(stream, kb.LabeledQuery{Text: q.Text, Lang: l, Expect: want})
	}
	learned := kb.SimulateLearning(m, stream, 3)
	lib2, added := lib.WithExamples(learned)
	start := time.Now()
	m2 := kb.NewMatcher(lib2, opts)
	say(w, "cli.kb.after_learning", "traffic", len(traffic), "confirmations", len(learned), "added", added,
		"took", time.Since(start).Round(time.Millisecond))
	return kbEvalQueries(ctx, w, m2, qs, lang, time.Since(start))
}
