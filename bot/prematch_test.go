package bot_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/flows"
	"github.com/kefu-dev/kefu/kb"
	"github.com/kefu-dev/kefu/locales"
)

// txFlagStore is a store that tells whether a transaction is open (plain Tx: no group commit).
type txFlagStore struct {
	bot.Store
	open atomic.Bool
}

func (s *txFlagStore) Tx(ctx context.Context, fn func(bot.Tx) error) error {
	return s.Store.Tx(ctx, func(tx bot.Tx) error {
		s.open.Store(true)
		defer s.open.Store(false)
		return fn(tx)
	})
}

// txMatcher counts the FAQ lookups made while the store's transaction is open, and all of them.
type txMatcher struct {
	kb.Matcher
	s         *txFlagStore
	inTx, all atomic.Int32
}

func (m *txMatcher) Match(q, lang string, k int) []kb.Hit {
	m.all.Add(1)
	if m.s.open.Load() {
		m.inTx.Add(1)
	}
	return m.Matcher.Match(q, lang, k)
}

// TestDeliverLooksFAQUpOutsideTheTransaction: once the engine knows a chat's state, a customer's
// question is looked up in the FAQ library before the message's transaction (issue 14: on SQLite
// every step runs in the one writer goroutine), once, and answered as before; a message that does
// not go to the library (a yes to "did this help?", a ticket description) is not looked up at all.
func TestDeliverLooksFAQUpOutsideTheTransaction(t *testing.T) {
	forEachDB(t, func(t *testing.T, mk envMaker) {
		e := mk(t)
		st := &txFlagStore{Store: e.db}
		m := &txMatcher{Matcher: kb.NewMatcher(kb.Sample(), kb.MatchOptions{}), s: st}
		fm, err := flows.New(flows.Options{KB: m, Config: flows.DefaultConfig()})
		if err != nil {
			t.Fatal(err)
		}
		eng, err := bot.New(bot.Options{Store: st, Flows: fm, KB: m, Catalog: locales.Default(), Now: e.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		seq := 0
		say := func(text string) []bot.Reply {
			t.Helper()
			seq++
			rs, err := eng.DeliverInline(ctx, bot.Event{Channel: bot.ChannelWeb, MsgID: fmt.Sprint(seq), ChatID: "s1", UserID: "s1",
				Kind: bot.KindText, Text: text, At: e.clock.Now(), LangHint: "zh-CN"})
			if err != nil {
				t.Fatalf("deliver %q: %v", text, err)
			}
			return rs
		}
		say("你好") // a new chat: the engine does not know its state yet
		for i, step := range []struct {
			text      string
			want      string // in the replies
			all, inTx int32  // lookups
		}{
			{"保修期多久", "保修", 1, 0},
			{"是的", "", 0, 0},
			{"怎么退货", "售后", 1, 0},
			{"转人工", "", 0, 0},
			{"冰箱坏了，麻烦尽快处理", "", 0, 0},
		} {
			m.all.Store(0)
			m.inTx.Store(0)
			rs := say(step.text)
			var texts []string
			for _, r := range rs {
				texts = append(texts, r.Text)
			}
			if len(rs) == 0 || !strings.Contains(strings.Join(texts, "\n"), step.want) {
				t.Errorf("%d %q: replies %q, want one with %q", i, step.text, texts, step.want)
			}
			if m.all.Load() != step.all || m.inTx.Load() != step.inTx {
				t.Errorf("%d %q: %d lookups, %d in the transaction; want %d, %d", i, step.text, m.all.Load(), m.inTx.Load(), step.all, step.inTx)
			}
		}
	})
}
