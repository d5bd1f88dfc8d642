package storage

import (
	"log/slog"
	"sync"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// SQLite's statement journal (issue 14). Inside a transaction, every statement that may fail
// half-way (a multi-row INSERT, a foreign-key check, a conflict clause) first copies each page it
// changes into a statement journal, so that a failure undoes only that statement. SQLite keeps that
// journal in memory in chunks of SQLITE_STMTJRNL_SPILL bytes (64 KiB) before spilling it to a file.
// The pure-Go build's allocator gives every allocation that large its own mmap and munmaps it on
// free, so each such statement paid two system calls and a page-table update: a quarter of the
// group-commit writer's time in the 16-customer FAQ benchmark (pprof: _memjrnlWrite → mmap/munmap).
// SQLITE_CONFIG_STMTJRNL_SPILL -1 keeps the journal in memory in SQLite's small default chunks
// (1 KiB), which the allocator serves from its slabs. Nothing spills to disk either way for kefu's
// statements (a few pages each), and a statement journal never outlives its statement.
//
// sqlite3_config must run before SQLite initializes (the first connection does that); called later
// it answers SQLITE_MISUSE and nothing changes, which is logged and harmless.
var (
	tuneOnce sync.Once
	// stmtJournalRC is what sqlite3_config answered (SQLITE_OK when the setting took).
	stmtJournalRC int32
)

func tuneSQLite(log *slog.Logger) {
	tuneOnce.Do(func() {
		tls := libc.NewTLS()
		defer tls.Close()
		va := libc.NewVaList(int32(-1))
		defer libc.Xfree(tls, va)
		stmtJournalRC = sqlite3.Xsqlite3_config(tls, sqlite3.SQLITE_CONFIG_STMTJRNL_SPILL, va)
		if stmtJournalRC != sqlite3.SQLITE_OK {
			log.Debug("sqlite: statement journal setting not applied", "rc", stmtJournalRC)
		}
	})
}
