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
	"github.com/kefu-dev/kefu/storage"
)

// txWatch marks when a transaction body runs, so a matcher can tell where it is called from.
type txWatch struct {
	*storage.DB
	in atomic.Bool
}

func (w *txWatch) Tx(ctx context.Context, fn func(bot.Tx) error) error {
	return w.DB.Tx(ctx, func(tx bot.Tx) error { w.in.Store(true); defer w.in.Store(false); return fn(tx) })
}

func (w *txWatch) GroupTx(ctx context.Context, fn func(bot.Tx) error) error {
	return w.DB.GroupTx(ctx, func(tx bot.Tx) error { w.in.Store(true); defer w.in.Store(false); return fn(tx) })
}

// whereMatcher counts lookups made inside and outside a transaction.
type whereMatcher struct {
	kb.Matcher
	w               *txWatch
	inside, outside atomic.Int32
}

func (m *whereMatcher) Match(q, lang string, k int) []kb.Hit {
	if m.w.in.Load() {
		m.inside.Add(1)
	} else {
		m.outside.Add(1)
	}
	return m.Matcher.Match(q, lang, k)
}

// TestPrematchOutsideTransaction: once the engine knows a conversation waits for a question, the FAQ
// lookup of the next message runs before the transaction (issue 14: on SQLite every step runs in the
// one group-commit writer), once, and gives the same answer. A hint in the wrong language costs a
// second lookup inside, never a wrong answer.
func TestPrematchOutsideTransaction(t *testing.T) {
	forEachDB(t, func(t *testing.T, mk envMaker) {
		e := mk(t)
		w := &txWatch{DB: e.db}
		wm := &whereMatcher{Matcher: kb.NewMatcher(kb.Sample(), kb.MatchOptions{}), w: w}
		m, err := flows.New(flows.Options{KB: wm, Config: flows.DefaultConfig()})
		if err != nil {
			t.Fatal(err)
		}
		eng, err := bot.New(bot.Options{Store: w, Flows: m, KB: wm, Catalog: locales.Default(), Now: e.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		n := 0
		send := func(chat, text string) []bot.Reply {
			t.Helper()
			n++
			rs, err := eng.DeliverInline(ctx, bot.Event{Channel: bot.ChannelWeb, MsgID: fmt.Sprint("m", n), ChatID: chat, UserID: chat,
				Kind: bot.KindText, Text: text, LangHint: "zh-CN", At: e.clock.Now()})
			if err != nil {
				t.Fatal(err)
			}
			return rs
		}
		send("s1", "你好") // first message: nothing known before it
		wm.inside.Store(0)
		wm.outside.Store(0)
		rs := send("s1", "保修期多久")
		if in, out := wm.inside.Load(), wm.outside.Load(); in != 0 || out != 1 {
			t.Errorf("second message: %d lookups inside the transaction, %d before it; want 0 and 1", in, out)
		}
		if len(rs) == 0 || !containsText(rs, "保修") {
			t.Errorf("second message not answered from the FAQ: %+v", rs)
		}

		// The customer switches to English: the hint still says zh-CN, so the prematch (zh-CN) is not
		// used and the step looks the question up again in English.
		send("s1", "/lang en")
		wm.inside.Store(0)
		wm.outside.Store(0)
		rs = send("s1", "How long is the warranty?")
		if wm.inside.Load()+wm.outside.Load() == 0 {
			t.Fatal("no lookup")
		}
		if !containsText(rs, "warranty") {
			t.Errorf("English question after /lang en not answered in English: %+v", rs)
		}
	})
}

func containsText(rs []bot.Reply, s string) bool {
	for _, r := range rs {
		if strings.Contains(r.Text, s) {
			return true
		}
	}
	return false
}
