package storage_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// noKeyEnv clears the key variables so that a test sees the zero-configuration behaviour.
func noKeyEnv(t *testing.T) {
	t.Setenv(storage.EnvEncryptionKey, "")
	t.Setenv(storage.EnvEncryptionKeyFile, "")
}

func TestKeyringSealOpen(t *testing.T) {
	k1, k2 := storage.GenerateKey(), storage.GenerateKey()
	keys1, _ := storage.ParseKeys(k1)
	keys2, _ := storage.ParseKeys(k2)
	r1, err := storage.NewKeyring(keys1...)
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := storage.NewKeyring(keys2[0], keys1[0])
	if err != nil {
		t.Fatal(err)
	}
	other, _ := storage.NewKeyring(keys2...)

	for _, plain := range []string{"张三 13812345678", "x", "身份证 110101199003074514\n邮箱 a@b.cn"} {
		a, b := r1.Seal(plain), r1.Seal(plain)
		if a == b {
			t.Errorf("two seals of %q are equal (nonce reused?)", plain)
		}
		if (len(plain) > 3 && strings.Contains(a, plain)) || !storage.IsSealed(a) || storage.SealedWith(a) != r1.CurrentID() {
			t.Errorf("seal(%q) = %q", plain, a)
		}
		for name, r := range map[string]*storage.Keyring{"same ring": r1, "rotated ring (old key)": rotated} {
			if got, err := r.Open(a); err != nil || got != plain {
				t.Errorf("%s: open = %q, %v; want %q", name, got, err, plain)
			}
		}
		if _, err := other.Open(a); !errors.Is(err, storage.ErrWrongKey) {
			t.Errorf("open with another key: %v, want ErrWrongKey", err)
		}
		// Flip one character of the ciphertext: authentication fails.
		bad := []byte(a)
		bad[len(bad)-3] ^= 1
		if _, err := r1.Open(string(bad)); !errors.Is(err, storage.ErrWrongKey) {
			t.Errorf("open tampered value: %v, want ErrWrongKey", err)
		}
	}
	if r1.Seal("") != "" {
		t.Error("the empty string must stay empty")
	}
	if got, err := r1.Open("legacy plain text"); err != nil || got != "legacy plain text" {
		t.Errorf("plain text = %q, %v", got, err)
	}
	// Hashes: equal phone numbers in any notation hash equally; other keys hash differently.
	h := r1.Hash("13812345678")
	for _, v := range []string{"+86 138-1234-5678", "0086 13812345678", " 138 1234 5678 "} {
		if r1.Hash(v) != h {
			t.Errorf("Hash(%q) differs from Hash(13812345678)", v)
		}
	}
	if other.Hash("13812345678") == h || strings.Contains(h, "5678") {
		t.Errorf("hash %q", h)
	}
	if hs := rotated.Hashes("13812345678"); len(hs) != 2 || hs[1] != h {
		t.Errorf("rotated hashes %v should end with the old key's %s", hs, h)
	}
	if _, err := storage.ParseKeys("not-a-key"); err == nil {
		t.Error("a malformed key must be refused")
	}
}

// TestZeroConfigKeyFile: the first run creates a 0600 key file next to the database, in a 0700
// directory, says so once, and the database files are 0600.
func TestZeroConfigKeyFile(t *testing.T) {
	noKeyEnv(t)
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "kefu.db")
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	for i := 0; i < 2; i++ {
		db, err := storage.Open(context.Background(), path, storage.Options{Logger: log})
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		storetest.Journey(t, db, "13812345678")
		db.Close()
	}
	if n := strings.Count(logs.String(), "created a new encryption key"); n != 1 {
		t.Errorf("the key file creation was logged %d times, want once:\n%s", n, logs.String())
	}
	for _, c := range []struct {
		path string
		mode os.FileMode
	}{{dir, 0o700}, {filepath.Join(dir, storage.KeyFileName), 0o600}, {path, 0o600}, {path + "-wal", 0o600}, {path + "-shm", 0o600}} {
		st, err := os.Stat(c.path)
		if err != nil {
			if strings.HasSuffix(c.path, "-wal") || strings.HasSuffix(c.path, "-shm") {
				continue // checkpointed away at close
			}
			t.Fatal(err)
		}
		if st.Mode().Perm() != c.mode {
			t.Errorf("%s: mode %v, want %v", c.path, st.Mode().Perm(), c.mode)
		}
	}
	// A database file created world-readable by an older kefu is restricted at the next start.
	os.Chmod(path, 0o644)
	db, err := storage.Open(context.Background(), path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("existing database file left at %v", st.Mode().Perm())
	}
	if st, _ := os.Stat(path + "-wal"); st != nil && st.Mode().Perm() != 0o600 {
		t.Errorf("WAL file at %v", st.Mode().Perm())
	}
}

