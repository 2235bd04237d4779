package bench

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Dataset describes the generated database. The zero value of a field
// means its default; Generate writes the same rows for the same Dataset.
type Dataset struct {
	// Rows is the number of rows of the dominant table, events
	// (default DefaultRows).
	Rows int `json:"rows"`
	// SmallTables is the number of small tables, dim_000... (default
	// DefaultSmallTables).
	SmallTables int `json:"small_tables"`
	// Seed seeds PostgreSQL's random() (setseed), in [-1, 1]; 0 means
	// DefaultSeed.
	Seed float64 `json:"seed"`
}

// Defaults of a Dataset.
const (
	DefaultRows        = 2_000_000
	DefaultSmallTables = 120
	DefaultSeed        = 0.42
)

// DominantTable is the one big table, whose COPY is the single-stream limit.
const DominantTable = "events"

// vocabulary is the number of words the free text draws from, by a Zipf
// law; syllables builds them, the most frequent ones shortest.
const vocabulary = 8192

var syllables = []string{
	"a", "e", "i", "o", "u", "ka", "ki", "ko", "ta", "te", "to", "ra", "ri", "ro", "na", "ne",
	"no", "ma", "mi", "mo", "sa", "se", "so", "la", "li", "lo", "da", "de", "do", "pa", "pe", "po",
	"ba", "be", "bo", "ga", "go", "ha", "he", "ho", "va", "ve", "vo", "za", "ze", "zo", "ya", "yo",
}

// maxWords is the most words a note has; each has 3 + [0, 16) words.
const maxWords = 18

// WithDefaults returns d with every zero field set to its default.
func (d Dataset) WithDefaults() Dataset {
	if d.Rows <= 0 {
		d.Rows = DefaultRows
	}
	if d.SmallTables <= 0 {
		d.SmallTables = DefaultSmallTables
	}
	if d.Seed == 0 {
		d.Seed = DefaultSeed
	}
	return d
}

// smallRows is the row count of small table i: 200 to 1999, spread.
func smallRows(i int) int { return 200 + (i*7919)%1800 }

// smallName is the name of small table i.
func smallName(i int) string { return fmt.Sprintf("dim_%03d", i) }

// smallParent is the small table that small table i references (a binary
// tree rooted at dim_000), or -1 for the root.
func smallParent(i int) int {
	if i == 0 {
		return -1
	}
	return (i - 1) / 2
}

// Statements returns the SQL that creates and fills the dataset in an
// empty database, in order, each to run on its own on one connection (the
// setseed calls make random() deterministic for that session). Loading
// data before creating indexes and foreign keys keeps it fast.
func (d Dataset) Statements() []string {
	d = d.WithDefaults()
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }

	add(`CREATE TABLE public.%s (
	id bigint NOT NULL,
	uid uuid NOT NULL,
	created_at timestamptz NOT NULL,
	amount numeric(12,2) NOT NULL,
	status text NOT NULL,
	client_ip inet,
	attrs jsonb NOT NULL,
	note text
)`, DominantTable)
	add(`SELECT setseed(%g)`, d.Seed)
	add(`INSERT INTO public.%s %s`, DominantTable, dominantSelect(d.Rows))

	for i := range d.SmallTables {
		add(`CREATE TABLE public.%s (
	id integer NOT NULL,
	parent_id integer,
	event_id bigint NOT NULL,
	code text NOT NULL,
	label text,
	qty integer NOT NULL,
	price numeric(10,2),
	updated_at timestamptz NOT NULL
)`, smallName(i))
		parent := "NULL::integer"
		if p := smallParent(i); p >= 0 {
			parent = fmt.Sprintf("1 + floor(random() * %d)::int", smallRows(p))
		}
		add(`INSERT INTO public.%s
SELECT g, %s, 1 + floor(random() * %d)::bigint,
	'%s-' || lpad(g::text, 5, '0'),
	CASE WHEN random() < 0.1 THEN NULL ELSE initcap(%s) END,
	floor(random() * 1000)::int,
	round((random() * 500)::numeric, 2),
	timestamptz '2024-01-01 00:00:00+00' + random() * interval '365 days'
FROM (SELECT g, floor(exp(random() * ln(512)))::int - 1 AS r FROM generate_series(1, %d) g OFFSET 0) s`,
			smallName(i), parent, d.Rows, strings.ToUpper(smallName(i)), wordExpr("r"), smallRows(i))
	}

	add(`ALTER TABLE public.%[1]s ADD CONSTRAINT %[1]s_pkey PRIMARY KEY (id)`, DominantTable)
	add(`CREATE INDEX %[1]s_created_at_idx ON public.%[1]s (created_at)`, DominantTable)
	add(`CREATE INDEX %[1]s_status_created_at_idx ON public.%[1]s (status, created_at)`, DominantTable)
	for i := range d.SmallTables {
		n := smallName(i)
		add(`ALTER TABLE public.%[1]s ADD CONSTRAINT %[1]s_pkey PRIMARY KEY (id)`, n)
		add(`ALTER TABLE public.%[1]s ADD CONSTRAINT %[1]s_code_key UNIQUE (code)`, n)
		add(`CREATE INDEX %[1]s_event_id_idx ON public.%[1]s (event_id)`, n)
		if smallParent(i) >= 0 {
			add(`CREATE INDEX %[1]s_parent_id_idx ON public.%[1]s (parent_id)`, n)
		}
	}
	for i := range d.SmallTables {
		n := smallName(i)
		add(`ALTER TABLE public.%[1]s ADD CONSTRAINT %[1]s_event_id_fkey FOREIGN KEY (event_id) REFERENCES public.%[2]s (id)`,
			n, DominantTable)
		if p := smallParent(i); p >= 0 {
			add(`ALTER TABLE public.%[1]s ADD CONSTRAINT %[1]s_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES public.%[2]s (id)`,
				n, smallName(p))
		}
	}
	return out
}

