package schema

import (
	"fmt"
	"strings"
)

// NamePattern is a name pattern as pg_dump's -t and -n take it (psql's
// \d patterns, processSQLNamePattern in PostgreSQL's fe_utils), compiled
// to the regular expressions PostgreSQL matches names against with the ~
// operator. Compiling is pure; matching is the server's, so that its
// regular expression engine decides exactly as it does for pg_dump.
//
// The rules, as psql's and pg_dump's: outside double quotes letters are
// folded to lower case, * matches any sequence of characters and ? any one
// character, a dot separates the parts of a qualified name, and the other
// characters are kept as they are, regular expression operators included
// (so a|b, [ab] or a+ keep their meaning there), except that $ and the
// pair [] are always taken literally. Inside double quotes everything is
// literal and case is kept; "" stands for one double quote. Each part is
// anchored: ^(part)$.
type NamePattern struct {
	// Text is the pattern as given.
	Text string
	// Database is the database part of a three-part relation pattern,
	// literally (unquoted letters folded); "" when there is none. pg_dump
	// accepts it only when it names the current database.
	Database string
	// Schema is the regular expression for the schema's name, "" when
	// the pattern names no schema (a relation pattern then matches the
	// relations visible on the search path, as pg_table_is_visible says).
	Schema string
	// Name is the regular expression for the object's name.
	Name string
}

func (p NamePattern) String() string { return p.Text }

// ParseRelationPattern compiles a -t/-T pattern: name, schema.name or
// database.schema.name. More than two dots (outside quotes) is an error,
// worded as pg_dump's.
func ParseRelationPattern(s string) (NamePattern, error) {
	parts, literal, dots := splitPattern(s, 3)
	if dots > 2 {
		return NamePattern{}, fmt.Errorf("improper relation name (too many dotted names): %s", s)
	}
	p := NamePattern{Text: s, Name: parts[len(parts)-1]}
	if len(parts) >= 2 {
		p.Schema = parts[len(parts)-2]
	}
	if len(parts) == 3 {
		p.Database = literal
	}
	return p, nil
}

// ParseSchemaPattern compiles a -n/-N pattern. pg_dump 15 takes no
// qualified schema pattern: with one dot it fails with "cross-database
// references are not implemented" (whatever the database part says, as
// it compares an empty name with the current database), with more with
// "improper qualified name"; so does this.
func ParseSchemaPattern(s string) (NamePattern, error) {
	parts, _, dots := splitPattern(s, 1)
	switch {
	case dots > 1:
		return NamePattern{}, fmt.Errorf("improper qualified name (too many dotted names): %s", s)
	case dots == 1:
		return NamePattern{}, fmt.Errorf("cross-database references are not implemented: %s", s)
	}
	return NamePattern{Text: s, Name: parts[0]}, nil
}

// splitPattern is patternToSQLRegex: it converts s into at most max
// anchored regular expressions, one per dot-separated part (further dots
// stay in the last part, as the regular expression "." does in
// PostgreSQL's, but callers reject them), and returns the literal text of
// the first part (for a database name), and the number of dots outside
// quotes.
func splitPattern(s string, max int) (parts []string, literal string, dots int) {
	var cur, lit strings.Builder
	left := true // still in the first part: record it literally too
	inQuotes := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			if inQuotes && i+1 < len(s) && s[i+1] == '"' {
				cur.WriteByte('"')
				if left {
					lit.WriteByte('"')
				}
				i++
			} else {
				inQuotes = !inQuotes
			}
		case !inQuotes && c >= 'A' && c <= 'Z':
			cur.WriteByte(c + ('a' - 'A'))
			if left {
				lit.WriteByte(c + ('a' - 'A'))
			}
		case !inQuotes && c == '*':
			cur.WriteString(".*")
			if left {
				lit.WriteByte('*')
			}
		case !inQuotes && c == '?':
			cur.WriteByte('.')
			if left {
				lit.WriteByte('?')
			}
		case !inQuotes && c == '.':
			left = false
			dots++
			if len(parts)+1 < max {
				parts = append(parts, "^("+cur.String()+")$")
				cur.Reset()
			} else {
				cur.WriteByte('.')
			}
		case c == '$':
			// Always literal: it may be part of an identifier, and the
			// pattern is anchored anyway.
			cur.WriteString(`\$`)
			if left {
				lit.WriteByte('$')
			}
		default:
			if inQuotes && strings.IndexByte(`|*+?()[]{}.^$\`, c) >= 0 {
				cur.WriteByte('\\')
			} else if c == '[' && i+1 < len(s) && s[i+1] == ']' {
				cur.WriteByte('\\') // an array type's name, not a bracket expression
			}
			cur.WriteByte(c)
			if left {
				lit.WriteByte(c)
			}
		}
	}
	parts = append(parts, "^("+cur.String()+")$")
	return parts, lit.String(), dots
}