// TestWrongKeyFailsAtStart: a database opened with a key other than its own refuses to start, with an
// error that names the key ids, and writes nothing.
func TestWrongKeyFailsAtStart(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		noKeyEnv(t)
		dir := t.TempDir()
		dsn := filepath.Join(dir, "kefu.db")
		if strings.HasSuffix(t.Name(), "/postgres") {
			dsn, _ = storetest.PostgresSchemaDSN(t)
		}
		keyFile := filepath.Join(dir, "k1.key")
		t.Setenv(storage.EnvEncryptionKeyFile, keyFile)
		db, err := storage.Open(context.Background(), dsn, storage.Options{})
		if err != nil {
			t.Fatal(err)
		}
		storetest.Journey(t, db, "13812345678")
		id := db.Keys().CurrentID()
		db.Close()

		t.Setenv(storage.EnvEncryptionKeyFile, filepath.Join(dir, "other.key"))
		_, err = storage.Open(context.Background(), dsn, storage.Options{})
		if !errors.Is(err, storage.ErrWrongKey) || !strings.Contains(err.Error(), id) {
			t.Fatalf("open with another key: %v; want ErrWrongKey naming key %s", err, id)
		}
		t.Setenv(storage.EnvEncryptionKeyFile, "")
		t.Setenv(storage.EnvEncryptionKey, storage.GenerateKey())
		if _, err = storage.Open(context.Background(), dsn, storage.Options{}); !errors.Is(err, storage.ErrWrongKey) {
			t.Fatalf("open with KEFU_ENCRYPTION_KEY of another key: %v; want ErrWrongKey", err)
		}
		// The right key, given inline, still opens it.
		b, _ := os.ReadFile(keyFile)
		t.Setenv(storage.EnvEncryptionKey, string(b))
		db, err = storage.Open(context.Background(), dsn, storage.Options{})
		if err != nil {
			t.Fatalf("open with the right key inline: %v", err)
		}
		db.Close()
	})
}

// TestPersonalDataRoundTrip: what is sealed reads back the same through every reader.
func TestPersonalDataRoundTrip(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		db := open(t)
		ctx := context.Background()
		tk := storetest.Journey(t, db, "13812345678")
		got, err := db.TicketByNo(ctx, tk.No)
		if err != nil {
			t.Fatal(err)
		}
		if got.CustomerName != "王小明" || got.CustomerPhone != "13812345678" || !strings.Contains(got.Description, "110101199003074514") {
			t.Errorf("ticket read back as %+v", got)
		}
		evs, err := db.TicketEvents(ctx, tk.ID)
		if err != nil || len(evs) == 0 || !strings.Contains(evs[0].Text, "13812345678") {
			t.Errorf("events %+v, %v", evs, err)
		}
		conv, err := db.Conversation(ctx, tk.ConversationID)
		if err != nil || conv.UserName != "王小明" {
			t.Errorf("conversation %+v, %v", conv, err)
		}
		ms, err := db.Transcript(ctx, tk.ConversationID)
		if err != nil || len(ms) < 2 || !strings.Contains(ms[0].Text, "13812345678") {
			t.Errorf("transcript %+v, %v", ms, err)
		}
		// The same platform user is found again by the hash of their id: no second identity.
		var again bot.Conversation
		err = db.Tx(ctx, func(tx bot.Tx) error {
			var err error
			again, err = tx.SaveInbound(ctx, bot.Event{Channel: bot.ChannelTelegram, MsgID: "again", ChatID: "chat-pii", UserID: "u-pii",
				Kind: bot.KindText, Text: "again", At: time.Now()})
			return err
		})
		if err != nil || again.CustomerID != tk.CustomerID {
			t.Errorf("second message: customer %d, %v; want %d", again.CustomerID, err, tk.CustomerID)
		}
		var n int64
		db.Gorm().Raw("SELECT COUNT(*) FROM identities").Scan(&n)
		if n != 1 {
			t.Errorf("%d identities, want 1", n)
		}
	})
}

