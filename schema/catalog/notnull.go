package catalog

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/pgark/pgark/schema"
)

// notNullConstraints reports whether NOT NULL constraints are pg_constraint
// rows (contype 'n', PostgreSQL 18), with names, NO INHERIT and NOT VALID.
// Before 18, attnotnull is all there is.
func (f *features) notNullConstraints() bool { return f.atLeast(180000) }

// notNulls reads the tables' NOT NULL constraints on PostgreSQL 18 and
// newer and sets what columns reads from attnotnull alone, as pg_dump 18
// dumps them:
//
//   - a valid constraint of the table's own (conislocal) stays on its
//     column, with its name when it is not the default one
//     (<table>_<column>_not_null) and NO INHERIT;
//   - one the table only inherits is left to INHERITS, which brings it
//     with its parent's name: writing it would make it local; but a
//     partition's is written, with its parent's name, since a partition
//     is created alone and ATTACH PARTITION wants its columns NOT NULL
//     (and makes the constraint inherited);
//   - a NOT VALID one is left off the column (the rows may hold NULLs) and
//     becomes a constraint object of its own, added after the data.
func (r *relReader) notNulls(ctx context.Context) error {
	if !r.f.notNullConstraints() {
		return nil
	}
	rows, err := r.q.Query(ctx, `SELECT co.oid, co.conrelid, co.conname, a.attname,
			co.convalidated, co.conislocal, co.connoinherit, pg_catalog.pg_get_constraintdef(co.oid)
		FROM pg_catalog.pg_constraint co
		JOIN pg_catalog.pg_attribute a ON a.attrelid = co.conrelid AND a.attnum = co.conkey[1]
		JOIN pg_catalog.pg_class c ON c.oid = co.conrelid
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE `+userRelation(`'r', 'p'`)+` AND co.contype = 'n'
		ORDER BY co.conrelid, a.attnum`)
	if err != nil {
		return fmt.Errorf("catalog: read not-null constraints: %w", err)
	}
	var (
		oid, rel              uint32
		name, column, def     string
		valid, local, noInher bool
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &rel, &name, &column, &valid, &local, &noInher, &def}, func() error {
		t := r.tables[rel]
		if t == nil {
			return nil
		}
		var c *schema.Column
		for _, col := range t.def.Columns {
			if col.Name == column {
				c = col
				break
			}
		}
		if c == nil {
			return fmt.Errorf("not-null constraint %q of %s names column %q, which was not read", name, t.def.Qualified(), column)
		}
		switch {
		case !local && !t.partition:
			c.NotNull = false
		case !valid:
			c.NotNull = false
			r.objs = append(r.objs, &schema.Object{
				Ref:  schema.Ref{Class: schema.ClassPgConstraint, OID: oid},
				Kind: schema.KindConstraint, Schema: t.def.Schema, Name: t.def.Name + " " + name, Owner: t.owner,
				Create: "ALTER TABLE ONLY " + t.def.Qualified() + " ADD CONSTRAINT " + schema.Ident(name) + " " + def + ";",
				Drop:   "ALTER TABLE ONLY " + t.def.Qualified() + " DROP CONSTRAINT " + schema.Ident(name) + ";",
				Deps:   []schema.Ref{t.ref},
			})
		default:
			if name != t.def.Name+"_"+column+"_not_null" {
				c.NotNullName = name
			}
			c.NotNullNoInherit = noInher
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read not-null constraints: %w", err)
	}
	return nil
}
