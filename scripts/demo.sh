#!/usr/bin/env bash
# make demo: pgark's main job, end to end, on a throwaway PostgreSQL.
#   1. a throwaway cluster (the newest server binaries scripts/install-postgres.sh provides)
#   2. a small sample database (the round-trip corpus: every object kind, awkward names and data)
#   3. pgark dump -j 2, pgark list, pgark verify
#   4. pgark restore -j 2 into a new database
#   5. a check that both databases match: pg_dump --schema-only (when a pg_dump that can read the
#      server is on the machine) and a checksum of every table's rows
# Everything lives in a temp dir that is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-postgres.sh >/dev/null
make -s build
pgark=$PWD/bin/pgark

# The machine's newest server (its pg_dump can then check the result), else the newest from the npm cache.
newest() { printf '%s\n' "$@" | sort -V | tail -1; }
bindir=$(newest /usr/lib/postgresql/*/bin/initdb)
[[ -x $bindir ]] || bindir=$(newest .cache/pg/*/bin/initdb)
[[ -x $bindir ]] && bindir=$(dirname "$(readlink -f "$bindir")") || bindir=""
[[ -n $bindir ]] || { echo "demo: no PostgreSQL server binaries found" >&2; exit 1; }

work=$(mktemp -d /tmp/pgark-demo.XXXXXX)
chmod 755 "$work"
as_pg=()
if [[ $(id -u) == 0 ]]; then
	chown postgres "$work"
	as_pg=(runuser -u postgres --)
fi
port=$((20000 + RANDOM % 20000))
stop() {
	"${as_pg[@]}" "$bindir/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap stop EXIT

echo "== a throwaway PostgreSQL ($("$bindir/postgres" --version)) in $work"
"${as_pg[@]}" "$bindir/initdb" -D "$work/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >/dev/null
"${as_pg[@]}" "$bindir/pg_ctl" -D "$work/data" -l "$work/log" -w \
	-o "-k $work -c listen_addresses= -p $port -c fsync=off" start >/dev/null
export PGHOST=$work PGPORT=$port PGUSER=postgres

client() { # a client tool: the server's own, else the machine's newest
	local t
	for t in "$bindir/$1" "$(newest /usr/lib/postgresql/*/bin/"$1")"; do
		[[ -x $t ]] && { echo "$t"; return; }
	done
}
psql=$(client psql)
[[ -n $psql ]] || { echo "demo: psql is needed to load the sample database" >&2; exit 1; }

echo "== sample database 'shop'"
"$psql" -X -q -v ON_ERROR_STOP=1 -d postgres -c 'CREATE ROLE alice' -c 'CREATE ROLE "Bob Smith"' -c 'CREATE DATABASE shop'
"$psql" -X -q -v ON_ERROR_STOP=1 -d shop -f cmd/pgark/testdata/roundtrip/corpus.sql >/dev/null

echo "== pgark dump -j 2 -f $work/shop.pgark shop"
"$pgark" dump -j 2 -f "$work/shop.pgark" shop
echo "== pgark list"
"$pgark" list "$work/shop.pgark" >"$work/shop.list"
head -25 "$work/shop.list"
echo "   ... ($(grep -c '^[0-9]' "$work/shop.list") entries)"
echo "== pgark verify"
"$pgark" verify "$work/shop.pgark"
echo "== pgark restore -j 2 -d restored"
"$psql" -X -q -d postgres -c 'CREATE DATABASE restored'
"$pgark" restore -j 2 -d restored "$work/shop.pgark"

echo "== do they match?"
checksums() {
	"$psql" -X -At -d "$1" -c "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1" |
	while read -r rel; do
		printf '%s %s\n' "$rel" "$("$psql" -X -At -d "$1" -c "SELECT count(*) || ' rows, md5 ' || md5(coalesce(string_agg(t::text, E'\n' ORDER BY t::text), '')) FROM $rel t")"
	done
}
checksums shop >"$work/shop.rows"
checksums restored >"$work/restored.rows"
if ! diff -u "$work/shop.rows" "$work/restored.rows"; then
	echo "demo: FAILED: rows differ" >&2
	exit 1
fi
sed 's/^/   /' "$work/shop.rows"
pgdump=$(client pg_dump)
if [[ -n $pgdump ]] && "$pgdump" --schema-only -d shop >"$work/shop.sql" 2>/dev/null; then
	"$pgdump" --schema-only -d restored >"$work/restored.sql"
	strip() { grep -v -e '^--' -e '^\\restrict' -e '^\\unrestrict' "$1"; }
	if ! diff -u <(strip "$work/shop.sql") <(strip "$work/restored.sql"); then
		echo "demo: FAILED: pg_dump --schema-only differs" >&2
		exit 1
	fi
	echo "   pg_dump --schema-only: identical ($(strip "$work/shop.sql" | wc -l) lines)"
else
	echo "   (no pg_dump that reads this server: schema compared by rows only)"
fi
echo "== OK: the restored database matches the source"
