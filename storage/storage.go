// Package storage persists kefu's customers, conversations, messages, tickets, audit events, FAQ
// library, citations and the outbox with gorm, on embedded SQLite (pure Go, WAL) or PostgreSQL.
// It implements bot.Store and the small store interfaces the adapters declare.
package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	sqlite "github.com/libtnb/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/kefu-dev/kefu/bot"
	"github.com/kefu-dev/kefu/bot/sla"
)

// DefaultSQLitePath is where the zero-setup database lives.
const DefaultSQLitePath = "./data/kefu.db"

// Options tune Open. The zero value is fine.
type Options struct {
	Logger *slog.Logger
	// MaxOpenConns bounds the connection pool (default 8 on PostgreSQL, 4 on SQLite).
	MaxOpenConns int
	// MaxIdleConns is how many idle connections are kept (default MaxOpenConns); ConnMaxLifetime
	// closes connections older than this (default: never), e.g. behind a PgBouncer that recycles.
	MaxIdleConns    int
	ConnMaxLifetime time.Duration
	// Synchronous is SQLite's PRAGMA synchronous: "NORMAL" (default, safe with WAL) or "FULL".
	Synchronous string
	// BusyTimeout is how long SQLite waits for a lock (default 10s).
	BusyTimeout time.Duration
	// SkipMigrations opens the database without migrating (for tools that must not change it).
	SkipMigrations bool
	// Migrate says what Open does with pending migrations (default MigrateApply). Every mode but
	// SkipMigrations refuses a schema with migrations this build does not know (*SchemaTooNewError).
	Migrate MigrateMode
	// SLA, when set, makes the store keep every ticket's SLA clock (see sla.go) so that DB.SLA can
	// serve the bot/sla scanner.
	SLA *sla.Policy
	// GroupCommit makes GroupTx on SQLite share one transaction and COMMIT among the callers waiting
	// together (group.go); off, each GroupTx is a Tx. No effect on PostgreSQL.
	GroupCommit bool
	// Keys encrypt personal data at rest (keys.go). Nil: LoadKeyring(KeySourceFromEnv(os.Getenv, …)),
	// i.e. KEFU_ENCRYPTION_KEY, KEFU_ENCRYPTION_KEY_FILE, or the key file next to the SQLite database
	// (./data/kefu.key for PostgreSQL), created on the first run.
	Keys *Keyring
}

// Dialect is the database kind behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is kefu's database. It is safe for concurrent use.
type DB struct {
	keys    *Keyring
	sla     *sla.Policy
	gdb     *gorm.DB
	dialect Dialect
	log     *slog.Logger
	now     func() time.Time
	out     outage               // database outage state (outage.go)
	group   *committer           // SQLite group commit (group.go), nil when off
	inUse   *os.File             // SQLite: held open (with a shared flock) until Close, see markInUse
	holds   sync.Map             // PostgreSQL: *sql.Tx -> *txStore holding back a session UPDATE (hotpath.go)
	hot     map[string]*sql.Stmt // SQLite: the hot path's prepared statements by SQL (prepared.go)
}

var _ bot.Store = (*DB)(nil)

// IsPostgresDSN reports whether dsn names a PostgreSQL database.
func IsPostgresDSN(dsn string) bool {
	d := strings.TrimSpace(dsn)
	return strings.HasPrefix(d, "postgres://") || strings.HasPrefix(d, "postgresql://") ||
		strings.HasPrefix(d, "host=") || strings.Contains(d, " host=") && strings.Contains(d, "dbname=")
}

