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

// SecretsDir is where kefu keeps local secrets (the first admin's generated password): the
// directory of the encryption key file when the keys come from one, otherwise DataDir(dsn).
func (db *DB) SecretsDir(dsn string) string {
	if db.keys != nil && db.keys.file != "" {
		return filepath.Dir(db.keys.file)
	}
	return DataDir(dsn)
}
