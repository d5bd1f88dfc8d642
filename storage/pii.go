package storage

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/schema"
)

// How other code keeps personal data encrypted (see keys.go for the scheme):
//
//   - A gorm model field that can hold personal data is tagged `gorm:"serializer:pii"`: gorm seals it
//     on Create/Save/Updates (also map updates such as Updates(map[string]any{"summary": s}) and
//     Update("summary", s), which a callback below seals) and opens it on every read into the model.
//     The column stays TEXT.
//   - Never compare such a column in SQL (WHERE phone = ?): the stored text differs every time. Add a
//     keyed-hash column (e.g. phone_hash) filled with db.Keys().Hash(v) and query
//     WHERE phone_hash IN db.Keys().Hashes(v).
//   - Raw SQL that reads such a column into a plain string (reports, exports) gets the sealed text and
//     must call db.Keys().Open(v); raw SQL that writes one must store db.Keys().Seal(v).
//   - New tables with personal data go into piiColumns (rotation and the raw-file test read it).

// piiSerializer seals and opens string fields tagged `gorm:"serializer:pii"`.
type piiSerializer struct{}

func init() { schema.RegisterSerializer("pii", piiSerializer{}) }

type keyringCtxKey struct{}

func withKeyring(ctx context.Context, r *Keyring) context.Context {
	return context.WithValue(ctx, keyringCtxKey{}, r)
}

func keyringFrom(ctx context.Context) (*Keyring, error) {
	if ctx != nil {
		if r, ok := ctx.Value(keyringCtxKey{}).(*Keyring); ok && r != nil {
			return r, nil
		}
	}
	return nil, errors.New("storage: personal data field used outside a storage.DB (no encryption keys)")
}

// Scan implements schema.SerializerInterface.
func (piiSerializer) Scan(ctx context.Context, field *schema.Field, dst reflect.Value, dbValue any) error {
	var s string
	switch v := dbValue.(type) {
	case nil:
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("storage: %s: unexpected %T", field.DBName, dbValue)
	}
	if IsSealed(s) {
		r, err := keyringFrom(ctx)
		if err != nil {
			return err
		}
		if s, err = openPII(r, s); err != nil {
			return fmt.Errorf("storage: %s.%s: %w", field.Schema.Table, field.DBName, err)
		}
	}
	fv := field.ReflectValueOf(ctx, dst)
	if fv.Kind() != reflect.String {
		return fmt.Errorf("storage: %s: serializer pii needs a string field", field.Name)
	}
	fv.SetString(s)
	return nil
}

// Value implements schema.SerializerValuerInterface.
func (piiSerializer) Value(ctx context.Context, field *schema.Field, dst reflect.Value, fieldValue any) (any, error) {
	s, ok := fieldValue.(string)
	if !ok {
		return nil, fmt.Errorf("storage: %s: serializer pii needs a string field, got %T", field.Name, fieldValue)
	}
	if s == "" {
		return "", nil
	}
	r, err := keyringFrom(ctx)
	if err != nil {
		return nil, err
	}
	return sealPII(r, s), nil
}

// sealPII is what the serializer stores for a personal-data value s ("" stays ""); the hand-written
// SQL of hotpath.go writes with it.
func sealPII(r *Keyring, s string) string {
	if s == "" {
		return ""
	}
	return r.Seal(s)
}

// openPII is what the serializer reads from a stored personal-data value: sealed text opened, plain
// text (written before encryption) as it is.
func openPII(r *Keyring, s string) (string, error) {
	if !IsSealed(s) {
		return s, nil
	}
	return r.Open(s)
}

// isPII reports whether a model field is sealed.
func isPII(f *schema.Field) bool {
	return f != nil && f.TagSettings["SERIALIZER"] == "pii"
}

// keyPlugin is registered on the database's *gorm.DB (gorm.DB.Use), so that KeysOf finds the ring
// from any session of it.
type keyPlugin struct{ r *Keyring }

func (keyPlugin) Name() string { return "kefu:keyring" }

func (p keyPlugin) Initialize(gdb *gorm.DB) error { return installKeyring(gdb, p.r) }

// KeysOf returns the key ring of a *gorm.DB that storage opened (nil for any other), for packages that
// run raw SQL on DB.Gorm() and must Open what they read.
func KeysOf(g *gorm.DB) *Keyring {
	if g == nil || g.Config == nil {
		return nil
	}
	if p, ok := g.Config.Plugins[keyPlugin{}.Name()].(keyPlugin); ok {
		return p.r
	}
	return nil
}