// Open connects to dsn and applies pending migrations. A DSN "postgres://…", "postgresql://…" or
// "host=… dbname=…" selects PostgreSQL; anything else is an SQLite file path, optionally written
// "sqlite://path" (an empty dsn means DefaultSQLitePath; its directory is created).
func Open(ctx context.Context, dsn string, o Options) (*DB, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg := &gorm.Config{
		Logger:                 logger.Discard,
		NowFunc:                func() time.Time { return time.Now().UTC() },
		SkipDefaultTransaction: true,
		TranslateError:         false,
	}
	var (
		gdb     *gorm.DB
		dialect Dialect
		err     error
		inUse   *os.File // SQLite: the in-use mark a restore checks (inuse_unix.go)
	)
	keyFile := filepath.Join(filepath.Dir(DefaultSQLitePath), KeyFileName)
	if IsPostgresDSN(dsn) {
		dialect = Postgres
		gdb, err = gorm.Open(postgres.New(postgres.Config{DSN: dsn}), cfg)
		if err != nil {
			return nil, fmt.Errorf("storage: open postgres: %w", err)
		}
		sqlDB, err := gdb.DB()
		if err != nil {
			return nil, fmt.Errorf("storage: open postgres: %w", err)
		}
		n := o.MaxOpenConns
		if n <= 0 {
			n = 8
		}
		setPool(sqlDB, n, o)
	} else {
		dialect = SQLite
		path, err := sqlitePath(dsn)
		if err != nil {
			return nil, err
		}
		keyFile = filepath.Join(filepath.Dir(path), KeyFileName)
		if err := prepareSQLiteFiles(path, log); err != nil {
			return nil, err
		}
		if inUse, err = markInUse(path); err != nil {
			return nil, err
		}
		tuneSQLite(log)
		// The gorm dialector is github.com/libtnb/sqlite, on modernc.org/sqlite itself (issue 14). It
		// replaced github.com/glebarez/sqlite, whose driver is an older fork of modernc.org/sqlite:
		// measured side by side (BenchmarkLoad/sqlite/faq/16, 3 runs each, alternating) the current
		// driver took 1,710-2,460 msgs/s against 1,177-1,661 (0.113-0.123x raw against 0.072-0.089x).
		// Times are written in the format the old driver wrote (libtnb sets _time_format=sqlite), so
		// existing databases read the same; _texttotime=0 (sqliteDSN) keeps text results text, as
		// before (with it, a date() result came back as a time).
		// No gorm PrepareStmt: gorm prepares statements met inside a transaction on that transaction,
		// so database/sql prepares them again in the next one: nothing would be saved (measured with
		// the old driver: no gain; a heap that grew). PostgreSQL's pgx caches prepared statements.
		gdb, err = gorm.Open(sqlite.Open(sqliteDSN(path, o)), cfg)
		if err != nil {
			closeMark(inUse)
			return nil, fmt.Errorf("storage: open sqlite %s: %w", path, err)
		}
		sqlDB, err := gdb.DB()
		if err != nil {
			closeMark(inUse)
			return nil, fmt.Errorf("storage: open sqlite: %w", err)
		}
		n := o.MaxOpenConns
		if n <= 0 {
			n = 4
		}
		setPool(sqlDB, n, o)
	}
	keys := o.Keys
	if keys == nil {
		src := KeySourceFromEnv(os.Getenv, keyFile)
		src.Logger = log
		if keys, err = LoadKeyring(src); err != nil {
			if sqlDB, e := gdb.DB(); e == nil {
				sqlDB.Close()
			}
			closeMark(inUse)
			return nil, err
		}
	}
	if err := gdb.Use(keyPlugin{keys}); err != nil {
		if sqlDB, e := gdb.DB(); e == nil {
			sqlDB.Close()
		}
		closeMark(inUse)
		return nil, fmt.Errorf("storage: %w", err)
	}
	db := &DB{keys: keys, sla: o.SLA, gdb: gdb, dialect: dialect, inUse: inUse, log: log.With("component", "storage", "dialect", string(dialect)), now: func() time.Time { return time.Now().UTC() }}
	if err := db.ping(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.migrateOnOpen(ctx, o); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.checkKey(ctx, o.SkipMigrations); err != nil {
		db.Close()
		return nil, err
	}
	if !o.SkipMigrations {
		if err := db.backfillHashes(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	if dialect == Postgres {
		if err := db.installHeldSessions(); err != nil {
			db.Close()
			return nil, err
		}
	}
	if dialect == SQLite {
		db.prepareHot(ctx)
	}
	if o.GroupCommit && dialect == SQLite {
		db.startGroupCommit()
	}
	return db, nil
}

func (db *DB) ping(ctx context.Context) error {
	sqlDB, err := db.gdb.DB()
	if err != nil {
		return fmt.Errorf("storage: ping: %w", err)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("storage: ping: %w", err)
	}
	return nil
}

// Ping checks that the database answers (for /readyz).
func (db *DB) Ping(ctx context.Context) error { return db.ping(ctx) }

// Dialect reports which database this is.
func (db *DB) Dialect() Dialect { return db.dialect }

// Gorm exposes the underlying *gorm.DB for tools and tests inside this module. Models stay in storage.
func (db *DB) Gorm() *gorm.DB { return db.gdb }

// Close closes the connection pool.
func (db *DB) Close() error {
	db.stopGroupCommit()
	db.closeHot()
	sqlDB, err := db.gdb.DB()
	if err != nil {
		return fmt.Errorf("storage: close: %w", err)
	}
	err = sqlDB.Close()
	closeMark(db.inUse) // after the pool: a restore may replace the file once nothing uses it
	db.inUse = nil
	if err != nil {
		return fmt.Errorf("storage: close: %w", err)
	}
	return nil
}

// closeMark drops the in-use mark (closing the file releases its flock); nil is fine.
func closeMark(f *os.File) {
	if f != nil {
		f.Close()
	}
}

// prepareSQLiteFiles makes the database's directory (0700 when kefu creates it) and creates the
// database file 0600 before SQLite does (SQLite gives its -wal and -shm files the database file's
// mode). Existing files readable by others are restricted to 0600.
func prepareSQLiteFiles(path string, log *slog.Logger) error {
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("storage: create directory for %s: %w", path, err)
		}
	} else if err != nil {
		return fmt.Errorf("storage: directory of %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("storage: open sqlite %s: %w", path, err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm()&0o077 == 0 {
			continue
		}
		if err := os.Chmod(p, 0o600); err != nil {
			return fmt.Errorf("storage: restrict %s to its owner: %w", p, err)
		}
		log.Info("restricted a database file to its owner (mode 0600)", "file", p, "was", st.Mode().Perm().String())
	}
	return nil
}

func sqlitePath(dsn string) (string, error) {
	d := strings.TrimSpace(dsn)
	d = strings.TrimPrefix(d, "sqlite://")
	d = strings.TrimPrefix(d, "sqlite3://")
	d = strings.TrimPrefix(d, "file:")
	if i := strings.IndexByte(d, '?'); i >= 0 {
		d = d[:i]
	}
	if d == "" {
		d = DefaultSQLitePath
	}
	if d == ":memory:" {
		return "", errors.New("storage: in-memory SQLite is not supported (each connection would see its own database); use a file")
	}
	return d, nil
}

func sqliteDSN(path string, o Options) string {
	sync := strings.ToUpper(o.Synchronous)
	if sync == "" {
		sync = "NORMAL"
	}
	busy := o.BusyTimeout
	if busy <= 0 {
		busy = 10 * time.Second
	}
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous("+sync+")")
	// BEGIN IMMEDIATE: a transaction takes the write lock up front, so two read-then-write
	// transactions never deadlock on lock upgrade (SQLITE_BUSY without waiting).
	q.Set("_txlock", "immediate")
	// Text stays text: only columns declared as times are read as time.Time (the dialector's default
	// would also turn a date() result such as the reports' trend keys into a time).
	q.Set("_texttotime", "0")
	return "file:" + path + "?" + q.Encode()
}

// Tx implements bot.Store. A transaction that fails on a transient conflict (PostgreSQL deadlock or
// serialization failure, SQLite busy after its timeout) is run again, up to three times in all, so fn
// must be safe to re-run (it is given a fresh bot.Tx each time).
func (db *DB) Tx(ctx context.Context, fn func(bot.Tx) error) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = db.gdb.WithContext(ctx).Transaction(func(g *gorm.DB) error {
			ts := &txStore{reader: reader{g: g, dialect: db.dialect, keys: db.keys}, sla: db.sla, holds: &db.holds, hot: db.hot}
			defer ts.dropHeld()
			if err := fn(ts); err != nil {
				return err
			}
			return ts.flush(ctx)
		})
		if err == nil || attempt == 3 || !transient(err) || ctx.Err() != nil {
			return err
		}
		db.log.WarnContext(ctx, "transaction conflict; retrying", "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt*attempt) * 10 * time.Millisecond):
		}
	}
}

