package conn

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// This file turns what the user typed after -d (or as the positional
// DBNAME) into a settings map, and settings maps back into one keyword/value
// string for pgconn.ParseConfig. pgconn does the real parsing; we parse first
// only to know which keywords the user set (pg_dump lets those override -h,
// -p and -U) and to take the secrets out before anything can echo them.
//
// The grammars follow libpq's conninfo_parse and conninfo_uri_parse_options
// (src/interfaces/libpq/fe-connect.c) and pgconn's parse_url.go, which mirrors
// them. No error from this file quotes its input: a malformed string is where
// a password is most likely to end up somewhere unexpected.

// isConnString reports whether s is a connection string rather than a plain
// database name, using libpq's rule (recognized_connection_string): a URI
// prefix or an '=' anywhere.
func isConnString(s string) bool {
	return uriPrefixLen(s) > 0 || strings.Contains(s, "=")
}

func uriPrefixLen(s string) int {
	for _, p := range []string{"postgresql://", "postgres://"} {
		if strings.HasPrefix(s, p) {
			return len(p)
		}
	}
	return 0
}

// parseConnString parses a libpq keyword/value string or a postgres:// URI
// into keyword -> value, with libpq's keyword spelling ("dbname", not
// "database"). Later occurrences of a keyword win, as in libpq.
func parseConnString(s string) (map[string]string, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, errors.New("connection string contains a NUL byte")
	}
	if uriPrefixLen(s) > 0 {
		return parseURI(s)
	}
	return parseKeywordValue(s)
}

func isSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\v', '\f':
		return true
	}
	return false
}

// canonicalKey maps pgconn's alias "database" to libpq's "dbname" so that a
// keyword has one spelling in our maps.
func canonicalKey(k string) string {
	if k == "database" {
		return "dbname"
	}
	return k
}

// parseKeywordValue implements libpq's conninfo_parse: keyword = value pairs
// separated by whitespace; values may be single-quoted; a backslash makes the
// next character literal, quoted or not.
func parseKeywordValue(s string) (map[string]string, error) {
	settings := make(map[string]string)
	i := 0
	for {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i == len(s) {
			return settings, nil
		}
		start := i
		for i < len(s) && s[i] != '=' && !isSpace(s[i]) {
			i++
		}
		key := s[start:i]
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i == len(s) || s[i] != '=' {
			return nil, fmt.Errorf(`invalid connection string: missing "=" after the keyword at offset %d`, start)
		}
		if key == "" {
			return nil, fmt.Errorf("invalid connection string: empty keyword at offset %d", start)
		}
		i++ // '='
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		var val strings.Builder
		if i < len(s) && s[i] == '\'' {
			i++
			closed := false
			for i < len(s) {
				c := s[i]
				if c == '\\' {
					i++
					if i < len(s) {
						val.WriteByte(s[i])
						i++
					}
					continue
				}
				if c == '\'' {
					i++
					closed = true
					break
				}
				val.WriteByte(c)
				i++
			}
			if !closed {
				return nil, fmt.Errorf("invalid connection string: unterminated quoted value for the keyword at offset %d", start)
			}
		} else {
			for i < len(s) && !isSpace(s[i]) {
				if s[i] == '\\' {
					i++
					if i == len(s) {
						break
					}
				}
				val.WriteByte(s[i])
				i++
			}
		}
		settings[canonicalKey(key)] = val.String()
	}
}

