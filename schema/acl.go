package schema

import (
	"errors"
	"fmt"
	"strings"
)

// ErrBadACL is returned for an aclitem that is not in aclitemout's format.
var ErrBadACL = errors.New("schema: malformed aclitem")

// ACLItem is one entry of an access control list, in the text form the
// server prints (aclitemout): grantee=privileges/grantor, with privileges
// as letters ("arwdDxt" for a table's), each followed by "*" when it is
// held WITH GRANT OPTION, and names double-quoted when they need it:
// `alice=r*w/bob`, `=X/owner` (PUBLIC), `"Mr ""X"""=U/owner`.
type ACLItem struct {
	Grantee string // role name; "" means PUBLIC
	Grantor string
	// Privs are the privilege letters held, in the order given.
	Privs string
	// GrantOption are the letters of Privs held WITH GRANT OPTION.
	GrantOption string
}

// privilegeCodes are every privilege letter aclitemout prints, in its
// order (ACL_ALL_RIGHTS_STR): SELECT... TRUNCATE, EXECUTE, USAGE, CREATE,
// TEMPORARY, CONNECT, SET, ALTER SYSTEM, MAINTAIN.
const privilegeCodes = "arwdDxtXUCTcsAm"

// ParseACLItem parses one aclitem in the server's text form.
func ParseACLItem(s string) (ACLItem, error) {
	var a ACLItem
	grantee, rest, err := aclName(s, '=')
	if err != nil || rest == "" || rest[0] != '=' {
		return a, fmt.Errorf("%w: %q: no grantee", ErrBadACL, s)
	}
	a.Grantee = grantee
	rest = rest[1:]
	for rest != "" && rest[0] != '/' {
		c := rest[0]
		if !strings.ContainsRune(privilegeCodes, rune(c)) || strings.IndexByte(a.Privs, c) >= 0 {
			return a, fmt.Errorf("%w: %q: privilege %q", ErrBadACL, s, c)
		}
		a.Privs += string(c)
		rest = rest[1:]
		if rest != "" && rest[0] == '*' {
			a.GrantOption += string(c)
			rest = rest[1:]
		}
	}
	if rest == "" {
		return a, fmt.Errorf("%w: %q: no grantor", ErrBadACL, s)
	}
	grantor, rest, err := aclName(rest[1:], 0)
	if err != nil || rest != "" || grantor == "" {
		return a, fmt.Errorf("%w: %q: bad grantor", ErrBadACL, s)
	}
	a.Grantor = grantor
	return a, nil
}

// aclName reads a role name up to stop (or the end when stop is 0): a bare
// name, or a double-quoted one in which "" stands for ".
func aclName(s string, stop byte) (name, rest string, err error) {
	if s == "" || s[0] != '"' {
		i := 0
		for i < len(s) && (stop == 0 || s[i] != stop) && s[i] != '"' && s[i] != '/' {
			i++
		}
		return s[:i], s[i:], nil
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] != '"' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '"' {
			b.WriteByte('"')
			i++
			continue
		}
		return b.String(), s[i+1:], nil
	}
	return "", "", ErrBadACL
}

// String is the item in aclitemout's form.
func (a ACLItem) String() string {
	var b strings.Builder
	b.WriteString(aclQuote(a.Grantee))
	b.WriteByte('=')
	for i := 0; i < len(a.Privs); i++ {
		b.WriteByte(a.Privs[i])
		if strings.IndexByte(a.GrantOption, a.Privs[i]) >= 0 {
			b.WriteByte('*')
		}
	}
	b.WriteByte('/')
	b.WriteString(aclQuote(a.Grantor))
	return b.String()
}

// aclQuote quotes a role name as aclitemout does: unless it is all ASCII
// letters, digits and underscores.
func aclQuote(name string) string {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
		}
	}
	return name
}

// Privilege is one privilege GRANT names: its aclitem letter and keyword.
type Privilege struct {
	Code    byte
	Keyword string
}

// Privileges lists the privileges an object type has, as GRANT spells the
// type ("TABLE", "SEQUENCE", "FUNCTION", "PROCEDURE", "SCHEMA", "TYPE",
// "DOMAIN", "LANGUAGE", "DATABASE", "FOREIGN DATA WRAPPER",
// "FOREIGN SERVER", "LARGE OBJECT", "TABLESPACE", "PARAMETER"), in
// pg_dump's order. Column privileges are a table's SELECT, INSERT,
// REFERENCES and UPDATE. maintain says the server has the MAINTAIN table
// privilege (PostgreSQL 17 and later). It returns nil for an unknown type.
func Privileges(objType string, column, maintain bool) []Privilege {
	switch objType {
	case "TABLE":
		p := []Privilege{{'r', "SELECT"}, {'a', "INSERT"}, {'x', "REFERENCES"}}
		if !column {
			p = append(p, Privilege{'d', "DELETE"}, Privilege{'t', "TRIGGER"}, Privilege{'D', "TRUNCATE"})
			if maintain {
				p = append(p, Privilege{'m', "MAINTAIN"})
			}
		}
		return append(p, Privilege{'w', "UPDATE"})
	case "SEQUENCE":
		return []Privilege{{'r', "SELECT"}, {'U', "USAGE"}, {'w', "UPDATE"}}
	case "FUNCTION", "PROCEDURE":
		return []Privilege{{'X', "EXECUTE"}}
	case "SCHEMA":
		return []Privilege{{'C', "CREATE"}, {'U', "USAGE"}}
	case "TYPE", "DOMAIN", "LANGUAGE", "FOREIGN DATA WRAPPER", "FOREIGN SERVER":
		return []Privilege{{'U', "USAGE"}}
	case "DATABASE":
		return []Privilege{{'C', "CREATE"}, {'c', "CONNECT"}, {'T', "TEMPORARY"}}
	case "LARGE OBJECT":
		return []Privilege{{'r', "SELECT"}, {'w', "UPDATE"}}
	case "TABLESPACE":
		return []Privilege{{'C', "CREATE"}}
	case "PARAMETER":
		return []Privilege{{'s', "SET"}, {'A', "ALTER SYSTEM"}}
	}
	return nil
}

