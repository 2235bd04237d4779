package catalog

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pgark/pgark/schema"
)

// largeObjectGroup is how many large objects one BLOB METADATA object (and
// its BLOBS data) holds at most, as pg_dump 17 groups them: few enough
// that one entry's SQL stays small, many enough that thousands of large
// objects make a handful of entries and round trips, not thousands.
const largeObjectGroup = 1000

// loRow is one large object as pg_largeobject_metadata holds it.
type loRow struct {
	oid     uint32
	owner   string
	acl     []string // nil: the default
	def     []string // acldefault('L', owner)
	comment *string
}

// loadLargeObjects reads every large object (pg_largeobject_metadata) and
// adds, per group of up to largeObjectGroup large objects of one owner and
// one ACL:
//
//   - a BLOB METADATA object (pre-data): SELECT pg_catalog.lo_create('oid');
//     for each, its Owner, and an Ident of one "LARGE OBJECT <oid>" line per
//     large object, so that restore gives each its owner (or not, with -O);
//     Drop is lo_unlink of each;
//   - an ACL object with the GRANT and REVOKE statements of each, if the
//     group's ACL is not the default;
//   - a COMMENT object with COMMENT ON LARGE OBJECT for each that has one
//     (pg_description, classoid pg_largeobject), if any does;
//   - a BLOBS object (data) whose LargeObjects the dump reads.
//
// The group's Ref is {ClassPgLargeObject, first OID}, shared by its
// comment, ACL and BLOBS objects, which Sort knows as derived from the
// group. Tags are pg_dump 17's: "first..last" for the group,
// "LARGE OBJECTS first..last" for its comment and ACL.
func loadLargeObjects(ctx context.Context, q Querier, _ *features, add func(*schema.Object)) error {
	rows, err := q.Query(ctx, `
		SELECT m.oid, pg_catalog.pg_get_userbyid(m.lomowner)::text, m.lomacl::text[],
			pg_catalog.acldefault('L', m.lomowner)::text[], d.description
		FROM pg_catalog.pg_largeobject_metadata m
		LEFT JOIN pg_catalog.pg_description d
			ON d.classoid = 2613 AND d.objoid = m.oid AND d.objsubid = 0
		ORDER BY 2, m.lomacl::text[]::text COLLATE "C", 1`)
	if err != nil {
		return fmt.Errorf("catalog: read large objects: %w", err)
	}
	var (
		r     loRow
		group []loRow
	)
	flush := func() error {
		if len(group) == 0 {
			return nil
		}
		err := addLargeObjectGroup(group, add)
		group = group[:0]
		return err
	}
	_, err = pgx.ForEachRow(rows, []any{&r.oid, &r.owner, &r.acl, &r.def, &r.comment}, func() error {
		if startsGroup(group, r) {
			if err := flush(); err != nil {
				return err
			}
		}
		group = append(group, r)
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return fmt.Errorf("catalog: read large objects: %w", err)
	}
	return nil
}

// startsGroup says whether large object r, next in the order of owner,
// ACL and OID, starts a new group after group: a full group, or another
// owner or ACL (a NULL ACL, the default, differs from an empty one).
func startsGroup(group []loRow, r loRow) bool {
	if len(group) == 0 {
		return false
	}
	g := group[0]
	return len(group) >= largeObjectGroup || g.owner != r.owner ||
		(g.acl == nil) != (r.acl == nil) || !slices.Equal(g.acl, r.acl)
}

// addLargeObjectGroup adds the objects of one group of large objects of
// one owner and ACL, in OID order as the query returns them.
func addLargeObjectGroup(group []loRow, add func(*schema.Object)) error {
	oids := make([]uint32, len(group))
	var create, drop, ident, comments, acls strings.Builder
	for i, lo := range group {
		oids[i] = lo.oid
		id := strconv.FormatUint(uint64(lo.oid), 10)
		fmt.Fprintf(&create, "SELECT pg_catalog.lo_create('%s');\n", id)
		fmt.Fprintf(&drop, "SELECT pg_catalog.lo_unlink('%s');\n", id)
		fmt.Fprintf(&ident, "LARGE OBJECT %s\n", id)
		if lo.comment != nil {
			fmt.Fprintf(&comments, "COMMENT ON LARGE OBJECT %s IS %s;\n", id, schema.Literal(*lo.comment))
		}
		if lo.acl != nil {
			sql, err := schema.ACLStatements(schema.GrantTarget{Type: "LARGE OBJECT", Name: id, Owner: lo.owner}, lo.acl, lo.def)
			if err != nil {
				return fmt.Errorf("privileges of large object %s: %w", id, err)
			}
			if sql != "" {
				acls.WriteString(sql + "\n")
			}
		}
	}
	name := strconv.FormatUint(uint64(oids[0]), 10)
	if len(oids) > 1 {
		name += ".." + strconv.FormatUint(uint64(oids[len(oids)-1]), 10)
	}
	ref := schema.Ref{Class: schema.ClassPgLargeObject, OID: oids[0]}
	owner := group[0].owner
	add(&schema.Object{
		Ref:          ref,
		Kind:         schema.KindBlobMetadata,
		Name:         name,
		Owner:        owner,
		Ident:        strings.TrimSuffix(ident.String(), "\n"),
		Create:       strings.TrimSuffix(create.String(), "\n"),
		Drop:         strings.TrimSuffix(drop.String(), "\n"),
		LargeObjects: oids,
	})
	for _, x := range []struct {
		kind schema.Kind
		sql  string
	}{{schema.KindComment, comments.String()}, {schema.KindACL, acls.String()}} {
		if x.sql == "" {
			continue
		}
		add(&schema.Object{
			Ref:    ref,
			Kind:   x.kind,
			Name:   "LARGE OBJECTS " + name,
			Owner:  owner,
			Create: strings.TrimSuffix(x.sql, "\n"),
			Deps:   []schema.Ref{ref},
		})
	}
	add(&schema.Object{
		Ref:          ref,
		Kind:         schema.KindBlobs,
		Name:         name,
		Owner:        owner,
		Deps:         []schema.Ref{ref},
		LargeObjects: oids,
	})
	return nil
}
