package journal

import (
	"strconv"
	"strings"
)

// placeholders is how a database names the parameters of a statement.
type placeholders int

const (
	// question is SQLite's (and MySQL's) "?".
	question placeholders = iota
	// dollar is PostgreSQL's "$1, $2, ...".
	dollar
)

// dialect gathers what differs between SQL databases, so that the queries of
// this package are written once, with "?" placeholders.
type dialect struct {
	name         string
	placeholders placeholders
	// tableExists counts the tables named by its one parameter.
	tableExists string
	// userTables counts the tables that are not the database's own.
	userTables string
}

// sqliteDialect is SQLite's dialect; a function, not a variable, so that no
// code can change it for everyone.
func sqliteDialect() dialect {
	return dialect{
		name:         "sqlite",
		placeholders: question,
		tableExists:  "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
		userTables:   "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
	}
}

// rebind rewrites the "?" placeholders of query into the dialect's style. It
// is the one place that knows about placeholders. A "?" inside a quoted
// string literal or identifier is left alone.
func (d dialect) rebind(query string) string {
	if d.placeholders == question || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	var quote byte // the quote character of the literal being copied, or 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			// A doubled quote inside a literal escapes itself and keeps the
			// literal open: both characters are copied one after the other.
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
