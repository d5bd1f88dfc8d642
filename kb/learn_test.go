package kb

import "testing"

func TestWithExamples(t *testing.T) {
	lib := Sample()
	before := lib.Entry("installation", "zh-CN")
	out, n := lib.WithExamples([]Learned{
		{EntryID: "installation", Lang: "zh-CN", Text: "师傅来装机收钱吗"},
		{EntryID: "installation", Lang: "zh-CN", Text: "师傅来装机收钱吗"},              // twice: once
		{EntryID: "installation", Lang: "zh-CN", Text: before.Question},         // already the question
		{EntryID: "installation", Lang: "en", Text: "do you charge to install"}, // other locale
		{EntryID: "no-such-entry", Lang: "zh-CN", Text: "随便问问"},                 // unknown entry
		{EntryID: "installation", Lang: "zh-CN", Text: "我电话13812345678"},        // personal data
	})
	if n != 2 {
		t.Fatalf("added %d, want 2", n)
	}
	after := out.Entry("installation", "zh-CN")
	if len(after.Examples) != len(before.Examples)+1 || after.Examples[len(after.Examples)-1] != "师傅来装机收钱吗" || after.Learned != 1 {
		t.Fatalf("examples %v learned %d", after.Examples, after.Learned)
	}
	if len(lib.Entry("installation", "zh-CN").Examples) != len(before.Examples) {
		t.Fatal("WithExamples changed the original library")
	}
	if out.Len() != lib.Len() {
		t.Fatalf("entries %d, want %d", out.Len(), lib.Len())
	}
}

// The simulated customer confirms only entries the bot showed and that are right; nothing is
// learned from confident answers or out-of-scope queries.
func TestSimulateLearning(t *testing.T) {
	m := NewMatcher(Sample(), MatchOptions{})
	got := SimulateLearning(m, []LabeledQuery{
		{Text: "装机要给师傅钱吗", Lang: "zh-CN", Expect: "installation"}, // suggested, right one among them
		{Text: "空调安装收费吗", Lang: "zh-CN", Expect: "installation"},  // already answered: nothing to learn
		{Text: "装机要给师傅钱吗", Lang: "zh-CN", Expect: "coupon"},       // the right entry was not shown
		{Text: "今天天气怎么样", Lang: "zh-CN", Expect: ""},              // out of scope
	}, 3)
	if len(got) != 1 || got[0].EntryID != "installation" || got[0].Text != "装机要给师傅钱吗" {
		t.Fatalf("learned %+v", got)
	}
}
