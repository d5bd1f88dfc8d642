package storage

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// sealedModels are the models with personal-data fields (`gorm:"serializer:pii"`). Key rotation,
// erasure and the raw-file tests walk them; TestSealedModelsRegistered fails when a model with such a
// field is missing here.
var sealedModels = []any{
	&customer{}, &identity{}, &conversation{}, &message{}, &ticket{}, &ticketEvent{}, &survey{}, &faqCitation{},
	&unansweredQuestion{}, &outboxRow{}, &faqLearned{}, &complaintDetail{}, &proposalRow{}, &returnVisitRow{},
	&webhookEndpoint{}, &taskRow{}, &faqDraftRow{}, &attachmentBlob{}, &mediaRetryRow{},
}

// SealedColumn is a column that holds sealed personal data.
type SealedColumn struct {
	Table, Column string
	Key           string // the primary key column
	Hash          string // the keyed-hash twin ("" for none)
	// Where limits the column to some rows (ticket_events.text: the kinds that are not bookkeeping).
	Where string
}

var (
	sealedOnce sync.Once
	sealedCols []SealedColumn
	sealedErr  error
)

// SealedColumns lists every sealed column, by table and column.
func SealedColumns() ([]SealedColumn, error) {
	sealedOnce.Do(func() {
		cache := &sync.Map{}
		for _, m := range sealedModels {
			s, err := schema.Parse(m, cache, schema.NamingStrategy{})
			if err != nil {
				sealedErr = fmt.Errorf("storage: sealed columns: %w", err)
				return
			}
			if len(s.PrimaryFields) != 1 {
				sealedErr = fmt.Errorf("storage: sealed columns: %s needs a single-column primary key", s.Table)
				return
			}
			for _, f := range s.Fields {
				if !isPII(f) {
					continue
				}
				c := SealedColumn{Table: s.Table, Column: f.DBName, Key: s.PrimaryFields[0].DBName}
				if h := s.LookUpField(f.DBName + "_hash"); h != nil {
					c.Hash = h.DBName
				}
				sealedCols = append(sealedCols, c)
			}
		}
		// ticket_events.text is sealed by AddEvent for every kind but the bookkeeping ones.
		var plain []string
		for k := range plainEventKinds {
			plain = append(plain, "'"+string(k)+"'")
		}
		sort.Strings(plain)
		sealedCols = append(sealedCols, SealedColumn{Table: "ticket_events", Column: "text", Key: "id",
			Where: "kind NOT IN (" + strings.Join(plain, ", ") + ")"})
		sort.Slice(sealedCols, func(i, j int) bool {
			a, b := sealedCols[i], sealedCols[j]
			return a.Table < b.Table || a.Table == b.Table && a.Column < b.Column
		})
	})
	return sealedCols, sealedErr
}

// ResealStats counts what a pass of Reseal did.
type ResealStats struct {
	Resealed int // values sealed again under the current key (including legacy plain text)
	Pending  int // values found not under the current key (Resealed plus those changed meanwhile)
}