// dominantSelect is the SELECT that makes the rows of the dominant table:
// ids in order, a uuid from md5, increasing timestamps with jitter, skewed
// amounts, a skewed status, inet addresses (5% NULL), a jsonb of four keys
// and free text of 3 to 18 Zipf-distributed words. The random values of a
// row are drawn in a subquery kept from being flattened (OFFSET 0), so each
// is drawn once.
func dominantSelect(rows int) string {
	var ranks, words []string
	for k := 1; k <= maxWords; k++ {
		ranks = append(ranks, fmt.Sprintf("floor(exp(random() * ln(%d)))::int - 1 AS r%d", vocabulary, k))
		w := wordExpr(fmt.Sprintf("r%d", k))
		if k > 3 {
			w = fmt.Sprintf("CASE WHEN n >= %d THEN %s END", k, w)
		}
		words = append(words, w)
	}
	return fmt.Sprintf(`SELECT g,
	md5(g::text || '-uid')::uuid,
	timestamptz '2021-01-01 00:00:00+00' + g * interval '40 seconds' + random() * interval '1 hour',
	round((random() ^ 3 * 5000)::numeric, 2),
	('{delivered,delivered,delivered,delivered,delivered,shipped,shipped,pending,cancelled,refunded}'::text[])[1 + floor(random() * 10)::int],
	CASE WHEN random() < 0.05 THEN NULL ELSE '10.0.0.0'::inet + floor(random() * 16777216)::bigint END,
	jsonb_build_object(
		'source', ('{web,ios,android,api}'::text[])[1 + floor(random() * 4)::int],
		'version', (1 + floor(random() * 3))::int || '.' || floor(random() * 20)::int,
		'score', round((random() * 100)::numeric, 1),
		'promo', random() < 0.2),
	concat_ws(' ', %s)
FROM (SELECT g, 3 + floor(random() * %d)::int AS n, %s
	FROM generate_series(1, %d) g OFFSET 0) r`,
		strings.Join(words, ", "), maxWords-2, strings.Join(ranks, ", "), rows)
}

// wordExpr is an SQL expression for the word of rank r (an integer
// expression evaluated three times, so a column, not random()): one to
// three syllables, the lowest ranks shortest.
func wordExpr(r string) string {
	n := len(syllables)
	arr := "'{" + strings.Join(syllables, ",") + "}'::text[]"
	return fmt.Sprintf("((%[1]s)[1 + (%[2]s) %% %[3]d] || CASE WHEN (%[2]s) >= %[3]d THEN (%[1]s)[1 + (%[2]s) / %[3]d %% %[3]d] ELSE '' END"+
		" || CASE WHEN (%[2]s) >= %[4]d THEN (%[1]s)[1 + (%[2]s) / %[4]d %% %[3]d] ELSE '' END)",
		arr, r, n, n*n)
}

// Generate creates the dataset in the (empty) database conn is connected
// to, then VACUUM (FREEZE, ANALYZE)s it, so that no dump is the first to
// set hint bits, and CHECKPOINTs.
func (d Dataset) Generate(ctx context.Context, conn *pgconn.PgConn) error {
	for _, stmt := range d.Statements() {
		if _, err := conn.Exec(ctx, stmt).ReadAll(); err != nil {
			first, _, _ := strings.Cut(stmt, "\n")
			return fmt.Errorf("bench: generate dataset: %s: %w", first, err)
		}
	}
	for _, stmt := range []string{"VACUUM (FREEZE, ANALYZE)", "CHECKPOINT"} {
		if _, err := conn.Exec(ctx, stmt).ReadAll(); err != nil {
			return fmt.Errorf("bench: generate dataset: %s: %w", stmt, err)
		}
	}
	return nil
}

// checkQuery returns a query of one row that summarizes a database made
// from d: the rows of every table, a checksum of the dominant table's rows,
// and the number of tables, indexes and constraints in public. A restore
// that matches the source on it has every row and object.
func (d Dataset) checkQuery() string {
	d = d.WithDefaults()
	var counts []string
	counts = append(counts, fmt.Sprintf("(SELECT count(*) FROM public.%s)", DominantTable))
	for i := range d.SmallTables {
		counts = append(counts, fmt.Sprintf("(SELECT count(*) FROM public.%s)", smallName(i)))
	}
	return fmt.Sprintf(`SELECT (%s)::text
	|| ' rows, checksum ' || (SELECT coalesce(sum(hashtext(e::text)::bigint), 0) FROM public.%s e)::text
	|| ', ' || (SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'i'))::text
	|| ' tables and indexes, ' || (SELECT count(*) FROM pg_constraint WHERE connamespace = 'public'::regnamespace)::text
	|| ' constraints'`, strings.Join(counts, " + "), DominantTable)
}
