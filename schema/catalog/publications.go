package catalog

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgark/pgark/schema"
)

// Publications (with their tables and schemas) and subscriptions.

// Version switches of this file's loaders (see features).

// hasPublicationFilters: publications have TABLES IN SCHEMA, and a table's
// column list and row filter (PostgreSQL 15).
func (f *features) hasPublicationFilters() bool { return f.atLeast(150000) }

// hasPublishGeneratedColumns: pubgencols (PostgreSQL 18).
func (f *features) hasPublishGeneratedColumns() bool { return f.atLeast(180000) }

// hasSubscriptionBinary: binary and streaming (PostgreSQL 14).
func (f *features) hasSubscriptionBinary() bool { return f.atLeast(140000) }

// hasSubscriptionTwoPhase: two_phase and disable_on_error (PostgreSQL 15).
func (f *features) hasSubscriptionTwoPhase() bool { return f.atLeast(150000) }

// hasSubscriptionOrigin: origin, password_required, run_as_owner, and
// streaming as a char (PostgreSQL 16).
func (f *features) hasSubscriptionOrigin() bool { return f.atLeast(160000) }

// hasSubscriptionFailover: failover (PostgreSQL 17).
func (f *features) hasSubscriptionFailover() bool { return f.atLeast(170000) }

// defaultStreaming is CREATE SUBSCRIPTION's default streaming mode, as
// substream holds it: off before PostgreSQL 18, parallel since.
func (f *features) defaultStreaming() string {
	switch {
	case f.atLeast(180000):
		return "p"
	case f.hasSubscriptionOrigin():
		return "f"
	}
	return "false"
}

// publication is what CREATE PUBLICATION needs of pg_publication.
type publication struct {
	allTables                        bool
	insert, update, delete, truncate bool
	viaRoot                          bool
	genCols                          string // pubgencols, "" or "n" for none
}

// publicationSQL renders CREATE PUBLICATION as pg_dump does, with every
// publish option spelt out.
func publicationSQL(name string, p *publication) string {
	sql := "CREATE PUBLICATION " + schema.Ident(name)
	if p.allTables {
		sql += " FOR ALL TABLES"
	}
	var ops []string
	for _, o := range []struct {
		on   bool
		name string
	}{{p.insert, "insert"}, {p.update, "update"}, {p.delete, "delete"}, {p.truncate, "truncate"}} {
		if o.on {
			ops = append(ops, o.name)
		}
	}
	sql += " WITH (publish = " + schema.Literal(strings.Join(ops, ", "))
	if p.viaRoot {
		sql += ", publish_via_partition_root = true"
	}
	if p.genCols == "s" {
		sql += ", publish_generated_columns = stored"
	}
	return sql + ");"
}

// loadPublications reads publications and then what they publish: each
// table (with its column list and row filter) as a PUBLICATION TABLE, each
// schema as a PUBLICATION TABLES IN SCHEMA, as pg_dump does. With
// NoPublications, nothing.
func loadPublications(ctx context.Context, q Querier, f *features, add func(*schema.Object)) error {
	if f.opts.NoPublications {
		return nil
	}
	genCols := `''`
	if f.hasPublishGeneratedColumns() {
		genCols = `p.pubgencols::text`
	}
	rows, err := q.Query(ctx, `SELECT p.oid, p.pubname, pg_catalog.pg_get_userbyid(p.pubowner), p.puballtables,
			p.pubinsert, p.pubupdate, p.pubdelete, p.pubtruncate, p.pubviaroot, `+genCols+`
		FROM pg_catalog.pg_publication p
		ORDER BY p.pubname`)
	if err != nil {
		return fmt.Errorf("catalog: read publications: %w", err)
	}
	var (
		oid         uint32
		name, owner string
		p           publication
		pubs        = map[uint32]*schema.Object{}
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &name, &owner, &p.allTables, &p.insert, &p.update, &p.delete,
		&p.truncate, &p.viaRoot, &p.genCols}, func() error {
		o := &schema.Object{
			Ref:    schema.Ref{Class: schema.ClassPgPublication, OID: oid},
			Kind:   schema.KindPublication,
			Name:   name,
			Owner:  owner,
			Ident:  "PUBLICATION " + schema.Ident(name),
			Create: publicationSQL(name, &p),
			Drop:   "DROP PUBLICATION " + schema.Ident(name) + ";",
		}
		pubs[oid] = o
		add(o)
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read publications: %w", err)
	}
	if len(pubs) == 0 {
		return nil
	}
	if err := loadPublicationTables(ctx, q, f, pubs, add); err != nil {
		return err
	}
	if f.hasPublicationFilters() {
		return loadPublicationSchemas(ctx, q, pubs, add)
	}
	return nil
}