// Reseal makes one pass over every sealed column and seals each value that is not under the current
// key (an old key's, or legacy plain text) again under it, batch rows per transaction, so that the
// server keeps running; hash twins are recomputed with the current key. A row changed concurrently is
// left for the next pass (the update only applies when the value is still the one read). progress,
// when set, is told after each batch.
func (db *DB) Reseal(ctx context.Context, batch int, progress func(col SealedColumn, done int)) (ResealStats, error) {
	if batch <= 0 {
		batch = 500
	}
	cols, err := SealedColumns()
	if err != nil {
		return ResealStats{}, err
	}
	var st ResealStats
	g := db.gdb.WithContext(ctx)
	for _, c := range cols {
		if ok, err := db.hasTable(ctx, c.Table); err != nil {
			return st, err
		} else if !ok {
			continue
		}
		cur := sealPrefix + db.keys.CurrentID() + ":"
		where := c.Column + " <> '' AND " + c.Column + " NOT LIKE '" + cur + "%'"
		if c.Where != "" {
			where += " AND " + c.Where
		}
		var last int64 // every sealed table has an integer key
		done := 0
		for {
			var rows []struct {
				K int64
				V string
				H string
			}
			hashSel := "''"
			if c.Hash != "" {
				hashSel = c.Hash
			}
			q := "SELECT " + c.Key + " AS k, " + c.Column + " AS v, " + hashSel + " AS h FROM " + c.Table +
				" WHERE " + where + " AND " + c.Key + " > ? ORDER BY " + c.Key + " LIMIT ?"
			if err := g.Raw(q, last, batch).Scan(&rows).Error; err != nil {
				return st, fmt.Errorf("storage: reseal %s.%s: %w", c.Table, c.Column, err)
			}
			if len(rows) == 0 {
				break
			}
			err := db.gdb.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
				for _, r := range rows {
					plain, err := db.keys.Open(r.V)
					if err != nil {
						return fmt.Errorf("%s %v: %w", c.Key, r.K, err)
					}
					set := map[string]any{c.Column: db.keys.Seal(plain)}
					if c.Hash != "" {
						h := db.keys.Hash(plain)
						if h == "" {
							h = "-"
						}
						set[c.Hash] = h
					}
					var sets []string
					var args []any
					for _, col := range sortedKeys(set) {
						sets = append(sets, col+" = ?")
						args = append(args, set[col])
					}
					args = append(args, r.K, r.V)
					res := tx.Exec("UPDATE "+c.Table+" SET "+strings.Join(sets, ", ")+" WHERE "+c.Key+" = ? AND "+c.Column+" = ?", args...)
					if res.Error != nil {
						return fmt.Errorf("%s %v: %w", c.Key, r.K, res.Error)
					}
					st.Pending++
					st.Resealed += int(res.RowsAffected)
				}
				return nil
			})
			if err != nil {
				return st, fmt.Errorf("storage: reseal %s.%s: %w", c.Table, c.Column, err)
			}
			done += len(rows)
			last = rows[len(rows)-1].K
			if progress != nil {
				progress(c, done)
			}
		}
	}
	return st, nil
}

// KeyUsage counts, per sealed column, the values under each key id ("plain" for legacy plain text).
func (db *DB) KeyUsage(ctx context.Context) (map[string]map[string]int64, error) {
	cols, err := SealedColumns()
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]int64{}
	for _, c := range cols {
		if ok, err := db.hasTable(ctx, c.Table); err != nil {
			return nil, err
		} else if !ok {
			continue
		}
		where := c.Column + " <> ''"
		if c.Where != "" {
			where += " AND " + c.Where
		}
		expr := "CASE WHEN " + c.Column + " LIKE 'enc1:%' THEN SUBSTR(" + c.Column + ", 6, 8) ELSE 'plain' END"
		var rows []struct {
			K string
			N int64
		}
		if err := db.gdb.WithContext(ctx).Raw("SELECT " + expr + " AS k, COUNT(*) AS n FROM " + c.Table + " WHERE " + where + " GROUP BY 1").Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("storage: key usage %s.%s: %w", c.Table, c.Column, err)
		}
		m := map[string]int64{}
		for _, r := range rows {
			m[r.K] = r.N
		}
		out[c.Table+"."+c.Column] = m
	}
	return out, nil
}

// RecordCurrentKey makes the current key the one the database checks at start (after a rotation
// finished: nothing is sealed with an older key any more).
func (db *DB) RecordCurrentKey(ctx context.Context) error {
	err := db.gdb.WithContext(ctx).Model(&kvRow{}).Where("key = ?", keyCheckKV).
		Updates(map[string]any{"value": db.keys.Seal(keyCheckText), "updated_at": time.Now().UTC()}).Error
	if err != nil {
		return fmt.Errorf("storage: record current key: %w", err)
	}
	return nil
}

func (db *DB) hasTable(ctx context.Context, table string) (bool, error) {
	var n int64
	q := "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
	if db.dialect == Postgres {
		q = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?"
	}
	if err := db.gdb.WithContext(ctx).Raw(q, table).Scan(&n).Error; err != nil {
		return false, fmt.Errorf("storage: table %s: %w", table, err)
	}
	return n > 0, nil
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