// GrantTarget is what GRANT and REVOKE statements name.
type GrantTarget struct {
	// Type is the object type as GRANT spells it: "TABLE" (also for
	// views, materialized views and foreign tables), "SEQUENCE"... (see
	// Privileges).
	Type string
	// Name is the quoted object name that follows the type: `"s"."t"`,
	// `"s"."f"(integer)`, `"s"`.
	Name string
	// Column is the (unquoted) column name for column privileges, else "".
	Column string
	// Owner is the object's owner: grants it made need no change of
	// session authorization.
	Owner string
	// Maintain says the server has the MAINTAIN table privilege
	// (PostgreSQL 17+), which "ALL" then includes.
	Maintain bool
}

// ACLStatements renders the statements that take an object from its base
// ACL (the object type's default, acldefault(), or the initial privileges
// in pg_init_privs) to acl, the way pg_dump's buildACLCommands does: first
// REVOKE each base item that acl lacks, then GRANT each acl item that base
// lacks, "ALL" when an item holds every privilege of the type, WITH GRANT
// OPTION for privileges held so, and grants made by a role other than the
// owner inside SET SESSION AUTHORIZATION. Items are compared whole, so a
// changed item is revoked and granted again. The statements end with ";"
// and are separated by newlines; "" means nothing to do.
func ACLStatements(t GrantTarget, acl, base []string) (string, error) {
	privs := Privileges(t.Type, t.Column != "", t.Maintain)
	if privs == nil {
		return "", fmt.Errorf("schema: privileges of %q: unknown object type", t.Type)
	}
	parse := func(items []string) ([]ACLItem, map[string]bool, error) {
		out := make([]ACLItem, 0, len(items))
		set := map[string]bool{}
		for _, s := range items {
			a, err := ParseACLItem(s)
			if err != nil {
				return nil, nil, err
			}
			out = append(out, a)
			set[a.String()] = true
		}
		return out, set, nil
	}
	have, haveSet, err := parse(acl)
	if err != nil {
		return "", err
	}
	from, fromSet, err := parse(base)
	if err != nil {
		return "", err
	}
	on := " ON " + t.Type + " " + t.Name + " "
	var b strings.Builder
	for _, a := range from {
		if haveSet[a.String()] {
			continue
		}
		// Revoke everything the item held, grant options included.
		p, _ := privilegeList(privs, a.Privs, "", t.Column)
		if p != "" {
			b.WriteString("REVOKE " + p + on + "FROM " + grantee(a.Grantee) + ";\n")
		}
	}
	for _, a := range have {
		if fromSet[a.String()] {
			continue
		}
		p, go_ := privilegeList(privs, a.Privs, a.GrantOption, t.Column)
		if p == "" && go_ == "" {
			continue
		}
		other := a.Grantor != "" && a.Grantor != t.Owner
		if other {
			b.WriteString("SET SESSION AUTHORIZATION " + Ident(a.Grantor) + ";\n")
		}
		if p != "" {
			b.WriteString("GRANT " + p + on + "TO " + grantee(a.Grantee) + ";\n")
		}
		if go_ != "" {
			b.WriteString("GRANT " + go_ + on + "TO " + grantee(a.Grantee) + " WITH GRANT OPTION;\n")
		}
		if other {
			b.WriteString("RESET SESSION AUTHORIZATION;\n")
		}
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

func grantee(role string) string {
	if role == "" {
		return "PUBLIC"
	}
	return Ident(role)
}

// privilegeList splits the letters held into the keyword lists to grant
// plainly and WITH GRANT OPTION, "SELECT,UPDATE" or
// `SELECT("c"),UPDATE("c")` for a column, each "ALL" when it holds every
// privilege of the type. Letters the type does not have are ignored, as
// pg_dump ignores them.
func privilegeList(privs []Privilege, held, withGrant, column string) (plain, grant string) {
	suffix := ""
	if column != "" {
		suffix = "(" + Ident(column) + ")"
	}
	var p, g []string
	allPlain, allGrant := true, true
	for _, pr := range privs {
		switch {
		case strings.IndexByte(held, pr.Code) < 0:
			allPlain, allGrant = false, false
		case strings.IndexByte(withGrant, pr.Code) >= 0:
			g = append(g, pr.Keyword+suffix)
			allPlain = false
		default:
			p = append(p, pr.Keyword+suffix)
			allGrant = false
		}
	}
	switch {
	case allGrant:
		return "", "ALL" + suffix
	case allPlain:
		return "ALL" + suffix, ""
	}
	return strings.Join(p, ","), strings.Join(g, ",")
}
