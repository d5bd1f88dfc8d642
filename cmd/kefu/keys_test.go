package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kefu-dev/kefu/storage"
	"github.com/kefu-dev/kefu/storage/storetest"
)

// TestKeysRotateWhileServing: `kefu keys rotate` adds a new key to the key file and re-encrypts every
// value in small batches while kefu keeps writing; afterwards every value (also those
// written during the rotation) is under the new key, the old key is gone from the file, a fresh
// process reads everything with the new key alone, and the server still works.
func TestKeysRotateWhileServing(t *testing.T) {
	t.Setenv(storage.EnvEncryptionKey, "")
	t.Setenv(storage.EnvEncryptionKeyFile, "")
	dbURL := filepath.Join(t.TempDir(), "kefu.db")
	s := startJourneyServer(t, dbURL, nil, nil)
	getenv := dbEnv(dbURL)
	// Some history under the first key, including a ticket.
	sess := s.session()
	r := s.say(sess, nil, "你好，我的电话是13812345678")
	s.say(sess, r, "转人工")
	oldID := s.db.Keys().CurrentID()
	keyFile := filepath.Join(filepath.Dir(dbURL), storage.KeyFileName)

	done := make(chan error, 1)
	var out bytes.Buffer
	go func() {
		done <- runKeys(context.Background(), []string{"rotate", "--batch", "3"}, &out, getenv)
	}()
	// A second kefu process keeps writing personal data during the rotation (the web chat's own rate
	// limits would slow the server down too much for a test).
	other := openTestDB(t, dbURL)
	writes := 0
	for running := true; running; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("keys rotate: %v\n%s", err, out.String())
			}
			running = false
		default:
			storetest.Journey(t, other, "13912345678")
			writes++
		}
	}
	if writes == 0 {
		t.Fatal("no message was written during the rotation")
	}
	mustContain(t, "keys rotate", out.String(), "new key", "re-encrypted", "old keys removed")

	b, _ := os.ReadFile(keyFile)
	keys, err := storage.ParseKeys(string(b))
	if err != nil || len(keys) != 1 {
		t.Fatalf("key file after rotation holds %d keys (%v), want the new one only", len(keys), err)
	}
	if st, _ := os.Stat(keyFile); st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", st.Mode().Perm())
	}
	var status bytes.Buffer
	if err := runKeys(context.Background(), []string{"status"}, &status, getenv); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(status.String(), oldID) || strings.Contains(status.String(), "plain") {
		t.Errorf("values left under the old key %s or in plain text:\n%s", oldID, status.String())
	}
	// The server still works (it picked up the new key), and a new process reads everything.
	s.say(s.session(), nil, "after the rotation")
	db := openTestDB(t, dbURL)
	if db.Keys().CurrentID() == oldID {
		t.Fatal("the key did not change")
	}
	conv, err := db.ConversationByChat(context.Background(), "web", sess)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := db.Transcript(context.Background(), conv.ID)
	if err != nil || len(ms) == 0 || !strings.Contains(ms[0].Text, "13812345678") {
		t.Fatalf("transcript after rotation: %+v, %v", ms, err)
	}
	status.Reset()
	runKeys(context.Background(), []string{"status"}, &status, getenv)
	if strings.Contains(status.String(), oldID) {
		t.Errorf("a value written after the rotation is under the old key:\n%s", status.String())
	}
}