// transient reports whether err is a conflict that a retry of the whole transaction may clear.
func transient(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "40001", "40P01": // serialization_failure, deadlock_detected
			return true
		}
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "database is locked") || strings.Contains(msg, "SQLITE_BUSY")
}

// reader implements bot.Reader on the pool or inside a transaction.
type reader struct {
	g       *gorm.DB
	dialect Dialect
	keys    *Keyring
}

// txStore implements bot.Tx.
type txStore struct {
	reader
	cached  *conversation        // the conversation SaveInbound resolved (with its session)
	profile *customer            // its customer's intake fields, read by the same query (CustomerProfile)
	sla     *sla.Policy          // keep SLA clocks (nil: off)
	cites   []faqCitation        // PostgreSQL: citations not written yet (Cite; written by enqueuePG or flush)
	held    *heldSession         // PostgreSQL: the session UPDATE not written yet (SaveSession; see hotpath.go)
	heldTx  *sql.Tx              // the transaction held is registered under in holds
	holds   *sync.Map            // the DB's holds (nil: SaveSession writes at once)
	hot     map[string]*sql.Stmt // the DB's prepared statements (SQLite, prepared.go)
}

var _ bot.Tx = (*txStore)(nil)

func (db *DB) r(ctx context.Context) reader {
	return reader{g: db.gdb.WithContext(ctx), dialect: db.dialect, keys: db.keys}
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now().UTC()
	}
	return t.UTC()
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
