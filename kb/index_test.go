package kb

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMatchSample(t *testing.T) {
	m := NewMatcher(Sample(), MatchOptions{})
	tests := []struct {
		query, lang, want string
	}{
		{"保修期多长时间", "zh-CN", "warranty-period"},
		{"压缩机坏了还保修吗", "zh-CN", "warranty-period"},
		{"我想退掉刚买的洗衣机", "zh-CN", "return-policy"},
		{"退款什么时候到我账上", "zh-CN", "refund-time"},
		{"空调一点都不凉", "zh-CN", "ac-not-cooling"},
		{"能用花呗分期吗", "zh-CN", "installments"},
		{"how long is the warranty on the motor", "en", "warranty-period"},
		{"I want my money back, when does it arrive?", "en", "refund-time"},
		{"my fridge makes a weird clicking noise", "en", "fridge-noise"},
		{"can I pay with alipay", "en", "payment-methods"},
		{"pasword reset", "en", "account-password"}, // typo: character n-grams
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			hits := m.Match(tc.query, tc.lang, 3)
			if len(hits) == 0 {
				t.Fatal("no hits")
			}
			if hits[0].Entry.ID != tc.want || hits[0].Entry.Lang != tc.lang {
				t.Errorf("top hit %s/%s (%.3f), want %s/%s", hits[0].Entry.Lang, hits[0].Entry.ID, hits[0].Score, tc.lang, tc.want)
			}
			for i, h := range hits {
				if h.Score < 0 || h.Score > 1 || (i > 0 && h.Score > hits[i-1].Score) {
					t.Errorf("hit %d score %.3f: want in [0,1], non-increasing", i, h.Score)
				}
			}
		})
	}
}

func TestDecideThresholds(t *testing.T) {
	m := NewMatcher(Sample(), MatchOptions{AnswerThreshold: 0.8, SuggestThreshold: 0.4})
	e := &Entry{ID: "x"}
	tests := []struct {
		hits []Hit
		want Decision
	}{
		{nil, NoMatch},
		{[]Hit{{e, 0.39}}, NoMatch},
		{[]Hit{{e, 0.4}}, Suggest},
		{[]Hit{{e, 0.79}, {e, 0.5}}, Suggest},
		{[]Hit{{e, 0.8}}, Answer},
		{[]Hit{{e, 1}}, Answer},
	}
	for _, tc := range tests {
		if got := m.Decide(tc.hits); got != tc.want {
			t.Errorf("Decide(%v) = %v, want %v", tc.hits, got, tc.want)
		}
	}
	// Defaults and an inverted pair.
	if got := NewMatcher(Sample(), MatchOptions{}).Options(); got.AnswerThreshold != DefaultAnswerThreshold || got.SuggestThreshold != DefaultSuggestThreshold {
		t.Errorf("default options = %+v", got)
	}
	if got := NewMatcher(Sample(), MatchOptions{AnswerThreshold: 0.3, SuggestThreshold: 0.5}).Options(); got.SuggestThreshold != 0.3 {
		t.Errorf("suggest above answer: got %+v, want suggest clamped to 0.3", got)
	}
}

// TestDecideEndToEnd: with default thresholds a close paraphrase is answered, a vague one is
// suggested or answered, and questions outside the library get no match.
func TestDecideEndToEnd(t *testing.T) {
	m := NewMatcher(Sample(), MatchOptions{})
	answer := []struct{ q, lang string }{
		{"请问产品的保修期是多久？", "zh-CN"},
		{"How do I cancel my order?", "en"},
	}
	for _, tc := range answer {
		if hits := m.Match(tc.q, tc.lang, 3); m.Decide(hits) != Answer {
			t.Errorf("%q: decision %v (hits %v), want Answer", tc.q, m.Decide(hits), hits)
		}
	}
	noMatch := []struct{ q, lang string }{
		{"今天天气怎么样", "zh-CN"},
		{"帮我写一首关于月亮的诗", "zh-CN"},
		{"who won the football world cup", "en"},
		{"what is the capital of peru", "en"},
		{"asdfgh qwerty", "en"},
		{"", "en"},
	}
	for _, tc := range noMatch {
		if hits := m.Match(tc.q, tc.lang, 3); m.Decide(hits) != NoMatch {
			t.Errorf("%q: decision %v (top %s %.3f), want NoMatch", tc.q, m.Decide(hits), hits[0].Entry.ID, hits[0].Score)
		}
	}
}

