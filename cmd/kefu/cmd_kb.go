package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-dev/kefu/kb"
)

func init() {
	commands["kb"] = command{
		run: func(ctx context.Context, args []string) error {
			return runKB(ctx, args, os.Stdin, os.Stdout)
		},
	}
}

// The usage text is cli.usage.kb in locales/*.cli.yaml.

func runKB(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return usageMsg("cli.args.missing", "what", "cli.what.kb_sub")
	}
	sub, args := args[0], args[1:]
	switch sub { // the database side lives in cmd_kb_db.go
	case "import":
		return kbImport(ctx, args, stdout)
	case "stats":
		return kbStats(ctx, args, stdout)
	case "learn":
		return kbLearn(ctx, args, stdout, os.Getenv)
	case "add", "drafts", "publish", "reject": // cmd_kb_drafts.go
		return kbDrafts(ctx, sub, args, stdout, os.Getenv)
	}
	fs := flag.NewFlagSet("kb "+sub, flag.ContinueOnError)
	faq := fs.String("faq", "", "library file (.yaml, .yml, .jsonl); default: the bundled sample")
	lang := fs.String("lang", "", "locale of the questions (zh-CN, en); empty: all entries")
	k := fs.Int("k", 3, "number of hits to show")
	queries := fs.String("queries", "", "eval: JSONL file of {\"text\",\"expect\"}")
	learn := fs.String("learn", "", "eval: first replay this JSONL file as traffic through the learning loop (kefu kb learn), then evaluate")
	learnSplit := fs.Bool("learn-split", false, "eval: replay the odd lines of --queries as traffic, evaluate on the even lines")
	answerT := fs.Float64("answer-threshold", 0, "confidence to answer directly (default: matcher's)")
	suggestT := fs.Float64("suggest-threshold", 0, "confidence to suggest entries; below is no match (default: matcher's)")
	wordNet := fs.Bool("wordnet", false, "relate English words through WordNet (faq.wordnet)")
	maxPos := 0
	if sub == "match" {
		maxPos = -1 // the question, in words
	}
	pos, err := parseArgs(fs, args, 0, maxPos, "")
	if err != nil {
		return err
	}
	loadStart := time.Now()
	lib := kb.Sample()
	if *faq != "" {
		var err error
		if lib, err = kb.LoadFile(*faq); err != nil {
			return err
		}
	}
	opts := kb.MatchOptions{AnswerThreshold: *answerT, SuggestThreshold: *suggestT, WordNet: *wordNet}
	switch sub {
	case "list":
		return kbList(stdout, lib, *lang)
	case "match":
		m := kb.NewMatcher(lib, opts)
		if len(pos) > 0 {
			return kbMatchOne(stdout, m, strings.Join(pos, " "), *lang, *k)
		}
		return kbMatchBatch(ctx, stdin, stdout, m, *lang)
	case "eval":
		if *queries == "" {
			return usageMsg("cli.kb.eval_needs")
		}
		m := kb.NewMatcher(lib, opts)
		load := time.Since(loadStart)
		if *learn != "" || *learnSplit {
			return kbEvalLearning(ctx, stdout, lib, opts, m, *queries, *learn, *learnSplit, *lang)
		}
		return kbEval(ctx, stdout, m, *queries, *lang, load)
	default:
		return usageMsg("cli.unknown_sub", "sub", sub)
	}
}

func kbList(w io.Writer, lib *kb.Library, lang string) error {
	var tw table
	tw.row(strings.Split(msg("cli.kb.list_header"), "|")...)
	for _, e := range lib.Entries() {
		if lang != "" && e.Lang != lang && e.Lang != "" {
			continue
		}
		tw.row(e.ID, e.Lang, e.Category, strconv.Itoa(len(e.Examples)), e.Question)
	}
	tw.print(w)
	return nil
}

func kbMatchOne(w io.Writer, m *kb.Index, q, lang string, k int) error {
	hits := m.Match(q, lang, k)
	say(w, "cli.kb.decision", "decision", decisionName(m.Decide(hits)))
	var tw table
	tw.row(strings.Split(msg("cli.kb.match_header"), "|")...)
	for _, h := range hits {
		tw.row(fmt.Sprintf("%.3f", h.Score), h.Entry.ID, h.Entry.Lang, h.Entry.Question)
	}
	tw.print(w)
	return nil
}

func decisionName(d kb.Decision) string {
	switch d {
	case kb.Answer:
		return "answer"
	case kb.Suggest:
		return "suggest"
	default:
		return "no match"
	}
}

type kbQuery struct {
	Text   string  `json:"text"`
	Expect *string `json:"expect,omitempty"`
	Lang   string  `json:"lang,omitempty"`
}

