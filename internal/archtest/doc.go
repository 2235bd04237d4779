// Package archtest holds no code, only a test: it enforces the import rules
// of STYLE.md on the module's package graph, as go list reports it.
//
// The rules, checked on non-test imports, directly and through any chain of
// our own packages:
//
//   - format and schema (all of schema/ but schema/catalog, which reads
//     pg_catalog) import nothing of ours outside themselves;
//   - dump and restore never import each other;
//   - internal/replication, internal/wal, internal/basebackup and
//     internal/recovery never import dump, restore, schema or format;
//   - nothing imports cmd/... or bench/...;
//   - internal/testcluster is imported only by tests and by bench/...
//
// A package that does not exist yet has no edges and breaks no rule.
package archtest
