package catalog

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgark/pgark/schema"
)

// Text search parsers, templates, dictionaries and configurations. Their
// functions are named by regproc, which qualifies what the empty
// search_path does not show: a parser's or template's functions are C
// functions, those of pg_catalog (prsd_start...) or of an extension.

// loadTSParsers reads text search parsers. They have no owner.
func loadTSParsers(ctx context.Context, q Querier, _ *features, add func(*schema.Object)) error {
	rows, err := q.Query(ctx, `SELECT p.oid, n.nspname, p.prsname,
			p.prsstart::pg_catalog.regproc::text, p.prstoken::pg_catalog.regproc::text, p.prsend::pg_catalog.regproc::text,
			CASE WHEN p.prsheadline <> 0 THEN p.prsheadline::pg_catalog.regproc::text ELSE '' END,
			p.prslextype::pg_catalog.regproc::text
		FROM pg_catalog.pg_ts_parser p JOIN pg_catalog.pg_namespace n ON n.oid = p.prsnamespace
		WHERE `+userNamespace("n")+` AND `+notExtensionMember(schema.ClassPgTSParser, "p.oid")+`
		ORDER BY n.nspname, p.prsname`)
	if err != nil {
		return fmt.Errorf("catalog: read text search parsers: %w", err)
	}
	var (
		oid                                        uint32
		nsp, name, start, token, end, head, lextyp string
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &nsp, &name, &start, &token, &end, &head, &lextyp}, func() error {
		qname := schema.Qualified(nsp, name)
		opts := []string{"START = " + start, "GETTOKEN = " + token, "END = " + end}
		if head != "" {
			opts = append(opts, "HEADLINE = "+head)
		}
		opts = append(opts, "LEXTYPES = "+lextyp)
		add(&schema.Object{
			Ref:    schema.Ref{Class: schema.ClassPgTSParser, OID: oid},
			Kind:   schema.KindTSParser,
			Schema: nsp,
			Name:   name,
			Create: "CREATE TEXT SEARCH PARSER " + qname + " (\n    " + strings.Join(opts, ",\n    ") + " );",
			Drop:   "DROP TEXT SEARCH PARSER " + qname + ";",
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read text search parsers: %w", err)
	}
	return nil
}

// loadTSTemplates reads text search templates. They have no owner.
func loadTSTemplates(ctx context.Context, q Querier, _ *features, add func(*schema.Object)) error {
	rows, err := q.Query(ctx, `SELECT t.oid, n.nspname, t.tmplname,
			CASE WHEN t.tmplinit <> 0 THEN t.tmplinit::pg_catalog.regproc::text ELSE '' END,
			t.tmpllexize::pg_catalog.regproc::text
		FROM pg_catalog.pg_ts_template t JOIN pg_catalog.pg_namespace n ON n.oid = t.tmplnamespace
		WHERE `+userNamespace("n")+` AND `+notExtensionMember(schema.ClassPgTSTemplate, "t.oid")+`
		ORDER BY n.nspname, t.tmplname`)
	if err != nil {
		return fmt.Errorf("catalog: read text search templates: %w", err)
	}
	var (
		oid                     uint32
		nsp, name, init, lexize string
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &nsp, &name, &init, &lexize}, func() error {
		qname := schema.Qualified(nsp, name)
		var opts []string
		if init != "" {
			opts = append(opts, "INIT = "+init)
		}
		opts = append(opts, "LEXIZE = "+lexize)
		add(&schema.Object{
			Ref:    schema.Ref{Class: schema.ClassPgTSTemplate, OID: oid},
			Kind:   schema.KindTSTemplate,
			Schema: nsp,
			Name:   name,
			Create: "CREATE TEXT SEARCH TEMPLATE " + qname + " (\n    " + strings.Join(opts, ",\n    ") + " );",
			Drop:   "DROP TEXT SEARCH TEMPLATE " + qname + ";",
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read text search templates: %w", err)
	}
	return nil
}

// loadTSDictionaries reads text search dictionaries: the template and the
// options as the catalog holds them (dictinitoption is already SQL).
func loadTSDictionaries(ctx context.Context, q Querier, _ *features, add func(*schema.Object)) error {
	rows, err := q.Query(ctx, `SELECT d.oid, n.nspname, d.dictname, pg_catalog.pg_get_userbyid(d.dictowner),
			tn.nspname, t.tmplname, COALESCE(d.dictinitoption, '')
		FROM pg_catalog.pg_ts_dict d
		JOIN pg_catalog.pg_namespace n ON n.oid = d.dictnamespace
		JOIN pg_catalog.pg_ts_template t ON t.oid = d.dicttemplate
		JOIN pg_catalog.pg_namespace tn ON tn.oid = t.tmplnamespace
		WHERE `+userNamespace("n")+` AND `+notExtensionMember(schema.ClassPgTSDict, "d.oid")+`
		ORDER BY n.nspname, d.dictname`)
	if err != nil {
		return fmt.Errorf("catalog: read text search dictionaries: %w", err)
	}
	var (
		oid                                         uint32
		nsp, name, owner, tmplNsp, tmplName, option string
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &nsp, &name, &owner, &tmplNsp, &tmplName, &option}, func() error {
		qname := schema.Qualified(nsp, name)
		sql := "CREATE TEXT SEARCH DICTIONARY " + qname + " (\n    TEMPLATE = " + schema.Qualified(tmplNsp, tmplName)
		if option != "" {
			sql += ",\n    " + option
		}
		add(&schema.Object{
			Ref:    schema.Ref{Class: schema.ClassPgTSDict, OID: oid},
			Kind:   schema.KindTSDictionary,
			Schema: nsp,
			Name:   name,
			Owner:  owner,
			Ident:  "TEXT SEARCH DICTIONARY " + qname,
			Create: sql + " );",
			Drop:   "DROP TEXT SEARCH DICTIONARY " + qname + ";",
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read text search dictionaries: %w", err)
	}
	return nil
}

// loadTSConfigs reads text search configurations: the parser and, per
// token type in the parser's order, the dictionaries it maps to, as
// pg_dump writes them (one ADD MAPPING per token type).
func loadTSConfigs(ctx context.Context, q Querier, _ *features, add func(*schema.Object)) error {
	rows, err := q.Query(ctx, `SELECT c.oid, n.nspname, c.cfgname, pg_catalog.pg_get_userbyid(c.cfgowner),
			pn.nspname, p.prsname,
			ARRAY(SELECT 'ADD MAPPING FOR ' || pg_catalog.quote_ident(t.alias) || ' WITH ' ||
					pg_catalog.string_agg(m.mapdict::pg_catalog.regdictionary::text, ', ' ORDER BY m.mapseqno)
				FROM pg_catalog.pg_ts_config_map m
				JOIN pg_catalog.ts_token_type(c.cfgparser) t ON t.tokid = m.maptokentype
				WHERE m.mapcfg = c.oid
				GROUP BY m.maptokentype, t.alias ORDER BY m.maptokentype)
		FROM pg_catalog.pg_ts_config c
		JOIN pg_catalog.pg_namespace n ON n.oid = c.cfgnamespace
		JOIN pg_catalog.pg_ts_parser p ON p.oid = c.cfgparser
		JOIN pg_catalog.pg_namespace pn ON pn.oid = p.prsnamespace
		WHERE `+userNamespace("n")+` AND `+notExtensionMember(schema.ClassPgTSConfig, "c.oid")+`
		ORDER BY n.nspname, c.cfgname`)
	if err != nil {
		return fmt.Errorf("catalog: read text search configurations: %w", err)
	}
	var (
		oid                               uint32
		nsp, name, owner, prsNsp, prsName string
		mappings                          []string
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &nsp, &name, &owner, &prsNsp, &prsName, &mappings}, func() error {
		qname := schema.Qualified(nsp, name)
		var b strings.Builder
		b.WriteString("CREATE TEXT SEARCH CONFIGURATION " + qname + " (\n    PARSER = " + schema.Qualified(prsNsp, prsName) + " );")
		for _, m := range mappings {
			b.WriteString("\nALTER TEXT SEARCH CONFIGURATION " + qname + "\n    " + m + ";")
		}
		add(&schema.Object{
			Ref:    schema.Ref{Class: schema.ClassPgTSConfig, OID: oid},
			Kind:   schema.KindTSConfig,
			Schema: nsp,
			Name:   name,
			Owner:  owner,
			Ident:  "TEXT SEARCH CONFIGURATION " + qname,
			Create: b.String(),
			Drop:   "DROP TEXT SEARCH CONFIGURATION " + qname + ";",
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read text search configurations: %w", err)
	}
	return nil
}
