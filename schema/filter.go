package schema

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// FilterObject is the object type of a filter file line (pg_dump 17's
// --filter): which option the line stands for.
type FilterObject uint8

// Filter object types, as pg_dump 17's filter.c knows them.
const (
	FilterTable                FilterObject = iota + 1 // table: -t / -T
	FilterTableAndChildren                             // table_and_children
	FilterTableData                                    // table_data: --exclude-table-data
	FilterTableDataAndChildren                         // table_data_and_children
	FilterSchema                                       // schema: -n / -N
	FilterForeignData                                  // foreign_data: --include-foreign-data
	FilterExtension                                    // extension: -e / --exclude-extension
	FilterFunction                                     // function: pg_restore -P
	FilterIndex                                        // index: pg_restore -I
	FilterTrigger                                      // trigger: pg_restore -T
	FilterDatabase                                     // database: pg_dumpall's --exclude-database
)

// filterObjects holds each type's keyword and the name pg_dump's messages
// give it, indexed by FilterObject.
var filterObjects = [...]struct{ keyword, name string }{
	FilterTable:                {"table", "table"},
	FilterTableAndChildren:     {"table_and_children", "table and children"},
	FilterTableData:            {"table_data", "table data"},
	FilterTableDataAndChildren: {"table_data_and_children", "table data and children"},
	FilterSchema:               {"schema", "schema"},
	FilterForeignData:          {"foreign_data", "foreign data"},
	FilterExtension:            {"extension", "extension"},
	FilterFunction:             {"function", "function"},
	FilterIndex:                {"index", "index"},
	FilterTrigger:              {"trigger", "trigger"},
	FilterDatabase:             {"database", "database"},
}

// String is the name pg_dump's messages give the type ("table data").
func (o FilterObject) String() string {
	if o > 0 && int(o) < len(filterObjects) {
		return filterObjects[o].name
	}
	return fmt.Sprintf("filter object %d", uint8(o))
}

// FilterRule is one line of a filter file: include or exclude the objects
// of a type that Pattern names.
type FilterRule struct {
	Include bool
	Object  FilterObject
	// Pattern is the name or pattern as pg_dump 17 reads it: white space
	// around dots, parentheses and commas dropped (", " after a comma),
	// runs of white space between words made one space, double-quoted
	// parts kept with their quotes (a quoted part may span lines; \n and
	// \\ inside it are a newline and a backslash).
	Pattern string
	// Line is the line the rule ends on, counted from 1.
	Line   int
	source string
}

// Command is "include" or "exclude".
func (r FilterRule) Command() string {
	if r.Include {
		return "include"
	}
	return "exclude"
}

// Errorf is an error about the rule, worded as pg_dump's filter errors
// (file and line first).
func (r FilterRule) Errorf(format string, args ...any) error {
	return &FilterError{Source: r.source, Line: r.Line, Msg: fmt.Sprintf(format, args...)}
}

// NotAllowed is pg_dump's error for a rule its program does not take:
// include filter for "function" is not allowed.
func (r FilterRule) NotAllowed() error {
	return r.Errorf(`%s filter for "%s" is not allowed`, r.Command(), r.Object)
}

// FilterError is a filter file that cannot be read as one, or a rule the
// program does not take.
type FilterError struct {
	Source string // the file name, "-" for standard input
	Line   int
	Msg    string
}

func (e *FilterError) Error() string {
	if e.Source == "-" {
		return fmt.Sprintf("invalid format in filter read from standard input on line %d: %s", e.Line, e.Msg)
	}
	return fmt.Sprintf(`invalid format in filter read from file "%s" on line %d: %s`, e.Source, e.Line, e.Msg)
}

// ParseFilter reads a filter file in pg_dump 17's format (source names it
// in errors, "-" meaning standard input). Each line is empty, a comment
// (its first character other than white space is #), or
//
//	include|exclude OBJECT-TYPE PATTERN [# comment]
//
// with the keywords in any case and OBJECT-TYPE one of table,
// table_and_children, table_data, table_data_and_children, schema,
// foreign_data, extension, function, index, trigger and database. Which
// rules a program takes is for it to decide (FilterRule.NotAllowed).
func ParseFilter(r io.Reader, source string) ([]FilterRule, error) {
	p := &filterParser{rd: bufio.NewReader(r), source: source}
	var rules []FilterRule
	for {
		line, ok, err := p.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return rules, nil
		}
		rule, err := p.item(line)
		if err != nil {
			return nil, err
		}
		if rule != nil {
			rules = append(rules, *rule)
		}
	}
}

type filterParser struct {
	rd     *bufio.Reader
	source string
	line   int
}

