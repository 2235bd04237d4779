package restore

import (
	"context"

	"github.com/pgark/pgark/format"
	"github.com/pgark/pgark/schema"
)

// tablespaceKinds are the kinds of entries that create storage, whose
// Tablespace (empty for the database's default) a restore selects by
// default_tablespace before running them, as pg_restore does for the
// entries pg_dump gives a tablespace: tables (partitioned ones too),
// materialized views, indexes, and constraints that make an index. Other
// entries leave the setting as it is.
var tablespaceKinds = map[string]bool{
	string(schema.KindTable):      true,
	string(schema.KindMatView):    true,
	string(schema.KindIndex):      true,
	string(schema.KindConstraint): true,
}

// useTablespace sets default_tablespace on s to e's tablespace when e
// creates storage and s does not have it set so yet (nothing with
// --no-tablespaces, which leaves everything in the default tablespace).
func (r *runner) useTablespace(ctx context.Context, s *session, e *format.Entry) error {
	if r.opts.NoTablespaces || !tablespaceKinds[e.Kind] {
		return nil
	}
	s.mu.Lock()
	same := s.tablespaceSet && s.tablespace == e.Tablespace
	s.mu.Unlock()
	if same {
		return nil
	}
	sql := "SET default_tablespace = ''"
	if e.Tablespace != "" {
		sql = "SET default_tablespace = " + schema.Ident(e.Tablespace)
	}
	sql += ";"
	if err := s.exec(ctx, sql); err != nil {
		return r.fail(ctx, s, e, -1, sql, err)
	}
	s.mu.Lock()
	s.tablespace, s.tablespaceSet = e.Tablespace, true
	s.mu.Unlock()
	return nil
}
