package catalog

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgark/pgark/schema"
)

// Comments, privileges and security labels of the kinds that are no
// relation, type, function or schema (those of loadCommentsAndACLs).

// commentClasses are the catalogs whose objects' comments loadKindComments
// reads (from pg_description: a subscription's too, though its catalog is
// shared).
var commentClasses = []uint32{
	schema.ClassPgExtension, schema.ClassPgOperator, schema.ClassPgOpClass, schema.ClassPgOpFamily,
	schema.ClassPgCast, schema.ClassPgCollation, schema.ClassPgConversion, schema.ClassPgTSParser,
	schema.ClassPgTSTemplate, schema.ClassPgTSDict, schema.ClassPgTSConfig, schema.ClassPgLanguage,
	schema.ClassPgTransform, schema.ClassPgAm, schema.ClassPgFDW, schema.ClassPgServer,
	schema.ClassPgPublication, schema.ClassPgSubscription, schema.ClassPgEventTrigger,
}

// commentName is how COMMENT ON and SECURITY LABEL ON name an object of
// the kinds this file covers: its Ident where it has one (the kinds with
// an owner), else from its kind and name; "" for kinds with neither.
func commentName(o *schema.Object) string {
	switch o.Kind {
	case schema.KindExtension:
		return "EXTENSION " + schema.Ident(o.Name)
	case schema.KindAccessMethod:
		return "ACCESS METHOD " + schema.Ident(o.Name)
	case schema.KindTSParser, schema.KindTSTemplate:
		return string(o.Kind) + " " + schema.Qualified(o.Schema, o.Name)
	case schema.KindCast, schema.KindTransform:
		return o.Name
	}
	return o.Ident
}

// loadKindCommentsAndACLs adds the comments on the objects of the kinds
// commentClasses lists, and the privileges of foreign data wrappers,
// foreign servers and procedural languages that are not their defaults.
func loadKindCommentsAndACLs(ctx context.Context, q Querier, f *features, objs []*schema.Object, add func(*schema.Object)) error {
	idx := indexObjects(objs)
	if err := loadKindComments(ctx, q, idx, add); err != nil {
		return err
	}
	return loadKindACLs(ctx, q, idx, add)
}