// next returns the next line, its line ending included; false at the end.
func (p *filterParser) next() (string, bool, error) {
	s, err := p.rd.ReadString('\n')
	if err != nil && err != io.EOF {
		if p.source == "-" {
			return "", false, fmt.Errorf("could not read filter from standard input: %w", err)
		}
		return "", false, fmt.Errorf(`could not read from filter file "%s": %w`, p.source, err)
	}
	if s == "" {
		return "", false, nil
	}
	p.line++
	return s, true, nil
}

func (p *filterParser) fail(msg string) error {
	return &FilterError{Source: p.source, Line: p.line, Msg: msg}
}

func isFilterSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func isFilterAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func skipFilterSpace(s string) string {
	for s != "" && isFilterSpace(s[0]) {
		s = s[1:]
	}
	return s
}

// filterKeyword reads a keyword (a letter, then letters and underscores) after
// white space; "" if there is none.
func filterKeyword(s string) (word, rest string) {
	s = skipFilterSpace(s)
	if s == "" || !isFilterAlpha(s[0]) {
		return "", s
	}
	i := 1
	for i < len(s) && (isFilterAlpha(s[i]) || s[i] == '_') {
		i++
	}
	return s[:i], s[i:]
}

// item parses one line (and the lines a quoted pattern spans); nil for an
// empty line or a comment.
func (p *filterParser) item(s string) (*FilterRule, error) {
	s = skipFilterSpace(s)
	if s == "" || s[0] == '#' {
		return nil, nil
	}
	rule := &FilterRule{source: p.source}
	cmd, s := filterKeyword(s)
	switch {
	case cmd == "":
		return nil, p.fail(`no filter command found (expected "include" or "exclude")`)
	case strings.EqualFold(cmd, "include"):
		rule.Include = true
	case strings.EqualFold(cmd, "exclude"):
	default:
		return nil, p.fail(`invalid filter command (expected "include" or "exclude")`)
	}
	obj, s := filterKeyword(s)
	if obj == "" {
		return nil, p.fail("missing filter object type")
	}
	for i, o := range filterObjects {
		if i > 0 && strings.EqualFold(obj, o.keyword) {
			rule.Object = FilterObject(i)
		}
	}
	if rule.Object == 0 {
		return nil, p.fail(fmt.Sprintf(`unsupported filter object type: "%s"`, obj))
	}
	pattern, err := p.pattern(s)
	if err != nil {
		return nil, err
	}
	rule.Pattern, rule.Line = pattern, p.line
	return rule, nil
}

// pattern reads an object name pattern as pg_dump's read_pattern does; a
// comment may follow it.
func (p *filterParser) pattern(s string) (string, error) {
	s = skipFilterSpace(s)
	if s == "" {
		return "", p.fail("missing object name pattern")
	}
	var b strings.Builder
	skipSpace, foundSpace := true, false
	for s != "" && s[0] != '#' {
		for s != "" && !isFilterSpace(s[0]) && !strings.ContainsRune(`#,.()"`, rune(s[0])) {
			if !skipSpace && foundSpace {
				b.WriteByte(' ')
				skipSpace = true
			}
			b.WriteByte(s[0])
			s = s[1:]
		}
		skipSpace = false
		switch {
		case s == "":
		case s[0] == '"':
			if foundSpace {
				b.WriteByte(' ')
			}
			var err error
			if s, err = p.quoted(s, &b); err != nil {
				return "", err
			}
		case s[0] == ',':
			b.WriteString(", ")
			skipSpace = true
			s = s[1:]
		case strings.ContainsRune(".()", rune(s[0])):
			b.WriteByte(s[0])
			skipSpace = true
			s = s[1:]
		}
		foundSpace = false
		for s != "" && isFilterSpace(s[0]) {
			foundSpace = true
			s = s[1:]
		}
	}
	if b.Len() == 0 {
		return "", p.fail("missing object name pattern")
	}
	return b.String(), nil
}

// quoted copies a double-quoted part, quotes included, reading further
// lines while it is open; it returns what follows the closing quote.
func (p *filterParser) quoted(s string, b *strings.Builder) (string, error) {
	b.WriteByte('"')
	s = s[1:]
	for {
		switch {
		case s == "":
			next, ok, err := p.next()
			if err != nil {
				return "", err
			}
			if !ok {
				return "", p.fail("unexpected end of file")
			}
			b.WriteByte('\n')
			s = next
		case s[0] == '\r' || s[0] == '\n':
			s = s[1:]
		case s[0] == '"':
			b.WriteByte('"')
			if len(s) > 1 && s[1] == '"' {
				b.WriteByte('"')
				s = s[2:]
				continue
			}
			return s[1:], nil
		case s[0] == '\\':
			if len(s) > 1 {
				switch s[1] {
				case 'n':
					b.WriteByte('\n')
				case '\\':
					b.WriteByte('\\')
				}
				s = s[2:]
			} else {
				s = s[1:]
			}
		default:
			b.WriteByte(s[0])
			s = s[1:]
		}
	}
}
