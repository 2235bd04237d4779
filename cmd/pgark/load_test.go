package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/pgark/pgark/internal/testcluster"
)

// A dump taken while a pgbench-like workload writes to the database must
// restore to one consistent snapshot. The workload runs pgbench's TPC-B
// transaction (one account, one teller and one branch changed by the same
// delta, one history row), so that in every committed state
//
//	sum(abalance) = sum(tbalance) = sum(bbalance) = sum(history.delta)
//
// and history has one row per committed transaction. The dump's -j workers
// copy the tables on different connections at different times: only a
// snapshot shared by all of them (pg_export_snapshot, SET TRANSACTION
// SNAPSHOT) keeps these sums equal in the archive.

// Load sizes: a few hundred thousand rows, so that the dump takes seconds.
const (
	loadBranches        = 4
	loadTellers         = 10 * loadBranches
	loadAccounts        = 300_000
	loadWorkers         = 4
	loadMaxTransactions = 2_000_000 // bounds the workload, which a deadline bounds too
)

func TestDumpUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("loads a database under a write workload")
	}
	c := testcluster.Start(t)
	c.CreateDB(t, "bank")
	c.Exec(t, "bank", fmt.Sprintf(`
		CREATE TABLE public.branches (bid integer PRIMARY KEY, bbalance bigint NOT NULL, filler char(88));
		CREATE TABLE public.tellers (tid integer PRIMARY KEY, bid integer NOT NULL, tbalance bigint NOT NULL, filler char(84));
		CREATE TABLE public.accounts (aid integer PRIMARY KEY, bid integer NOT NULL, abalance bigint NOT NULL, filler char(84));
		CREATE TABLE public.history (tid integer, bid integer, aid integer, delta bigint NOT NULL,
			mtime timestamp with time zone NOT NULL DEFAULT now(), filler char(22));
		INSERT INTO public.branches SELECT g, 0, '' FROM generate_series(1, %[1]d) g;
		INSERT INTO public.tellers SELECT g, (g - 1) %% %[1]d + 1, 0, '' FROM generate_series(1, %[2]d) g;
		INSERT INTO public.accounts SELECT g, (g - 1) %% %[1]d + 1, 0, '' FROM generate_series(1, %[3]d) g;
		ANALYZE;`, loadBranches, loadTellers, loadAccounts))

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	w := startWorkload(ctx, t, c, "bank")
	defer w.stop() // also on failure: no goroutine outlives the test

	// Let the workload get going, so that the snapshot falls among commits.
	w.waitCommits(t, 200)
	before := w.commits.Load()
	archive := filepath.Join(t.TempDir(), "bank.pgark")
	conn := []string{"-h", c.Host(), "-p", fmt.Sprint(c.Port()), "-U", c.User()}
	r := pgarkCtx(t, ctx, nil, append(conn, "dump", "-j", "2", "-f", archive, "bank")...)
	require.Equal(t, 0, r.code, "dump: %s", r.stderr)
	after := w.commits.Load()
	require.NoError(t, w.stop())
	total := w.commits.Load()
	t.Logf("workload: %d transactions before the dump, %d during it, %d in all", before, after-before, total)
	require.Greater(t, after, before, "the workload committed nothing while the dump ran")

	// The source holds every transaction; the invariants hold there too.
	src := readBankState(t, c, "bank")
	require.Equal(t, total, src.history, "the source must have one history row per committed transaction")
	src.requireConsistent(t)

	c.CreateDB(t, "bank_restored")
	r = pgarkCtx(t, ctx, nil, append(conn, "restore", "-j", "2", "-d", "bank_restored", archive)...)
	require.Equal(t, 0, r.code, "restore: %s", r.stderr)
	got := readBankState(t, c, "bank_restored")
	t.Logf("restored: %d history rows, sums %d/%d/%d/%d", got.history, got.accounts, got.tellers, got.branches, got.deltas)
	got.requireConsistent(t)
	require.GreaterOrEqual(t, got.history, before, "the archive misses transactions committed before the dump began")
	require.Less(t, got.history, total, "the archive has every transaction: its snapshot was not taken while the workload wrote")
	require.Equal(t, src.tables, got.tables, "tables and row counts of accounts, tellers and branches")
}

// bankState is what the invariants are checked on.
type bankState struct {
	accounts, tellers, branches, deltas int64 // sums of the balances and of history.delta
	history                             int64 // rows
	// tables are the user tables, each with its row count (history's
	// left out: it grows).
	tables map[string]int64
}

