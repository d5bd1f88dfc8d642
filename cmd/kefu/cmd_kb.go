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
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kefu-dev/kefu/kb"
)

func init() {
	commands["kb"] = command{
		usage:   kbUsage,
		summary: "FAQ library: list, match (one question or JSONL batch), eval, import, stats",
		run: func(ctx context.Context, args []string) error {
			return runKB(ctx, args, os.Stdin, os.Stdout)
		},
	}
}

const kbUsage = `usage:
  kefu kb list  [--faq FILE] [--lang L]
  kefu kb match [--faq FILE] [--lang L] [-k N] "question"     top entries with confidence
  kefu kb match [--faq FILE] [--lang L] < queries.jsonl       batch: {"text"} lines in, {"text","id","score"} lines out
  kefu kb eval  --faq FILE --queries FILE [--lang L]           accuracy, out-of-scope precision/recall, latency
                [--learn TRAFFIC.jsonl | --learn-split]        ... before and after the learning loop replays traffic
  kefu kb import FILE                                          load a library into the database (replaces the sample)
  kefu kb stats [--days N]                                     per-entry hits and helpful rate, top unanswered questions
  kefu kb learn [--accept all|ID,… | --reject ID,…]            customers' confirmed wordings: list, accept as examples, reject
  kefu kb add --from GD…                                       a draft entry from a resolved ticket's reply (personal data removed)
  kefu kb drafts | publish ID | reject ID "reason"             supervisors review, publish (the library reloads) or reject drafts
Without --faq the bundled sample FAQ is used. Thresholds: --answer-threshold, --suggest-threshold;
--wordnet relates English words through WordNet (faq.wordnet).`

func runKB(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return usagef("missing subcommand (list, match, eval, import, stats, learn, add, drafts, publish, reject)")
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
			return usagef("eval needs --queries FILE")
		}
		m := kb.NewMatcher(lib, opts)
		load := time.Since(loadStart)
		if *learn != "" || *learnSplit {
			return kbEvalLearning(ctx, stdout, lib, opts, m, *queries, *learn, *learnSplit, *lang)
		}
		return kbEval(ctx, stdout, m, *queries, *lang, load)
	default:
		return usagef("unknown subcommand %q", sub)
	}
}

func kbList(w io.Writer, lib *kb.Library, lang string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tLOCALE\tCATEGORY\tEXAMPLES\tQUESTION")
	for _, e := range lib.Entries() {
		if lang != "" && e.Lang != lang && e.Lang != "" {
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", e.ID, e.Lang, e.Category, len(e.Examples), e.Question)
	}
	return tw.Flush()
}

func kbMatchOne(w io.Writer, m *kb.Index, q, lang string, k int) error {
	hits := m.Match(q, lang, k)
	fmt.Fprintf(w, "decision: %s\n", decisionName(m.Decide(hits)))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCORE\tID\tLOCALE\tQUESTION")
	for _, h := range hits {
		fmt.Fprintf(tw, "%.3f\t%s\t%s\t%s\n", h.Score, h.Entry.ID, h.Entry.Lang, h.Entry.Question)
	}
	return tw.Flush()
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
	fmt.Fprintf(w, "queries: %d (%d in scope, %d out of scope); entries: %d\n", len(qs), ins, oos, m.Library().Len())
	fmt.Fprintf(w, "top-1 accuracy (all): %s\n", ratio(right, len(qs)))
	fmt.Fprintf(w, "in-scope top-1 accuracy (no threshold): %s\n", ratio(insTop, ins))
	fmt.Fprintf(w, "in-scope top-1 accuracy: %s\n", ratio(insRight, ins))
	fmt.Fprintf(w, "out-of-scope recall: %s\n", ratio(oosNone, oos))
	fmt.Fprintf(w, "out-of-scope precision: %s\n", ratio(oosNone, none))
	fmt.Fprintf(w, "wrong-answer rate: %s\n", ratio(wrongAnswered, answered))
	fmt.Fprintf(w, "confident wrong answers (score >= answer threshold, wrong entry): %s\n", ratio(confidentWrong, len(qs)))
	fmt.Fprintf(w, "answered right (score >= answer threshold, right entry): %s; this library's answer threshold: %.3f\n", ratio(answeredRight, len(qs)), m.AnswerThreshold())
	fmt.Fprintf(w, "latency p50 %v p90 %v p99 %v; load %v; heap %.1f MiB\n",
		pct(0.50), pct(0.90), pct(0.99), load.Round(time.Millisecond), float64(ms.HeapAlloc)/(1<<20))
	return nil
}