type kbPrediction struct {
	Text  string  `json:"text"`
	ID    string  `json:"id"`
	Score float64 `json:"score"`
}

// predict returns the id the bot would use (empty for no match) and the top confidence.
func predict(m *kb.Index, q, lang string) (string, float64) {
	id, _, score := predictTop(m, q, lang)
	return id, score
}

// predictTop is predict that also returns the top entry regardless of the thresholds.
func predictTop(m *kb.Index, q, lang string) (id, top string, score float64) {
	hits := m.Match(q, lang, 3)
	if len(hits) == 0 {
		return "", "", 0
	}
	if m.Decide(hits) == kb.NoMatch {
		return "", hits[0].Entry.ID, hits[0].Score
	}
	return hits[0].Entry.ID, hits[0].Entry.ID, hits[0].Score
}

func readQueries(r io.Reader, name string) ([]kbQuery, error) {
	var out []kbQuery
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var q kbQuery
		if err := json.Unmarshal([]byte(line), &q); err != nil {
			return nil, fmt.Errorf("kb: %s:%d: %w", name, n, err)
		}
		out = append(out, q)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("kb: read %s: %w", name, err)
	}
	return out, nil
}

func kbMatchBatch(ctx context.Context, r io.Reader, w io.Writer, m *kb.Index, lang string) error {
	qs, err := readQueries(r, "stdin")
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, q := range qs {
		if err := ctx.Err(); err != nil {
			return err
		}
		l := lang
		if q.Lang != "" {
			l = q.Lang
		}
		id, score := predict(m, q.Text, l)
		if err := enc.Encode(kbPrediction{Text: q.Text, ID: id, Score: score}); err != nil {
			return fmt.Errorf("kb: write: %w", err)
		}
	}
	return bw.Flush()
}

func kbEval(ctx context.Context, w io.Writer, m *kb.Index, path, lang string, load time.Duration) error {
	qs, err := readQueryFile(path)
	if err != nil {
		return err
	}
	return kbEvalQueries(ctx, w, m, qs, lang, load)
}

func readQueryFile(path string) ([]kbQuery, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("kb: eval: %w", err)
	}
	defer f.Close()
	return readQueries(f, path)
}

func kbEvalQueries(ctx context.Context, w io.Writer, m *kb.Index, qs []kbQuery, lang string, load time.Duration) error {
	var ins, insRight, insTop, oos, oosNone, none, right, answered, wrongAnswered, confidentWrong, answeredRight int
	lat := make([]time.Duration, 0, len(qs))
	for _, q := range qs {
		if err := ctx.Err(); err != nil {
			return err
		}
		l := lang
		if q.Lang != "" {
			l = q.Lang
		}
		start := time.Now()
		id, top, score := predictTop(m, q.Text, l)
		lat = append(lat, time.Since(start))
		want := ""
		if q.Expect != nil {
			want = *q.Expect
		}
		if id == want {
			right++
			if id != "" && score >= m.AnswerThreshold() {
				answeredRight++
			}
		}
		if id == "" {
			none++
		} else {
			answered++
			if id != want {
				wrongAnswered++
				if score >= m.AnswerThreshold() {
					confidentWrong++
				}
			}
		}
		if want == "" {
			oos++
			if id == "" {
				oosNone++
			}
		} else {
			ins++
			if id == want {
				insRight++
			}
			if top == want {
				insTop++
			}
		}
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	ratio := func(a, b int) string {
		if b == 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.4f (%d/%d)", float64(a)/float64(b), a, b)
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	say(w, "cli.kb.eval.queries", "n", len(qs), "ins", ins, "oos", oos, "entries", m.Library().Len())
	say(w, "cli.kb.eval.top1", "v", ratio(right, len(qs)))
	say(w, "cli.kb.eval.in_top1_raw", "v", ratio(insTop, ins))
	say(w, "cli.kb.eval.in_top1", "v", ratio(insRight, ins))
	say(w, "cli.kb.eval.oos_recall", "v", ratio(oosNone, oos))
	say(w, "cli.kb.eval.oos_precision", "v", ratio(oosNone, none))
	say(w, "cli.kb.eval.wrong_rate", "v", ratio(wrongAnswered, answered))
	say(w, "cli.kb.eval.confident_wrong", "v", ratio(confidentWrong, len(qs)))
	say(w, "cli.kb.eval.answered_right", "v", ratio(answeredRight, len(qs)), "threshold", fmt.Sprintf("%.3f", m.AnswerThreshold()))
	say(w, "cli.kb.eval.latency", "p50", pct(0.50), "p90", pct(0.90), "p99", pct(0.99), "load", load.Round(time.Millisecond),
		"heap", fmt.Sprintf("%.1f", float64(ms.HeapAlloc)/(1<<20)))
	return nil
}
