#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for the unit tests that need a real server.
#   source tests/lib/pg.sh; pg_start; ... "$SL_TEST_PG" ...; pg_stop
# Runs as the postgres user when invoked as root (initdb refuses root).

pg_bin() {
	local v
	for v in 15 16 17; do
		[[ -x /usr/lib/postgresql/$v/bin/$1 ]] && { echo "/usr/lib/postgresql/$v/bin/$1"; return; }
	done
	command -v "$1"
}

pg_as() {
	if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_start() {
	PG_DIR=$(mktemp -d /tmp/sluice-pg-XXXXXX)
	chmod 777 "$PG_DIR"
	[[ $(id -u) -eq 0 ]] && chown postgres "$PG_DIR"
	PG_PORT=$((30000 + RANDOM % 20000))
	pg_as "$(pg_bin initdb)" -D "$PG_DIR/data" -U postgres -A trust --no-sync -E UTF8 --locale=C >/dev/null
	pg_as "$(pg_bin pg_ctl)" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
		-o "-k $PG_DIR -p $PG_PORT -c listen_addresses='' -c fsync=off" start >/dev/null
	export SL_TEST_PG="host=$PG_DIR port=$PG_PORT user=postgres dbname=postgres"
	export PG_DIR PG_PORT
}

pg_stop() {
	[[ -n ${PG_DIR:-} ]] || return 0
	pg_as "$(pg_bin pg_ctl)" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
	rm -rf "$PG_DIR"
}
