package schema

import "strings"

// Ident quotes an identifier for SQL. Every identifier pgark writes is
// quoted, whatever its spelling, so that mixed case, reserved words, spaces
// and quotes all survive.
func Ident(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// Qualified quotes a schema-qualified name; an empty schema gives the bare name.
func Qualified(schema, name string) string {
	if schema == "" {
		return Ident(name)
	}
	return Ident(schema) + "." + Ident(name)
}

// Literal quotes a string constant for a session with
// standard_conforming_strings on (pgark's sessions always are).
func Literal(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
