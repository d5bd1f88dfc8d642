package storage

import "path/filepath"

// DataDir is the directory kefu keeps its local files in for the database dsn: the SQLite file's
// directory, or ./data for PostgreSQL (as the key file, see Open).
func DataDir(dsn string) string {
	if IsPostgresDSN(dsn) {
		return filepath.Dir(DefaultSQLitePath)
	}
	path, err := sqlitePath(dsn)
	if err != nil {
		return filepath.Dir(DefaultSQLitePath)
	}
	return filepath.Dir(path)
}