// parseURI implements libpq's URI syntax:
//
//	postgresql://[user[:password]@][host][:port][,...][/dbname][?param=value&...]
//
// Components are percent-decoded; host and port become comma-separated lists
// aligned by position (an empty element means "the default"), as libpq keeps
// them. The JDBC-style ssl=true means sslmode=require.
func parseURI(s string) (map[string]string, error) {
	settings := make(map[string]string)
	p := s[uriPrefixLen(s):]

	// Like libpq, look ahead for '@' only up to the first '/'.
	if i := strings.IndexAny(p, "@/"); i >= 0 && p[i] == '@' {
		user, password, hasPassword := strings.Cut(p[:i], ":")
		p = p[i+1:]
		if user != "" {
			v, err := uriDecode(user)
			if err != nil {
				return nil, fmt.Errorf("invalid URI: user name: %w", err)
			}
			settings["user"] = v
		}
		if hasPassword && password != "" {
			v, err := uriDecode(password)
			if err != nil {
				return nil, fmt.Errorf("invalid URI: password: %w", err)
			}
			settings["password"] = v
		}
	}

	var hosts, ports strings.Builder
	for {
		if strings.HasPrefix(p, "[") {
			end := strings.IndexByte(p, ']')
			switch {
			case end < 0:
				return nil, errors.New(`invalid URI: missing "]" after IPv6 host address`)
			case end == 1:
				return nil, errors.New("invalid URI: empty IPv6 host address")
			}
			hosts.WriteString(p[1:end])
			p = p[end+1:]
			if p != "" && !strings.ContainsRune(":/?,", rune(p[0])) {
				return nil, errors.New(`invalid URI: unexpected character after IPv6 host address (expected ":" or "/")`)
			}
		} else {
			end := strings.IndexAny(p, ":/?,")
			if end < 0 {
				end = len(p)
			}
			hosts.WriteString(p[:end])
			p = p[end:]
		}
		if strings.HasPrefix(p, ":") {
			p = p[1:]
			end := strings.IndexAny(p, "/?,")
			if end < 0 {
				end = len(p)
			}
			ports.WriteString(p[:end])
			p = p[end:]
		}
		if !strings.HasPrefix(p, ",") {
			break
		}
		p = p[1:]
		hosts.WriteByte(',')
		ports.WriteByte(',')
	}
	if hosts.Len() > 0 {
		v, err := uriDecode(hosts.String())
		if err != nil {
			return nil, fmt.Errorf("invalid URI: host: %w", err)
		}
		settings["host"] = v
	}
	if ports.Len() > 0 {
		v, err := uriDecode(ports.String())
		if err != nil {
			return nil, fmt.Errorf("invalid URI: port: %w", err)
		}
		settings["port"] = v
	}

	if strings.HasPrefix(p, "/") {
		db := p[1:]
		p = ""
		if i := strings.IndexByte(db, '?'); i >= 0 {
			db, p = db[:i], db[i:]
		}
		if db != "" {
			v, err := uriDecode(db)
			if err != nil {
				return nil, fmt.Errorf("invalid URI: database name: %w", err)
			}
			settings["dbname"] = v
		}
	}

	if strings.HasPrefix(p, "?") {
		sslTrueLast := false
		for pair := range strings.SplitSeq(p[1:], "&") {
			rawKey, rawVal, ok := strings.Cut(pair, "=")
			if !ok {
				return nil, errors.New(`invalid URI: query parameter without "="`)
			}
			if strings.Contains(rawVal, "=") {
				return nil, errors.New(`invalid URI: query parameter with more than one "="`)
			}
			key, err := uriDecode(rawKey)
			if err != nil {
				return nil, fmt.Errorf("invalid URI: query parameter name: %w", err)
			}
			key = canonicalKey(key)
			val, err := uriDecode(rawVal)
			if err != nil {
				return nil, fmt.Errorf("invalid URI: query parameter value: %w", err)
			}
			switch key {
			case "ssl":
				sslTrueLast = val == "true"
			case "sslmode":
				sslTrueLast = false
			}
			settings[key] = val
		}
		if settings["ssl"] == "true" {
			delete(settings, "ssl")
			if sslTrueLast {
				settings["sslmode"] = "require"
			}
		}
	}
	return settings, nil
}

// uriDecode percent-decodes one URI component with libpq's rules: exactly
// two hex digits after '%', %00 forbidden, leading and trailing spaces
// skipped, inner spaces rejected.
func uriDecode(raw string) (string, error) {
	raw = strings.Trim(raw, " ")
	if strings.Contains(raw, " ") {
		return "", errors.New("unexpected space (use %20)")
	}
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		if raw[i] != '%' {
			b.WriteByte(raw[i])
			continue
		}
		if i+2 >= len(raw) {
			return "", errors.New("invalid percent-encoded token")
		}
		hi, ok1 := unhex(raw[i+1])
		lo, ok2 := unhex(raw[i+2])
		if !ok1 || !ok2 {
			return "", errors.New("invalid percent-encoded token")
		}
		c := hi<<4 | lo
		if c == 0 {
			return "", errors.New("forbidden percent-encoded value %00")
		}
		b.WriteByte(c)
		i += 2
	}
	return b.String(), nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// quoteValue quotes v for a keyword/value connection string: always
// single-quoted, with backslash and single quote backslash-escaped, so any
// value (spaces, quotes, backslashes, empty) reads back exactly.
func quoteValue(v string) string {
	var b strings.Builder
	b.Grow(len(v) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' || v[i] == '\'' {
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	b.WriteByte('\'')
	return b.String()
}

// validKey reports whether k is acceptable as a keyword: libpq keywords
// and server parameter names (which pgconn passes on as run-time
// parameters) are made of ASCII letters, digits, '_' and '.'. This also
// keeps a composed string from ever looking like a URI.
func validKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// kv is one keyword/value pair; order matters, later pairs win.
type kv struct{ key, val string }

// composeConnString renders pairs as a keyword/value string with every value
// quoted. Pairs must have valid keys and no NUL bytes.
func composeConnString(pairs []kv) string {
	var b strings.Builder
	for _, p := range pairs {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p.key)
		b.WriteByte('=')
		b.WriteString(quoteValue(p.val))
	}
	return b.String()
}

// sortedPairs returns m as pairs in key order, for a deterministic string.
func sortedPairs(m map[string]string) []kv {
	pairs := make([]kv, 0, len(m))
	for k, v := range m {
		pairs = append(pairs, kv{k, v})
	}
	sort.Slice(pairs, func(i, j int) bool { return pairs[i].key < pairs[j].key })
	return pairs
}