// TestNoPlaintextInDatabaseFiles reads the raw SQLite files (database and WAL) after a journey and
// every table's text on both databases: no personal data in plain text.
func TestNoPlaintextInDatabaseFiles(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		db := open(t)
		phone := "13987654321"
		storetest.Journey(t, db, phone)
		secrets := append([]string{phone}, storetest.JourneySecrets...)
		dump := storetest.DumpTables(t, db)
		for _, s := range secrets {
			if strings.Contains(dump, s) {
				t.Errorf("the tables hold %q in plain text", s)
			}
		}
		if !strings.Contains(dump, "enc1:") {
			t.Fatal("nothing sealed: the dump cannot be right")
		}
		if db.Dialect() != storage.SQLite {
			return
		}
		var path string
		db.Gorm().Raw("SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&path)
		raw := []byte{}
		for _, p := range []string{path, path + "-wal"} {
			b, err := os.ReadFile(p)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			raw = append(raw, b...)
		}
		if len(raw) == 0 {
			t.Fatal("no database files read")
		}
		for _, s := range secrets {
			if bytes.Contains(raw, []byte(s)) {
				t.Errorf("the database files hold %q in plain text", s)
			}
		}
	})
}

// TestResealLegacyPlainText: rows written before encryption (plain text) are read as they are, and one
// Reseal pass seals them (hash twins included) so that KeyUsage finds nothing in plain text.
func TestResealLegacyPlainText(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open storetest.Opener) {
		db := open(t)
		ctx := context.Background()
		tk := storetest.Journey(t, db, "13812345678")
		g := db.Gorm()
		// What an older kefu left behind.
		for _, q := range []string{
			"UPDATE tickets SET customer_phone = '13700000000', customer_phone_hash = '', summary = 'legacy 13700000000'",
			"UPDATE messages SET text = 'legacy text 13700000000'",
			"UPDATE ticket_events SET text = 'legacy event 13700000000' WHERE kind = 'note'",
		} {
			if err := g.Exec(q).Error; err != nil {
				t.Fatal(err)
			}
		}
		got, err := db.TicketByNo(ctx, tk.No)
		if err != nil || got.CustomerPhone != "13700000000" {
			t.Fatalf("legacy ticket read as %q, %v", got.CustomerPhone, err)
		}
		st, err := db.Reseal(ctx, 2, nil)
		if err != nil || st.Resealed < 3 {
			t.Fatalf("reseal: %+v, %v", st, err)
		}
		usage, err := db.KeyUsage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for col, m := range usage {
			if m["plain"] > 0 {
				t.Errorf("%s: %d values still in plain text", col, m["plain"])
			}
		}
		if strings.Contains(storetest.DumpTables(t, db), "13700000000") {
			t.Error("plain text left after Reseal")
		}
		got, err = db.TicketByNo(ctx, tk.No)
		if err != nil || got.CustomerPhone != "13700000000" || got.Summary != "legacy 13700000000" {
			t.Errorf("resealed ticket reads %+v, %v", got, err)
		}
		var n int64
		g.Raw("SELECT COUNT(*) FROM tickets WHERE customer_phone_hash IN ?", db.Keys().Hashes("137 0000 0000")).Scan(&n)
		if n != 1 {
			t.Errorf("phone hash lookup finds %d tickets, want 1", n)
		}
		if st, _ := db.Reseal(ctx, 2, nil); st.Pending != 0 {
			t.Errorf("a second pass found %d values to reseal", st.Pending)
		}
	})
}