func sorted(s []string) []string { slices.Sort(s); return s }

func TestMatchLangAndEntry(t *testing.T) {
	lib, err := New([]Entry{
		{ID: "a", Lang: "en", Question: "refund policy", Answer: "A-en", Examples: []string{"money back"}},
		{ID: "a", Lang: "zh-CN", Question: "退款政策", Answer: "A-zh"},
		{ID: "n", Question: "refund status 退款进度", Answer: "neutral"},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := NewMatcher(lib, MatchOptions{})
	ids := func(hits []Hit) []string {
		var out []string
		for _, h := range hits {
			out = append(out, h.Entry.ID+"/"+h.Entry.Lang)
		}
		return out
	}
	// Both entries say "refund" once; which ranks first is the scorers' call, the locale filter is
	// what is tested here.
	if diff := cmp.Diff([]string{"a/en", "n/"}, sorted(ids(m.Match("refund", "en", 5)))); diff != "" {
		t.Errorf("en (-want +got):\n%s", diff)
	}
	if got := ids(m.Match("refund", "zh-CN", 5)); len(got) != 1 || got[0] != "n/" {
		t.Errorf("zh-CN hits for an English word = %v, want only the neutral entry", got)
	}
	if got := m.Match("refund", "en", 1); len(got) != 1 {
		t.Errorf("k=1 gave %d hits", len(got))
	}
	if got := m.Match("refund", "en", 0); got != nil {
		t.Errorf("k=0 gave %v", got)
	}
	if e := m.Entry("a", "zh-CN"); e == nil || e.Answer != "A-zh" {
		t.Errorf("Entry(a, zh-CN) = %+v", e)
	}
	if e := m.Entry("a", "fr"); e == nil {
		t.Error("Entry(a, fr) = nil, want a fallback")
	}
	if e := m.Entry("zz", "en"); e != nil {
		t.Errorf("Entry(zz) = %+v, want nil", e)
	}
	if got := NewMatcher(&Library{byKey: map[string]*Entry{}}, MatchOptions{}).Match("x", "", 3); got != nil {
		t.Errorf("empty library: %v", got)
	}
}

func TestMatchSynonymsAndKeywords(t *testing.T) {
	lib, err := New([]Entry{
		{ID: "ret", Lang: "zh-CN", Question: "怎么退货", Answer: "A"},
		{ID: "inv", Lang: "zh-CN", Question: "怎么开发票", Answer: "B"},
		{ID: "kw", Lang: "zh-CN", Question: "延保服务介绍", Answer: "C", Keywords: []string{"以旧换新"}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	plain := NewMatcher(lib, MatchOptions{})
	withSyn := NewMatcher(lib, MatchOptions{Synonyms: map[string][][]string{"zh-CN": {{"退货", "退掉"}}}})
	q := "东西怎么退掉"
	if h := withSyn.Match(q, "zh-CN", 1); len(h) == 0 || h[0].Entry.ID != "ret" {
		t.Errorf("with synonym: %v", h)
	}
	if a, b := plain.Match(q, "zh-CN", 3), withSyn.Match(q, "zh-CN", 3); len(a) > 0 && a[0].Entry.ID == "ret" && a[0].Score >= b[0].Score {
		t.Errorf("synonym did not raise the confidence: %.3f -> %.3f", a[0].Score, b[0].Score)
	}
	if h := plain.Match("以旧换新", "zh-CN", 1); len(h) == 0 || h[0].Entry.ID != "kw" {
		t.Errorf("keyword: %v", h)
	}
}

// synthLibrary makes n entries with 5 examples each from a combinatorial vocabulary, half English,
// half Chinese, for benchmarks.
func synthLibrary(n int) *Library {
	en := strings.Fields("order refund delivery warranty payment account password invoice coupon repair install fridge washer aircon heater screen remote filter noise leak")
	act := strings.Fields("cancel change track check reset book return replace clean connect update delete extend apply use fix")
	zh := []string{"订单", "退款", "配送", "保修", "支付", "账户", "密码", "发票", "优惠券", "维修", "安装", "冰箱", "洗衣机", "空调", "热水器", "屏幕", "遥控器", "滤网", "噪音", "漏水"}
	zact := []string{"取消", "修改", "查询", "重置", "预约", "退回", "更换", "清洗", "连接", "更新", "删除", "延长", "申请", "使用", "修理"}
	entries := make([]Entry, n)
	for i := range entries {
		a, b, c := i%len(en), (i/len(en))%len(act), (i/(len(en)*len(act)))%len(en)
		e := Entry{ID: fmt.Sprintf("e%d", i), Answer: "answer"}
		if i%2 == 0 {
			e.Lang = "en"
			e.Question = fmt.Sprintf("how do i %s the %s %s %d", act[b], en[a], en[c], i)
			for j := 0; j < 5; j++ {
				e.Examples = append(e.Examples, fmt.Sprintf("%s my %s please %s %d", act[(b+j)%len(act)], en[a], en[(c+j)%len(en)], i+j))
			}
		} else {
			e.Lang = "zh-CN"
			e.Question = fmt.Sprintf("怎么%s%s的%s%d", zact[b%len(zact)], zh[a], zh[c], i)
			for j := 0; j < 5; j++ {
				e.Examples = append(e.Examples, fmt.Sprintf("我想%s一下%s和%s%d", zact[(b+j)%len(zact)], zh[a], zh[(c+j)%len(zh)], i+j))
			}
		}
		entries[i] = e
	}
	lib, err := New(entries, nil)
	if err != nil {
		panic(err)
	}
	return lib
}

var benchQueries = []struct{ q, lang string }{
	{"how can i track my refund for the fridge", "en"},
	{"i need to reset the password of my account", "en"},
	{"my washer is leaking water what do i do", "en"},
	{"我想查询一下冰箱订单的退款", "zh-CN"},
	{"空调滤网怎么清洗", "zh-CN"},
	{"what is the weather tomorrow", "en"},
}

// benchMatch reports the mean and the p50/p90/p99 latency of Match+Decide, and the heap the
// matcher holds (heap-MiB: live heap after the build minus before).
func benchMatch(b *testing.B, n int) {
	lib := synthLibrary(n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	m := NewMatcher(lib, MatchOptions{})
	runtime.GC()
	runtime.ReadMemStats(&after)
	lat := make([]time.Duration, 0, 1024)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		q := benchQueries[i%len(benchQueries)]
		start := time.Now()
		m.Decide(m.Match(q.q, q.lang, 3))
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	for _, p := range []struct {
		name string
		q    float64
	}{{"p50-ns", 0.5}, {"p90-ns", 0.9}, {"p99-ns", 0.99}} {
		b.ReportMetric(float64(lat[min(len(lat)-1, int(p.q*float64(len(lat))))]), p.name)
	}
	b.ReportMetric(float64(after.HeapAlloc-min(before.HeapAlloc, after.HeapAlloc))/(1<<20), "heap-MiB")
}

func BenchmarkMatch100(b *testing.B) { benchMatch(b, 100) }
func BenchmarkMatch1k(b *testing.B)  { benchMatch(b, 1000) }
func BenchmarkMatch10k(b *testing.B) { benchMatch(b, 10000) }

func BenchmarkBuild10k(b *testing.B) {
	lib := synthLibrary(10000)
	b.ReportAllocs()
	for b.Loop() {
		NewMatcher(lib, MatchOptions{})
	}
}

// TestPrunedMatchesExhaustive: the pruned scoring of large libraries ranks like the exhaustive walk.
func TestPrunedMatchesExhaustive(t *testing.T) {
	lib := synthLibrary(1500)
	pruned := NewMatcher(lib, MatchOptions{})
	if pruned.fwd == nil {
		t.Fatal("a 1,500-entry library is not pruned")
	}
	defer func(v int) { pruneMinEntries = v }(pruneMinEntries)
	pruneMinEntries = 1 << 30
	full := NewMatcher(lib, MatchOptions{})
	queries := append([]struct{ q, lang string }{
		{"please reset my account password 17", "en"},
		{"cancel the invoice for the heater", "en"},
		{"我想预约一下空调和滤网的维修", "zh-CN"},
		{"怎么更换遥控器的屏幕", "zh-CN"},
	}, benchQueries...)
	for _, q := range queries {
		a, b := pruned.Match(q.q, q.lang, 3), full.Match(q.q, q.lang, 3)
		if len(a) == 0 || len(b) == 0 {
			t.Errorf("%q: %d pruned hits, %d exhaustive", q.q, len(a), len(b))
			continue
		}
		if a[0].Entry.ID != b[0].Entry.ID || math.Abs(a[0].Score-b[0].Score) > 1e-6 {
			t.Errorf("%q: pruned top %s %.4f, exhaustive %s %.4f", q.q, a[0].Entry.ID, a[0].Score, b[0].Entry.ID, b[0].Score)
		}
	}
}

// TestSelfCalibration: a library large enough gets its own confidence offset, near the default and
// the same on every build; a small one keeps the default.
func TestSelfCalibration(t *testing.T) {
	if got := NewMatcher(Sample(), MatchOptions{}).calB; got != defaultTuning.calB {
		t.Errorf("sample library calB = %.4f, want the default %.4f (too few entries to calibrate)", got, defaultTuning.calB)
	}
	lib := topicLibrary(150)
	a, b := NewMatcher(lib, MatchOptions{}), NewMatcher(lib, MatchOptions{})
	if math.Abs(a.calB-b.calB) > 1e-6 { // float sums in map order differ in the last bits
		t.Errorf("calB differs between builds: %.4f, %.4f", a.calB, b.calB)
	}
	if a.calB == defaultTuning.calB || math.Abs(a.calB-defaultTuning.calB) > selfCalRange+1e-9 {
		t.Errorf("calB = %.4f, want calibrated within %.2f of %.2f", a.calB, selfCalRange, defaultTuning.calB)
	}
	// The held-out examples, asked of the full library, are answered or suggested, not refused.
	var refused, asked int
	for _, e := range lib.Entries()[:100] {
		asked++
		if a.Decide(a.Match(e.Examples[0], e.Lang, 3)) == NoMatch {
			refused++
		}
	}
	if refused > asked/20 {
		t.Errorf("%d of %d library examples refused", refused, asked)
	}
}

// topicLibrary makes n English entries, each about its own three made-up words, with four
// paraphrases that use two of them among common words: held-out paraphrases are answerable.
func topicLibrary(n int) *Library {
	rng := rand.New(rand.NewPCG(3, 5))
	syll := strings.Fields("ka lo mi te su ra vo ne pi do ga fu")
	word := func() string {
		var b strings.Builder
		for range 3 {
			b.WriteString(syll[rng.IntN(len(syll))])
		}
		return b.String()
	}
	filler := []string{"how do i", "can you help with", "i have a question about", "what about the", "tell me about my"}
	entries := make([]Entry, n)
	for i := range entries {
		w := []string{word(), word(), word()}
		e := Entry{ID: fmt.Sprintf("t%d", i), Lang: "en", Question: strings.Join(w, " "), Answer: "a"}
		for j := range 4 {
			e.Examples = append(e.Examples, fmt.Sprintf("%s %s %s", filler[(i+j)%len(filler)], w[j%3], w[(j+1)%3]))
		}
		entries[i] = e
	}
	lib, err := New(entries, nil)
	if err != nil {
		panic(err)
	}
	return lib
}

// TestAnalyzerMatchesQueryAnalysis: the build-time analyzer (cached word features, no per-term
// strings) produces exactly the terms a query gets for the same text.
func TestAnalyzerMatchesQueryAnalysis(t *testing.T) {
	m := NewMatcher(Sample(), MatchOptions{})
	an := newAnalyzer(m)
	for _, e := range Sample().Entries() {
		for _, text := range append([]string{e.Question, e.Answer, "Order #42 hasn't arrived, 订单3天没到 iPhone 15"}, e.Examples...) {
			built := an.analyze(text, e.Lang) // may add terms: m is no longer used for matching
			query, unknown := m.analyzeQuery(text, e.Lang, false)
			if unknown != 0 {
				t.Fatalf("%q: %v unknown after the analyzer added its terms", text, unknown)
			}
			got := map[int32]float32{}
			for i, id := range built.ids {
				got[id] = built.ws[i]
			}
			if diff := cmp.Diff(query, got); diff != "" {
				t.Errorf("%q (-query +built):\n%s", text, diff)
			}
		}
	}
}