// loadPublicationTables reads the tables of the publications read.
func loadPublicationTables(ctx context.Context, q Querier, f *features, pubs map[uint32]*schema.Object, add func(*schema.Object)) error {
	filters := `'', ''`
	if f.hasPublicationFilters() {
		filters = `COALESCE((SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY k.ord)
				FROM pg_catalog.unnest(pr.prattrs) WITH ORDINALITY AS k(attnum, ord)
				JOIN pg_catalog.pg_attribute a ON a.attrelid = pr.prrelid AND a.attnum = k.attnum), ''),
			COALESCE(pg_catalog.pg_get_expr(pr.prqual, pr.prrelid), '')`
	}
	rows, err := q.Query(ctx, `SELECT pr.oid, pr.prpubid, pr.prrelid, n.nspname, c.relname, `+filters+`
		FROM pg_catalog.pg_publication_rel pr
		JOIN pg_catalog.pg_class c ON c.oid = pr.prrelid
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		ORDER BY n.nspname, c.relname, pr.prpubid`)
	if err != nil {
		return fmt.Errorf("catalog: read publication tables: %w", err)
	}
	var (
		oid, pub, rel             uint32
		nsp, name, columns, where string
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &pub, &rel, &nsp, &name, &columns, &where}, func() error {
		p := pubs[pub]
		if p == nil {
			return nil
		}
		target := "TABLE ONLY " + schema.Qualified(nsp, name)
		if columns != "" {
			target += " (" + columns + ")"
		}
		if where != "" {
			target += " WHERE (" + where + ")"
		}
		alter := "ALTER PUBLICATION " + schema.Ident(p.Name)
		add(&schema.Object{
			Ref:    schema.Ref{Class: schema.ClassPgPubRel, OID: oid},
			Kind:   schema.KindPublicationTable,
			Schema: nsp,
			Name:   p.Name + " " + name,
			Owner:  p.Owner,
			Create: alter + " ADD " + target + ";",
			Drop:   alter + " DROP TABLE ONLY " + schema.Qualified(nsp, name) + ";",
			Deps:   []schema.Ref{p.Ref, {Class: schema.ClassPgClass, OID: rel}},
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read publication tables: %w", err)
	}
	return nil
}

// loadPublicationSchemas reads the schemas of the publications read
// (FOR TABLES IN SCHEMA, PostgreSQL 15+).
func loadPublicationSchemas(ctx context.Context, q Querier, pubs map[uint32]*schema.Object, add func(*schema.Object)) error {
	rows, err := q.Query(ctx, `SELECT pn.oid, pn.pnpubid, pn.pnnspid, n.nspname
		FROM pg_catalog.pg_publication_namespace pn JOIN pg_catalog.pg_namespace n ON n.oid = pn.pnnspid
		ORDER BY n.nspname, pn.pnpubid`)
	if err != nil {
		return fmt.Errorf("catalog: read publication schemas: %w", err)
	}
	var (
		oid, pub, nspOID uint32
		nsp              string
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &pub, &nspOID, &nsp}, func() error {
		p := pubs[pub]
		if p == nil {
			return nil
		}
		alter := "ALTER PUBLICATION " + schema.Ident(p.Name)
		add(&schema.Object{
			Ref:    schema.Ref{Class: schema.ClassPgPubSchema, OID: oid},
			Kind:   schema.KindPublicationSchema,
			Schema: nsp,
			Name:   p.Name + " " + nsp,
			Owner:  p.Owner,
			Create: alter + " ADD TABLES IN SCHEMA " + schema.Ident(nsp) + ";",
			Drop:   alter + " DROP TABLES IN SCHEMA " + schema.Ident(nsp) + ";",
			Deps:   []schema.Ref{p.Ref, {Class: schema.ClassPgNamespace, OID: nspOID}},
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read publication schemas: %w", err)
	}
	return nil
}

// subscription is what CREATE SUBSCRIPTION needs of pg_subscription.
type subscription struct {
	conninfo, slot      string
	hasSlot             bool
	publications        []string
	binary              bool
	streaming           string // substream as text: true/false, or f/t/p (PostgreSQL 16+)
	twoPhase            string // subtwophasestate: d(isabled), p(ending), e(nabled); "" before 15
	disableOnError      bool
	passwordRequired    bool
	runAsOwner          bool
	origin              string // "" before PostgreSQL 16
	failover            bool
	syncCommit          string
	defaultStreaming    string
	hasPasswordRequired bool // PostgreSQL 16+
}

// subscriptionSQL renders CREATE SUBSCRIPTION as pg_dump does: with
// connect = false (so it is created disabled, without a replication slot
// made on the publisher), the slot name, and every option that is not at
// its default.
func subscriptionSQL(name string, s *subscription) string {
	pubs := make([]string, len(s.publications))
	for i, p := range s.publications {
		pubs[i] = schema.Ident(p)
	}
	opts := []string{"connect = false"}
	if s.hasSlot {
		opts = append(opts, "slot_name = "+schema.Literal(s.slot))
	} else {
		opts = append(opts, "slot_name = NONE")
	}
	if s.binary {
		opts = append(opts, "binary = true")
	}
	if s.streaming != s.defaultStreaming {
		switch s.streaming {
		case "true", "t":
			opts = append(opts, "streaming = on")
		case "p":
			opts = append(opts, "streaming = parallel")
		default:
			opts = append(opts, "streaming = off")
		}
	}
	if s.twoPhase != "" && s.twoPhase != "d" {
		opts = append(opts, "two_phase = on")
	}
	if s.disableOnError {
		opts = append(opts, "disable_on_error = true")
	}
	if s.hasPasswordRequired && !s.passwordRequired {
		opts = append(opts, "password_required = false")
	}
	if s.runAsOwner {
		opts = append(opts, "run_as_owner = true")
	}
	if s.origin != "" && s.origin != "any" {
		opts = append(opts, "origin = "+schema.Literal(s.origin))
	}
	if s.failover {
		opts = append(opts, "failover = true")
	}
	if s.syncCommit != "off" {
		opts = append(opts, "synchronous_commit = "+schema.Literal(s.syncCommit))
	}
	return "CREATE SUBSCRIPTION " + schema.Ident(name) + " CONNECTION " + schema.Literal(s.conninfo) +
		" PUBLICATION " + strings.Join(pubs, ", ") + " WITH (" + strings.Join(opts, ", ") + ");"
}

// loadSubscriptions reads the current database's subscriptions, as pg_dump
// does only for a superuser (their connection strings are not for others
// to read). They are created disabled, with connect = false. With
// NoSubscriptions, nothing.
func loadSubscriptions(ctx context.Context, q Querier, f *features, add func(*schema.Object)) error {
	if f.opts.NoSubscriptions {
		return nil
	}
	var super bool
	if err := q.QueryRow(ctx, `SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user`).Scan(&super); err != nil {
		return fmt.Errorf("catalog: read whether the user is a superuser: %w", err)
	}
	if !super {
		return nil
	}
	cols := `'', false, false, true, false, '', false`
	switch {
	case f.hasSubscriptionFailover():
		cols = `s.subtwophasestate::text, s.subdisableonerr, true, s.subpasswordrequired, s.subrunasowner, s.suborigin, s.subfailover`
	case f.hasSubscriptionOrigin():
		cols = `s.subtwophasestate::text, s.subdisableonerr, true, s.subpasswordrequired, s.subrunasowner, s.suborigin, false`
	case f.hasSubscriptionTwoPhase():
		cols = `s.subtwophasestate::text, s.subdisableonerr, false, true, false, '', false`
	}
	binary := `false, 'false'`
	if f.hasSubscriptionBinary() {
		binary = `s.subbinary, s.substream::text`
	}
	rows, err := q.Query(ctx, `SELECT s.oid, s.subname, pg_catalog.pg_get_userbyid(s.subowner), s.subconninfo,
			COALESCE(s.subslotname::text, ''), s.subslotname IS NOT NULL, s.subpublications::text[],
			`+binary+`, s.subsynccommit, `+cols+`
		FROM pg_catalog.pg_subscription s
		WHERE s.subdbid = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = current_database())
		ORDER BY s.subname`)
	if err != nil {
		return fmt.Errorf("catalog: read subscriptions: %w", err)
	}
	var (
		oid         uint32
		name, owner string
		s           = subscription{defaultStreaming: f.defaultStreaming()}
	)
	_, err = pgx.ForEachRow(rows, []any{&oid, &name, &owner, &s.conninfo, &s.slot, &s.hasSlot, &s.publications,
		&s.binary, &s.streaming, &s.syncCommit, &s.twoPhase, &s.disableOnError, &s.hasPasswordRequired,
		&s.passwordRequired, &s.runAsOwner, &s.origin, &s.failover}, func() error {
		add(&schema.Object{
			Ref:    schema.Ref{Class: schema.ClassPgSubscription, OID: oid},
			Kind:   schema.KindSubscription,
			Name:   name,
			Owner:  owner,
			Ident:  "SUBSCRIPTION " + schema.Ident(name),
			Create: subscriptionSQL(name, &s),
			Drop:   "DROP SUBSCRIPTION " + schema.Ident(name) + ";",
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: read subscriptions: %w", err)
	}
	return nil
}
