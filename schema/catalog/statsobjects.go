package catalog

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/pgark/pgark/schema"
)

// loadStatisticsObjects reads extended statistics objects (CREATE
// STATISTICS, as pg_get_statisticsobjdef renders them: kinds, columns and,
// PostgreSQL 14+, expressions), each followed by ALTER STATISTICS ... SET
// STATISTICS when its target is set, and their comments. Not their data
// (PostgreSQL 18's STATISTICS DATA).
func loadStatisticsObjects(ctx context.Context, q Querier, _ *features, add func(*schema.Object)) error {
	rows, err := q.Query(ctx, `SELECT s.oid, s.stxrelid, n.nspname, s.stxname, pg_catalog.pg_get_userbyid(s.stxowner),
			pg_catalog.pg_get_statisticsobjdef(s.oid), COALESCE(s.stxstattarget::int, -1), d.description
		FROM pg_catalog.pg_statistic_ext s
		JOIN pg_catalog.pg_namespace n ON n.oid = s.stxnamespace
		JOIN pg_catalog.pg_class c ON c.oid = s.stxrelid
		JOIN pg_catalog.pg_namespace cn ON cn.oid = c.relnamespace
		LEFT JOIN pg_catalog.pg_description d ON d.classoid = 3381 AND d.objoid = s.oid AND d.objsubid = 0
		WHERE `+userNamespace("n")+` AND `+userNamespace("cn")+`
		  AND `+notExtensionMember(schema.ClassPgStatExt, "s.oid")+`
		  AND `+notExtensionMember(schema.ClassPgClass, "c.oid")+`
		ORDER BY s.oid`)
	if err != nil {
		return fmt.Errorf("catalog: read statistics objects: %w", err)
	}
	var (
		oid, rel              uint32
		nsp, name, owner, def string
		target                int
		text                  *string
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &rel, &nsp, &name, &owner, &def, &target, &text}, func() error {
		qname := schema.Qualified(nsp, name)
		ref := schema.Ref{Class: schema.ClassPgStatExt, OID: oid}
		create := def + ";"
		if target >= 0 {
			create += "\nALTER STATISTICS " + qname + " SET STATISTICS " + strconv.Itoa(target) + ";"
		}
		add(&schema.Object{
			Ref: ref, Kind: schema.KindStatistics, Schema: nsp, Name: name, Owner: owner,
			Ident:  "STATISTICS " + qname,
			Create: create,
			Drop:   "DROP STATISTICS " + qname + ";",
			Deps:   []schema.Ref{{Class: schema.ClassPgClass, OID: rel}},
		})
		if text != nil {
			add(comment(ref, nsp, owner, "STATISTICS "+qname, "STATISTICS "+name, *text))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read statistics objects: %w", err)
	}
	return nil
}
