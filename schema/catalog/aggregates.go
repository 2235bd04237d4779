package catalog

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgark/pgark/schema"
)

// aggregate is what CREATE AGGREGATE needs of pg_aggregate, with the
// functions as regproc prints them (qualified unless visible) and the types
// as format_type does; "" for what is not set.
type aggregate struct {
	kind                            string // aggkind: n(ormal), o(rdered-set), h(ypothetical)
	transFn, transType, initVal     string
	transSpace                      int
	finalFn, finalModify            string
	finalExtra                      bool
	combineFn, serialFn, deserialFn string
	mTransFn, mInvFn, mTransType    string
	mTransSpace                     int
	mInitVal, mFinalFn, mFinalMod   string
	mFinalExtra                     bool
	sortOp                          string // OPERATOR(s.op), "" for none
	parallel                        string // proparallel
	hasInit, hasMInit               bool
}

// aggregateSQL renders CREATE AGGREGATE as pg_dump does: the options in
// its order, those at their defaults left out. args is
// pg_get_function_arguments' text, "" for an aggregate of (*).
func aggregateSQL(qname, args string, a *aggregate) string {
	if args == "" {
		args = "*"
	}
	opts := []string{"SFUNC = " + a.transFn, "STYPE = " + a.transType}
	add := func(cond bool, s string) {
		if cond {
			opts = append(opts, s)
		}
	}
	add(a.transSpace != 0, fmt.Sprintf("SSPACE = %d", a.transSpace))
	add(a.hasInit, "INITCOND = "+schema.Literal(a.initVal))
	add(a.finalFn != "", "FINALFUNC = "+a.finalFn)
	add(a.finalExtra, "FINALFUNC_EXTRA")
	// The default finalfunc_modify is READ_ONLY for normal aggregates,
	// READ_WRITE for ordered-set ones.
	defModify := "r"
	if a.kind != "n" {
		defModify = "w"
	}
	add(a.finalModify != defModify, "FINALFUNC_MODIFY = "+aggModify(a.finalModify))
	add(a.combineFn != "", "COMBINEFUNC = "+a.combineFn)
	add(a.serialFn != "", "SERIALFUNC = "+a.serialFn)
	add(a.deserialFn != "", "DESERIALFUNC = "+a.deserialFn)
	add(a.mTransFn != "", "MSFUNC = "+a.mTransFn)
	add(a.mInvFn != "", "MINVFUNC = "+a.mInvFn)
	add(a.mTransType != "", "MSTYPE = "+a.mTransType)
	add(a.mTransSpace != 0, fmt.Sprintf("MSSPACE = %d", a.mTransSpace))
	add(a.hasMInit, "MINITCOND = "+schema.Literal(a.mInitVal))
	add(a.mFinalFn != "", "MFINALFUNC = "+a.mFinalFn)
	add(a.mFinalExtra, "MFINALFUNC_EXTRA")
	add(a.mTransFn != "" && a.mFinalMod != defModify, "MFINALFUNC_MODIFY = "+aggModify(a.mFinalMod))
	add(a.sortOp != "", "SORTOP = "+a.sortOp)
	add(a.kind == "h", "HYPOTHETICAL")
	add(a.parallel == "s", "PARALLEL = safe")
	add(a.parallel == "r", "PARALLEL = restricted")
	return "CREATE AGGREGATE " + qname + "(" + args + ") (\n    " + strings.Join(opts, ",\n    ") + "\n);"
}

func aggModify(c string) string {
	switch c {
	case "s":
		return "SHAREABLE"
	case "w":
		return "READ_WRITE"
	}
	return "READ_ONLY"
}

// loadAggregates reads aggregates (pg_proc rows of prokind 'a' and their
// pg_aggregate rows): normal, ordered-set and hypothetical-set ones, with
// their moving-aggregate, combine and serialization functions. Name is
// pg_dump's tag, "sum(integer)" or "count(*)"; Ident has the identity
// arguments ("double precision ORDER BY double precision").
func loadAggregates(ctx context.Context, q Querier, _ *features, add func(*schema.Object)) error {
	proc := func(col string) string {
		return `CASE WHEN a.` + col + ` <> 0 THEN a.` + col + `::pg_catalog.regproc::text ELSE '' END`
	}
	typ := func(col string) string {
		return `CASE WHEN a.` + col + ` <> 0 THEN pg_catalog.format_type(a.` + col + `, NULL) ELSE '' END`
	}
	rows, err := q.Query(ctx, `SELECT p.oid, n.nspname, p.proname, pg_catalog.pg_get_userbyid(p.proowner),
			pg_catalog.pg_get_function_arguments(p.oid), pg_catalog.pg_get_function_identity_arguments(p.oid),
			pg_catalog.oidvectortypes(p.proargtypes), p.proparallel::text,
			a.aggkind::text, `+proc("aggtransfn")+`, `+typ("aggtranstype")+`, a.aggtransspace,
			a.agginitval IS NOT NULL, COALESCE(a.agginitval, ''),
			`+proc("aggfinalfn")+`, a.aggfinalextra, a.aggfinalmodify::text,
			`+proc("aggcombinefn")+`, `+proc("aggserialfn")+`, `+proc("aggdeserialfn")+`,
			`+proc("aggmtransfn")+`, `+proc("aggminvtransfn")+`, `+typ("aggmtranstype")+`, a.aggmtransspace,
			a.aggminitval IS NOT NULL, COALESCE(a.aggminitval, ''),
			`+proc("aggmfinalfn")+`, a.aggmfinalextra, a.aggmfinalmodify::text,
			COALESCE((SELECT 'OPERATOR(' || pg_catalog.quote_ident(opn.nspname) || '.' || o.oprname || ')'
				FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_namespace opn ON opn.oid = o.oprnamespace
				WHERE o.oid = a.aggsortop), '')
		FROM pg_catalog.pg_aggregate a
		JOIN pg_catalog.pg_proc p ON p.oid = a.aggfnoid
		JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
		WHERE `+userNamespace("n")+` AND `+notExtensionMember(schema.ClassPgProc, "p.oid")+`
		ORDER BY n.nspname, p.proname, 7`)
	if err != nil {
		return fmt.Errorf("catalog: read aggregates: %w", err)
	}
	var (
		oid                            uint32
		nsp, name, owner, args, idArgs string
		types                          string
		a                              aggregate
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &nsp, &name, &owner, &args, &idArgs, &types, &a.parallel,
		&a.kind, &a.transFn, &a.transType, &a.transSpace, &a.hasInit, &a.initVal,
		&a.finalFn, &a.finalExtra, &a.finalModify, &a.combineFn, &a.serialFn, &a.deserialFn,
		&a.mTransFn, &a.mInvFn, &a.mTransType, &a.mTransSpace, &a.hasMInit, &a.mInitVal,
		&a.mFinalFn, &a.mFinalExtra, &a.mFinalMod, &a.sortOp}, func() error {
		qname := schema.Qualified(nsp, name)
		if idArgs == "" {
			idArgs = "*"
		}
		if types == "" {
			types = "*"
		}
		sig := qname + "(" + idArgs + ")"
		add(&schema.Object{
			Ref:    schema.Ref{Class: schema.ClassPgProc, OID: oid},
			Kind:   schema.KindAggregate,
			Schema: nsp,
			Name:   name + "(" + types + ")",
			Owner:  owner,
			Ident:  "AGGREGATE " + sig,
			Create: aggregateSQL(qname, args, &a),
			Drop:   "DROP AGGREGATE " + sig + ";",
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read aggregates: %w", err)
	}
	return nil
}