func readBankState(t *testing.T, c *testcluster.Cluster, db string) bankState {
	t.Helper()
	ctx := t.Context()
	conn, err := c.Connect(ctx, db)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	// One statement: one snapshot, also on the source while it is written.
	var s bankState
	err = conn.QueryRow(ctx, `SELECT
			(SELECT coalesce(sum(abalance), 0) FROM public.accounts),
			(SELECT coalesce(sum(tbalance), 0) FROM public.tellers),
			(SELECT coalesce(sum(bbalance), 0) FROM public.branches),
			(SELECT coalesce(sum(delta), 0) FROM public.history),
			(SELECT count(*) FROM public.history)`).Scan(&s.accounts, &s.tellers, &s.branches, &s.deltas, &s.history)
	require.NoError(t, err, "read balances of %s", db)
	rows, err := conn.Query(ctx, `SELECT c.relname FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1`)
	require.NoError(t, err)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	s.tables = map[string]int64{}
	for _, name := range names {
		var n int64
		if name != "history" {
			require.NoError(t, conn.QueryRow(ctx, "SELECT count(*) FROM public."+pgx.Identifier{name}.Sanitize()).Scan(&n))
		}
		s.tables[name] = n
	}
	return s
}

func (s bankState) requireConsistent(t *testing.T) {
	t.Helper()
	require.Positive(t, s.history, "history is empty: the workload never ran")
	require.Equal(t, s.accounts, s.tellers, "sum(abalance) = sum(tbalance)")
	require.Equal(t, s.accounts, s.branches, "sum(abalance) = sum(bbalance)")
	require.Equal(t, s.accounts, s.deltas, "sum(abalance) = sum(history.delta)")
}

// workload runs pgbench's TPC-B transaction on loadWorkers connections
// until stopped, its context ends, or it has committed loadMaxTransactions.
// Stopping lets each connection finish its transaction, so that every
// commit is counted; the context cuts them off only on failure.
type workload struct {
	commits  atomic.Int64
	stopping atomic.Bool
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	errMu    sync.Mutex
	err      error
	once     sync.Once
}

func startWorkload(ctx context.Context, t *testing.T, c *testcluster.Cluster, db string) *workload {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	w := &workload{cancel: cancel}
	for i := range loadWorkers {
		conn, err := c.Connect(ctx, db)
		if err != nil {
			cancel()
			w.wg.Wait()
			t.Fatalf("workload connection %d: %v", i, err)
		}
		w.wg.Go(func() {
			defer conn.Close(context.Background())
			if err := w.run(ctx, conn, rand.New(rand.NewPCG(uint64(i), 42))); err != nil && ctx.Err() == nil {
				w.errMu.Lock()
				w.err = errors.Join(w.err, fmt.Errorf("workload connection %d: %w", i, err))
				w.errMu.Unlock()
				cancel()
			}
		})
	}
	return w
}

// run loops over pgbench's TPC-B transaction.
func (w *workload) run(ctx context.Context, conn *pgx.Conn, rng *rand.Rand) error {
	for !w.stopping.Load() && w.commits.Load() < loadMaxTransactions {
		aid := rng.IntN(loadAccounts) + 1
		tid := rng.IntN(loadTellers) + 1
		bid := rng.IntN(loadBranches) + 1
		delta := rng.IntN(10001) - 5000
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			var balance int64
			if err := tx.QueryRow(ctx, `UPDATE public.accounts SET abalance = abalance + $1 WHERE aid = $2 RETURNING abalance`, delta, aid).Scan(&balance); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE public.tellers SET tbalance = tbalance + $1 WHERE tid = $2`, delta, tid); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE public.branches SET bbalance = bbalance + $1 WHERE bid = $2`, delta, bid); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO public.history (tid, bid, aid, delta) VALUES ($1, $2, $3, $4)`, tid, bid, aid, delta)
			return err
		})
		if err != nil {
			return err
		}
		w.commits.Add(1)
	}
	return nil
}

// waitCommits waits until the workload has committed n transactions.
func (w *workload) waitCommits(t *testing.T, n int64) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for w.commits.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("the workload committed %d transactions in a minute, not %d", w.commits.Load(), n)
		}
		w.errMu.Lock()
		err := w.err
		w.errMu.Unlock()
		require.NoError(t, err)
		time.Sleep(10 * time.Millisecond)
	}
}

// stop ends the workload and waits for it; it returns the first error a
// connection met before that.
func (w *workload) stop() error {
	w.once.Do(func() {
		w.stopping.Store(true)
		w.wg.Wait()
		w.cancel()
	})
	w.errMu.Lock()
	defer w.errMu.Unlock()
	return w.err
}