// installKeyring makes every statement of gdb carry the key ring in its context (the serializer reads
// it there) and seals map updates of personal-data columns, which gorm passes to SQL without the
// field's serializer.
func installKeyring(gdb *gorm.DB, r *Keyring) error {
	inject := func(tx *gorm.DB) {
		ctx := tx.Statement.Context
		if ctx == nil {
			ctx = context.Background()
		}
		tx.Statement.Context = withKeyring(ctx, r)
	}
	sealMap := func(tx *gorm.DB) {
		if tx.Statement.Schema == nil {
			return
		}
		m, ok := tx.Statement.Dest.(map[string]any)
		if !ok {
			return
		}
		for k, v := range m {
			f := tx.Statement.Schema.LookUpField(k)
			if !isPII(f) {
				continue
			}
			switch x := v.(type) {
			case string:
				m[k] = r.Seal(x)
				if h := tx.Statement.Schema.LookUpField(f.DBName + "_hash"); h != nil {
					m[h.DBName] = r.Hash(x)
				}
			case clause.Expr, nil:
			default:
				tx.AddError(fmt.Errorf("storage: update %s: personal data column set to %T", k, v))
			}
		}
	}
	// fillHashes sets each "<column>_hash" twin of a personal-data column on Create.
	fillHashes := func(tx *gorm.DB) {
		sc := tx.Statement.Schema
		if sc == nil || tx.Statement.Error != nil {
			return
		}
		type pair struct{ src, hash *schema.Field }
		var pairs []pair
		for _, f := range sc.Fields {
			if isPII(f) {
				if h := sc.LookUpField(f.DBName + "_hash"); h != nil {
					pairs = append(pairs, pair{f, h})
				}
			}
		}
		if len(pairs) == 0 {
			return
		}
		ctx := tx.Statement.Context
		set := func(elem reflect.Value) {
			for _, p := range pairs {
				if err := p.hash.Set(ctx, elem, r.Hash(p.src.ReflectValueOf(ctx, elem).String())); err != nil {
					tx.AddError(err)
				}
			}
		}
		rv := reflect.Indirect(tx.Statement.ReflectValue)
		switch rv.Kind() {
		case reflect.Slice, reflect.Array:
			for i := 0; i < rv.Len(); i++ {
				set(reflect.Indirect(rv.Index(i)))
			}
		case reflect.Struct:
			set(rv)
		}
	}
	cb := gdb.Callback()
	for _, err := range []error{
		cb.Create().Before("*").Register("kefu:keyring", inject),
		cb.Create().Before("gorm:create").Register("kefu:hashes", fillHashes),
		cb.Query().Before("*").Register("kefu:keyring", inject),
		cb.Update().Before("*").Register("kefu:keyring", inject),
		cb.Update().Before("gorm:update").Register("kefu:seal_map", sealMap),
		cb.Delete().Before("*").Register("kefu:keyring", inject),
		cb.Row().Before("*").Register("kefu:keyring", inject),
		cb.Raw().Before("*").Register("kefu:keyring", inject),
	} {
		if err != nil {
			return fmt.Errorf("storage: install encryption: %w", err)
		}
	}
	return nil
}

// Keys returns the database's key ring: Seal/Open for raw SQL paths, Hash/Hashes for lookups.
func (db *DB) Keys() *Keyring { return db.keys }

const keyCheckKV = "pii:keycheck"

const keyCheckText = "kefu personal data key check"

// checkKey verifies that the ring opens what the database was sealed with, recording the current key
// on a database that has no record yet. A mismatch fails loudly (ErrWrongKey) instead of writing data
// no one can read together with data the ring cannot read.
func (db *DB) checkKey(ctx context.Context, readOnly bool) error {
	g := db.gdb.WithContext(ctx)
	if readOnly {
		var ms []kvRow
		if err := g.Where("key = ?", keyCheckKV).Find(&ms).Error; err != nil || len(ms) == 0 {
			return nil // not migrated yet, or nothing sealed yet
		}
	} else if err := g.Clauses(clause.OnConflict{DoNothing: true}).
		Create(&kvRow{Key: keyCheckKV, Value: db.keys.Seal(keyCheckText), UpdatedAt: db.now()}).Error; err != nil {
		return fmt.Errorf("storage: record encryption key: %w", err)
	}
	var m kvRow
	if err := g.Where("key = ?", keyCheckKV).Take(&m).Error; err != nil {
		return fmt.Errorf("storage: read encryption key record: %w", err)
	}
	got, err := db.keys.Open(m.Value)
	if err != nil || got != keyCheckText {
		where := "KEFU_ENCRYPTION_KEY"
		if f := db.keys.File(); f != "" {
			where = "key file " + f
		}
		return fmt.Errorf("storage: the database was encrypted with key %s, but %s holds %v: restore the original key "+
			"(or add it below the current one while `kefu keys rotate` runs): %w", SealedWith(m.Value), where, db.keys.IDs(), ErrWrongKey)
	}
	return nil
}

// hashTwins are the personal-data columns with a keyed-hash twin "<column>_hash".
var hashTwins = []struct{ table, column string }{
	{"identities", "platform_user_id"},
	{"customers", "phone"},
	{"customers", "email"},
	{"tickets", "customer_phone"},
}

// backfillHashes fills the hash twins of rows written before they existed (or, after a rotation,
// rows whose hash is stale is the rotation's business). It is idempotent and cheap when there is
// nothing to do.
func (db *DB) backfillHashes(ctx context.Context) error {
	g := db.gdb.WithContext(ctx)
	for _, tw := range hashTwins {
		for {
			var rows []struct {
				ID    int64
				Value string
			}
			q := "SELECT id, " + tw.column + " AS value FROM " + tw.table + " WHERE " + tw.column + "_hash = '' AND " + tw.column + " <> '' ORDER BY id LIMIT 500"
			if err := g.Raw(q).Scan(&rows).Error; err != nil {
				return fmt.Errorf("storage: hash %s.%s: %w", tw.table, tw.column, err)
			}
			if len(rows) == 0 {
				break
			}
			for _, row := range rows {
				v, err := db.keys.Open(row.Value)
				if err != nil {
					return fmt.Errorf("storage: hash %s.%s of row %d: %w", tw.table, tw.column, row.ID, err)
				}
				h := db.keys.Hash(v)
				if h == "" {
					h = "-" // not hashable (blank): mark done
				}
				if err := g.Exec("UPDATE "+tw.table+" SET "+tw.column+"_hash = ? WHERE id = ? AND "+tw.column+"_hash = ''", h, row.ID).Error; err != nil {
					return fmt.Errorf("storage: hash %s.%s of row %d: %w", tw.table, tw.column, row.ID, err)
				}
			}
		}
	}
	return nil
}
