package kb

import (
	"fmt"
	"testing"
)

// thesaurusLibrary: two entries say "reservation" in one example and "booking" in another, so the
// mined thesaurus relates the two words; a third entry only says "booking"; filler entries make the
// two words rare enough to count.
func thesaurusLibrary(t *testing.T) *Library {
	entries := []Entry{
		{ID: "cancel", Question: "how do i cancel my reservation", Examples: []string{"please drop my booking"}, Answer: "a"},
		{ID: "move", Question: "can i move my reservation to friday", Examples: []string{"shift the booking to another day"}, Answer: "a"},
		{ID: "price", Question: "what does a booking cost", Answer: "a"},
		{ID: "delivery", Question: "what does a delivery cost", Answer: "a"},
		{ID: "hours", Question: "when are you open", Examples: []string{"opening hours"}, Answer: "a"},
	}
	for i := 0; i < 80; i++ {
		w := fmt.Sprintf("%c%c%c", 'a'+i%26, 'k'+i/26, 'x'+i%3)
		entries = append(entries, Entry{ID: "filler" + w, Question: "question about " + w + "thing", Answer: "a"})
	}
	lib, err := New(entries, nil)
	if err != nil {
		t.Fatal(err)
	}
	return lib
}

func TestMinedThesaurus(t *testing.T) {
	lib := thesaurusLibrary(t)
	tn := defaultTuning
	tn.wn = 0 // WordNet relates reservation and booking too (wordnet_test.go): the thesaurus alone here
	// Most entries here have a question only: a few-shot library, where one entry's pair would be
	// enough (TestThesaurusFewShot). This test is about the two-entry rule of the others.
	tn.thesFew = 0
	ix := newIndex(lib, MatchOptions{}, tn)
	related := func(a, b string) bool {
		for _, r := range ix.thes[ix.vocab[kWord+a]] {
			if r.id == ix.vocab[kWord+b] {
				return true
			}
		}
		return false
	}
	if !related("reserv", "book") || !related("book", "reserv") {
		t.Fatalf("reservation and booking (paired in two entries) are not related: %v", ix.thes)
	}
	if related("cancel", "drop") {
		t.Error("cancel and drop are paired in one entry only, yet related")
	}
	// The query's own word is not there for "price"; its related word is.
	tn.thes = 0
	off := newIndex(lib, MatchOptions{}, tn)
	if off.thes != nil {
		t.Fatal("thesaurus built with weight 0")
	}
	// "price" never says reservation; through booking it pulls ahead of "delivery", which shares
	// the rest of the wording.
	margin := func(ix *Index, q string) float64 {
		r := ix.rank(q, "", 2)
		if lib.entries[r[0].doc].ID != "price" || lib.entries[r[1].doc].ID != "delivery" {
			t.Fatalf("%q ranks %s, %s; want price, delivery", q, lib.entries[r[0].doc].ID, lib.entries[r[1].doc].ID)
		}
		return r[0].score - r[1].score
	}
	for _, q := range []string{"what is the cost of a reservation", "how much does reserving cost"} {
		if with, without := margin(ix, q), margin(off, q); with < without*1.3 {
			t.Errorf("%q: margin of price over delivery %.4f with the thesaurus, %.4f without", q, with, without)
		}
	}
}
