package catalog

import "context"

// Load reads every user object of the database q is connected to. Run it
// in the dump's snapshot transaction. It sets the session's search_path to
// empty, as pg_dump does, so that every name the server prints is qualified.
func Load(ctx context.Context, q Querier, opts Options) (*Catalog, error) {
	loaders := []loader{loadRelations, loadObjects, loadLargeObjects, loadKinds}
	if opts.Statistics {
		loaders = append(loaders, loadStatistics)
	}
	return load(ctx, q, opts, loaders,
		[]finisher{loadCommentsAndACLs, loadKindCommentsAndACLs, loadSecurityLabels})
}