func loadKindComments(ctx context.Context, q Querier, idx map[schema.Ref]target, add func(*schema.Object)) error {
	classes := make([]string, len(commentClasses))
	for i, c := range commentClasses {
		classes[i] = fmt.Sprint(c)
	}
	rows, err := q.Query(ctx, `SELECT d.classoid, d.objoid, d.description FROM pg_catalog.pg_description d
		WHERE d.objsubid = 0 AND d.classoid IN (`+strings.Join(classes, ", ")+`)
		ORDER BY 1, 2`)
	if err != nil {
		return fmt.Errorf("catalog: read comments: %w", err)
	}
	var (
		ref  schema.Ref
		text string
	)
	_, err = pgx.ForEachRow(rows, []any{&ref.Class, &ref.OID, &text}, func() error {
		t := idx[ref]
		if t.obj == nil {
			return nil
		}
		what := commentName(t.obj)
		if what == "" {
			return fmt.Errorf("comment on %s: no name to comment on", t.obj)
		}
		add(&schema.Object{
			Ref:    ref,
			Kind:   schema.KindComment,
			Schema: t.obj.Schema,
			Name:   commentTag(t.obj),
			Owner:  t.owner,
			Create: "COMMENT ON " + what + " IS " + schema.Literal(text) + ";",
			Deps:   []schema.Ref{ref},
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read comments: %w", err)
	}
	return nil
}

// commentTag is pg_dump's tag of a comment (or security label) on o:
// its kind and name, "OPERATOR CLASS c USING btree", "EXTENSION hstore".
func commentTag(o *schema.Object) string {
	switch o.Kind {
	case schema.KindCast, schema.KindTransform:
		return o.Name
	case schema.KindLanguage:
		return "LANGUAGE " + o.Name
	}
	return string(o.Kind) + " " + o.Name
}

// loadKindACLs reads the privileges of foreign data wrappers, foreign
// servers and procedural languages, as loadACLs does those of relations:
// from pg_init_privs' initial privileges if any, else from acldefault().
func loadKindACLs(ctx context.Context, q Querier, idx map[schema.Ref]target, add func(*schema.Object)) error {
	initPrivs := func(class uint32, oid string) string {
		return fmt.Sprintf(`(SELECT ip.initprivs::text[] FROM pg_catalog.pg_init_privs ip
			WHERE ip.classoid = %d AND ip.objoid = %s AND ip.objsubid = 0)`, class, oid)
	}
	rows, err := q.Query(ctx, `SELECT * FROM (
		SELECT 2328::oid AS cls, w.oid, w.fdwname::text, pg_catalog.pg_get_userbyid(w.fdwowner)::text,
			w.fdwacl::text[] AS acl, pg_catalog.acldefault('F', w.fdwowner)::text[],
			`+initPrivs(schema.ClassPgFDW, "w.oid")+` AS init
		FROM pg_catalog.pg_foreign_data_wrapper w
		UNION ALL
		SELECT 1417::oid, s.oid, s.srvname::text, pg_catalog.pg_get_userbyid(s.srvowner)::text,
			s.srvacl::text[], pg_catalog.acldefault('S', s.srvowner)::text[],
			`+initPrivs(schema.ClassPgServer, "s.oid")+`
		FROM pg_catalog.pg_foreign_server s
		UNION ALL
		SELECT 2612::oid, l.oid, l.lanname::text, pg_catalog.pg_get_userbyid(l.lanowner)::text,
			l.lanacl::text[], pg_catalog.acldefault('l', l.lanowner)::text[],
			`+initPrivs(schema.ClassPgLanguage, "l.oid")+`
		FROM pg_catalog.pg_language l
		) x WHERE x.acl IS NOT NULL OR x.init IS NOT NULL
		ORDER BY 1, 2`)
	if err != nil {
		return fmt.Errorf("catalog: read privileges: %w", err)
	}
	var (
		ref            schema.Ref
		name, owner    string
		acl, def, init []string
	)
	_, err = pgx.ForEachRow(rows, []any{&ref.Class, &ref.OID, &name, &owner, &acl, &def, &init}, func() error {
		t := idx[ref]
		if t.obj == nil {
			return nil
		}
		gt := schema.GrantTarget{Owner: owner}
		switch ref.Class {
		case schema.ClassPgFDW:
			gt.Type, gt.Name = "FOREIGN DATA WRAPPER", schema.Ident(name)
		case schema.ClassPgServer:
			gt.Type, gt.Name = "FOREIGN SERVER", schema.Ident(name)
		default:
			gt.Type, gt.Name = "LANGUAGE", schema.Ident(name)
		}
		base := def
		if init != nil {
			base = init
			if acl == nil {
				acl = def
			}
		}
		sql, err := schema.ACLStatements(gt, acl, base)
		if err != nil {
			return fmt.Errorf("privileges of %s %s: %w", gt.Type, name, err)
		}
		if sql == "" {
			return nil
		}
		add(&schema.Object{
			Ref:    ref,
			Kind:   schema.KindACL,
			Name:   gt.Type + " " + name,
			Owner:  t.owner,
			Create: sql,
			Deps:   []schema.Ref{ref},
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read privileges: %w", err)
	}
	return nil
}

// secLabelTarget finds the loaded object a security label is on: by its
// catalog identity, or for a large object, the BLOB METADATA group that
// holds it. It returns a nil object for a label that is not dumped.
func secLabelTarget(idx map[schema.Ref]target, blobs map[uint32]*schema.Object, ref schema.Ref) target {
	if ref.Class == schema.ClassPgLargeObject {
		if o := blobs[ref.OID]; o != nil {
			return target{o, o.Owner}
		}
		return target{}
	}
	return idx[ref.Whole()]
}

// secLabelSQL is the SECURITY LABEL statement for a label by provider on
// the object that typ (pg_identify_object's type: "table", "column",
// "foreign-data wrapper"...) and identity (its qualified, quoted name)
// name.
func secLabelSQL(provider, typ, identity, label string) string {
	return "SECURITY LABEL FOR " + schema.Ident(provider) + " ON " + secLabelWord(typ) + " " + identity +
		" IS " + schema.Literal(label) + ";"
}

// secLabelWord turns pg_identify_object's type into SECURITY LABEL's
// object type: upper case, "foreign-data wrapper" as FOREIGN DATA WRAPPER.
func secLabelWord(typ string) string {
	return strings.ToUpper(strings.ReplaceAll(typ, "-", " "))
}

// loadSecurityLabels adds a SECURITY LABEL object for each label (of
// pg_seclabel, and pg_shseclabel for subscriptions) on a loaded object or
// column, as pg_dump does; with NoSecurityLabels, none. The server names
// the object (pg_identify_object, with the empty search_path every name
// qualified). No label provider comes with PostgreSQL: without one (the
// sepgsql module, or a test module) there are no labels to read.
func loadSecurityLabels(ctx context.Context, q Querier, f *features, objs []*schema.Object, add func(*schema.Object)) error {
	if f.opts.NoSecurityLabels {
		return nil
	}
	idx := indexObjects(objs)
	blobs := map[uint32]*schema.Object{}
	for _, o := range objs {
		if o.Kind == schema.KindBlobMetadata {
			for _, lo := range o.LargeObjects {
				blobs[lo] = o
			}
		}
	}
	rows, err := q.Query(ctx, `SELECT l.classoid, l.objoid, l.objsubid, l.provider, l.label, o.type, o.identity
		FROM (SELECT s.classoid, s.objoid, s.objsubid, s.provider, s.label FROM pg_catalog.pg_seclabel s
			UNION ALL
			SELECT s.classoid, s.objoid, 0, s.provider, s.label FROM pg_catalog.pg_shseclabel s
			WHERE s.classoid = `+fmt.Sprint(schema.ClassPgSubscription)+`) l,
			LATERAL pg_catalog.pg_identify_object(l.classoid, l.objoid, l.objsubid) o
		ORDER BY 1, 2, 3, 4`)
	if err != nil {
		return fmt.Errorf("catalog: read security labels: %w", err)
	}
	var (
		ref                            schema.Ref
		provider, label, typ, identity string
	)
	_, err = pgx.ForEachRow(rows, []any{&ref.Class, &ref.OID, &ref.Sub, &provider, &label, &typ, &identity}, func() error {
		t := secLabelTarget(idx, blobs, ref)
		if t.obj == nil {
			return nil
		}
		add(&schema.Object{
			Ref:    ref,
			Kind:   schema.KindSecLabel,
			Schema: t.obj.Schema,
			Name:   secLabelWord(typ) + " " + identity,
			Owner:  t.owner,
			Create: secLabelSQL(provider, typ, identity, label),
			Deps:   []schema.Ref{t.obj.Ref.Whole()},
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read security labels: %w", err)
	}
	return nil
}

// loadKinds reads the objects that are no relation, type or function:
// extensions, aggregates, operators and their families and classes,
// casts, collations, conversions, text search objects, languages,
// transforms, access methods, foreign data wrappers, servers, user
// mappings and foreign tables, publications, subscriptions, event
// triggers and default privileges.
func loadKinds(ctx context.Context, q Querier, f *features, add func(*schema.Object)) error {
	for _, l := range []loader{loadExtensions, loadAggregates, loadOperators, loadOpFamilies, loadOpClasses,
		loadAccessMethods, loadCasts, loadCollations, loadConversions, loadTSParsers, loadTSTemplates,
		loadTSDictionaries, loadTSConfigs, loadLanguages, loadTransforms, loadFDWs, loadServers,
		loadForeignTables, loadPublications, loadSubscriptions, loadEventTriggers, loadDefaultACLs} {
		if err := l(ctx, q, f, add); err != nil {
			return err
		}
	}
	return nil
}
