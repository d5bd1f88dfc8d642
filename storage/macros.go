package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/kefu-dev/kefu/bot"
)

// Macro is a canned reply (migration 0137). Team "" is for every team.
type Macro struct {
	ID        int64
	Team      string
	Name      string
	Body      string
	CreatedBy string
	CreatedAt time.Time
}

type macroRow struct {
	ID        int64 `gorm:"primaryKey"`
	Team      string
	Name      string
	Body      string
	CreatedBy string
	CreatedAt time.Time
}

func (macroRow) TableName() string { return "macros" }

func (m macroRow) toMacro() Macro {
	return Macro{ID: m.ID, Team: m.Team, Name: m.Name, Body: m.Body, CreatedBy: m.CreatedBy, CreatedAt: m.CreatedAt.UTC()}
}

// AddMacro stores a macro; a name the team already has gives bot.ErrDuplicate.
func (db *DB) AddMacro(ctx context.Context, m Macro) (Macro, error) {
	row := macroRow{Team: m.Team, Name: m.Name, Body: m.Body, CreatedBy: m.CreatedBy, CreatedAt: db.now()}
	err := db.gdb.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&macroRow{}).Where("team = ? AND name = ?", m.Team, m.Name).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return bot.ErrDuplicate
		}
		return tx.Create(&row).Error
	})
	if err != nil {
		if errors.Is(err, bot.ErrDuplicate) || strings.Contains(err.Error(), "UNIQUE") || strings.Contains(err.Error(), "23505") {
			return Macro{}, fmt.Errorf("storage: macro %q of team %q: %w", m.Name, m.Team, bot.ErrDuplicate)
		}
		return Macro{}, fmt.Errorf("storage: add macro: %w", err)
	}
	return row.toMacro(), nil
}

// Macros lists, by team then name, the macros of the given teams ("" in teams: the ones for every
// team); no teams lists them all.
func (db *DB) Macros(ctx context.Context, teams ...string) ([]Macro, error) {
	g := db.gdb.WithContext(ctx).Order("team, name")
	if len(teams) > 0 {
		g = g.Where("team IN ?", teams)
	}
	var rows []macroRow
	if err := g.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: macros: %w", err)
	}
	out := make([]Macro, len(rows))
	for i, r := range rows {
		out[i] = r.toMacro()
	}
	return out, nil
}

// MacroByID returns a macro or bot.ErrNotFound.
func (db *DB) MacroByID(ctx context.Context, id int64) (Macro, error) {
	var r macroRow
	if err := db.gdb.WithContext(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return Macro{}, fmt.Errorf("storage: macro %d: %w", id, bot.ErrNotFound)
		}
		return Macro{}, fmt.Errorf("storage: macro %d: %w", id, err)
	}
	return r.toMacro(), nil
}

// DeleteMacro removes a macro (bot.ErrNotFound when there is none).
func (db *DB) DeleteMacro(ctx context.Context, id int64) error {
	res := db.gdb.WithContext(ctx).Exec("DELETE FROM macros WHERE id = ?", id)
	if res.Error != nil {
		return fmt.Errorf("storage: delete macro %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("storage: macro %d: %w", id, bot.ErrNotFound)
	}
	return nil
}
