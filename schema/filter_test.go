package schema

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The expected patterns and messages follow pg_dump 17's filter.c
// (read_pattern, read_quoted_string, filter_read_item).
func TestParseFilter(t *testing.T) {
	in := "# a comment\n" +
		"\n" +
		"   \t\n" +
		"include table t1\n" +
		"  INCLUDE   Table_And_Children   public.parent   # with a comment\n" +
		"exclude table_data s . t\n" +
		"exclude table_data_and_children \"My Schema\".\"Big\"\"Table\"\n" +
		"include schema my schema\n" +
		"exclude schema\t\"a\\\\b\\nc\"#x\n" +
		"include function f ( integer ,  text )\n" +
		"include index a. \"b\"\n" +
		"include trigger \"two\n" +
		"lines\" after\r\n" +
		"exclude extension e\n" +
		"include foreign_data srv\n" +
		"exclude database d"
	rules, err := ParseFilter(strings.NewReader(in), "f.txt")
	require.NoError(t, err)
	type r struct {
		cmd     string
		obj     FilterObject
		pattern string
		line    int
	}
	var got []r
	for _, x := range rules {
		got = append(got, r{x.Command(), x.Object, x.Pattern, x.Line})
	}
	assert.Equal(t, []r{
		{"include", FilterTable, "t1", 4},
		{"include", FilterTableAndChildren, "public.parent", 5},
		{"exclude", FilterTableData, "s.t", 6},
		{"exclude", FilterTableDataAndChildren, `"My Schema"."Big""Table"`, 7},
		{"include", FilterSchema, "my schema", 8},
		{"exclude", FilterSchema, "\"a\\b\nc\"", 9},
		{"include", FilterFunction, "f(integer, text)", 10},
		{"include", FilterIndex, `a. "b"`, 11},
		{"include", FilterTrigger, "\"two\nlines\" after", 13},
		{"exclude", FilterExtension, "e", 14},
		{"include", FilterForeignData, "srv", 15},
		{"exclude", FilterDatabase, "d", 16},
	}, got)
	assert.Equal(t, "table data and children", FilterTableDataAndChildren.String())
	assert.EqualError(t, rules[7].NotAllowed(), `invalid format in filter read from file "f.txt" on line 11: include filter for "index" is not allowed`)
	assert.EqualError(t, rules[2].Errorf("no %s", "way"), `invalid format in filter read from file "f.txt" on line 6: no way`)

	rules, err = ParseFilter(strings.NewReader(""), "-")
	require.NoError(t, err)
	assert.Empty(t, rules)
}

func TestParseFilterErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"# ok\n\nfoo table x\n", `on line 3: invalid filter command (expected "include" or "exclude")`},
		{"123 table x\n", `on line 1: no filter command found (expected "include" or "exclude")`},
		{"include\n", "on line 1: missing filter object type"},
		{"include 5 x\n", "on line 1: missing filter object type"},
		{"include tables x\n", `on line 1: unsupported filter object type: "tables"`},
		{"include table_datax x\n", `on line 1: unsupported filter object type: "table_datax"`},
		{"include table\n", "on line 1: missing object name pattern"},
		{"include table   \n", "on line 1: missing object name pattern"},
		{"include table # x\n", "on line 1: missing object name pattern"},
		{"include table t\nexclude table \"open\nstill open\n", "on line 3: unexpected end of file"},
	} {
		_, err := ParseFilter(strings.NewReader(tc.in), "f")
		var fe *FilterError
		require.True(t, errors.As(err, &fe), "%q: %v", tc.in, err)
		assert.Equal(t, `invalid format in filter read from file "f" `+tc.want, err.Error(), tc.in)
	}
	_, err := ParseFilter(strings.NewReader("exclude x y"), "-")
	assert.EqualError(t, err, `invalid format in filter read from standard input on line 1: unsupported filter object type: "x"`)
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"include table t\n", "exclude schema \"a\n\"\"b\"\n", "include function f(a, b) # c", "\\", "include table \"\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rules, err := ParseFilter(strings.NewReader(s), "f")
		if err != nil {
			return
		}
		for _, r := range rules {
			if r.Pattern == "" || r.Object == 0 || r.Line < 1 {
				t.Fatalf("%q: rule %+v", s, r)
			}
		}
	})
}
