#!/usr/bin/env bash
# tests/fuzz/run.sh: builds every libFuzzer target in tests/fuzz with clang
# (ASan + UBSan), writes their seed corpora into a temp folder, and runs each
# for N seconds, one process at a time.
#
#   tests/fuzz/run.sh [SECONDS] [TARGET...]     (default 60 s, every target)
#   FUZZ_OUT=/tmp/x tests/fuzz/run.sh 300 parquet thrift
#
# Targets: csv parquet thrift project http_json value template lineage. Binaries, seeds, the
# growing corpora and crash artifacts live in $FUZZ_OUT (default
# /tmp/sluice-fuzz); nothing is written into the tree. Parquet seeds come
# from our writer and, when node and @duckdb/node-api are installed, from
# DuckDB. Exits 1 when a target found a crash, leak, hang or UB; the last
# line of each target's log is its execution count. Run from anywhere.
set -uo pipefail

SECS=${1:-60}
shift || true
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=${FUZZ_OUT:-/tmp/sluice-fuzz}
CC=${FUZZ_CC:-clang}
CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -I src"
ALL=(csv parquet thrift project http_json value template lineage)
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=("${ALL[@]}")

mkdir -p "$OUT"/bin "$OUT"/artifacts
cd "$ROOT" || exit 2

# The sources and libraries of each target (the same as its header comment).
srcs() {
	case $1 in
	csv) echo "src/formats/csv/*.c src/batch/*.c src/base/*.c -lzstd -lz" ;;
	parquet) echo "src/formats/parquet/reader*.c src/formats/parquet/decode.c \
		src/formats/parquet/thrift_read.c src/formats/parquet/codec.c \
		src/batch/*.c src/base/*.c -lzstd -lz -lsnappy" ;;
	thrift) echo "src/formats/parquet/reader_meta.c src/formats/parquet/thrift_read.c \
		src/batch/*.c src/base/*.c" ;;
	project) echo "src/project/*.c src/sources/*.c src/formats/csv/*.c src/formats/parquet/*.c \
		src/store/*.c src/warehouse/*.c src/batch/*.c src/base/*.c -I/usr/include/postgresql \
		-lyaml -lsqlite3 -lpq -lcrypto -lssl -lcurl -ljansson -lyajl -lxxhash -lzstd -lz -lsnappy -lm" ;;
	http_json) echo "src/sources/http_json.c src/sources/http_stream.c src/batch/*.c \
		src/base/*.c -ljansson -lyajl -lxxhash -lcurl" ;;
	value) echo "src/batch/*.c src/base/*.c" ;;
	template) echo "src/template/*.c src/base/*.c -DTPL_MAX_STRING=1048576u -DTPL_MAX_RENDER_BYTES=67108864u" ;;
	lineage) echo "src/quality/lineage.c src/quality/lineage_trace.c src/quality/lineage_expr.c \
		src/quality/lineage_util.c src/base/*.c -lpg_query -ljansson" ;;
	*) return 1 ;;
	esac
}

build() {
	local t=$1
	# shellcheck disable=SC2046
	$CC $CFLAGS "tests/fuzz/fuzz_$t.c" $(srcs "$t") -lxxhash -lm -lpthread -o "$OUT/bin/fuzz_$t"
}

# A seed file from printf-style text.
seed() { printf "$2" >"$1"; }

seeds_csv() {
	local d=$1
	seed "$d/plain" '\x00a,b,c\n1,2,3\n4,"x,y",6\n'
	seed "$d/quoted" '\x02id;name\n1;"he said ""hi"""\n2;\\"esc\n'
	seed "$d/nulls" '\x0cNA,,x\n1,NA,2024-01-31\n,3.5,true\n'
	seed "$d/tiny_buf" '\x20a,b\n"multi\nline",2\n'
}

seeds_parquet() {
	local d=$1
	$CC -g -O1 -I src tests/fuzz/gen_parquet_seeds.c src/formats/parquet/*.c \
		src/batch/*.c src/base/*.c -lzstd -lz -lsnappy -lxxhash -lm -lpthread \
		-o "$OUT/bin/gen_parquet_seeds" && "$OUT/bin/gen_parquet_seeds" "$d" ||
		echo "warning: our writer's seeds failed" >&2
	if command -v node >/dev/null && [ -d node_modules/@duckdb/node-api ]; then
		node tests/fuzz/gen_duckdb_seeds.mjs "$d" || echo "warning: DuckDB seeds failed" >&2
	else
		echo "note: no node/@duckdb/node-api: Parquet seeds from our writer only" >&2
	fi
}

# Footers and page headers cut from the Parquet seeds (mode byte first).
seeds_thrift() {
	local d=$1 pq="$OUT/seeds/parquet" f b len tmp
	mkdir -p "$pq"
	[ -n "$(ls -A "$pq")" ] || seeds_parquet "$pq"
	tmp=$(mktemp)
	for f in "$pq"/*; do
		b=$(basename "$f")
		tail -c +2 "$f" >"$tmp"
		len=$(tail -c 8 "$tmp" | head -c 4 | od -An -tu4 | tr -d ' ')
		[ -n "$len" ] || continue
		{ printf '\x00'; tail -c $((len + 8)) "$tmp" | head -c "$len"; } >"$d/footer_$b"
		{ printf '\x02\x0c'; tail -c $((len + 8)) "$tmp" | head -c "$len"; } >"$d/skip_$b"
		{ printf '\x01'; tail -c +5 "$tmp" | head -c 200; } >"$d/page_$b"
	done
	rm -f "$tmp"
}

seeds_project() {
	local d=$1
	seed "$d/min" 'name: shop\n'
	seed "$d/full" 'name: shop\nlake: ./lake\ntarget: pg\ntargets:\n  local: {type: sqlite, path: ./w.db}\n  pg:\n    type: postgres\n    host: ${FUZZ_SET}\n    port: 5432\n    password: ${FUZZ_UNSET:-secret}\n    schema: analytics\nschedule: "0 2 * * 1-5"\nvars: {a: 1, b: [x, {c: d}]}\n'
	seed "$d/csv" 'name: s\n\0source: files\nkind: csv\ntables:\n  - name: customers\n    path: data/c*.csv\n    primary_key: [id]\n    columns: {id: int64, d: "decimal(10,2)"}\n    write: merge\n    max_bad_rows: 100\n    delimiter: tab\n    nulls: ["", NA]\n'
	seed "$d/pg" 'name: s\n\0source: db\nkind: postgres\nconnection: postgres://u:pw@h/db\ntables:\n  - name: orders\n    cursor: updated_at\n    lookback: 2h\n    write: merge\n    primary_key: id\n'
	seed "$d/http" 'name: s\n\0source: rates\nkind: http\ntables:\n  - name: rates\n    url: http://127.0.0.1:8765/r\n    params: {base: EUR, since: "{{ watermark }}"}\n    auth: {bearer: "${FUZZ_SET}"}\n    records: data.items\n    pagination: {type: cursor, next: meta.next, param: cursor}\n    rate_limit: 2.5\n    flatten: json\n'
	seed "$d/s3" 'name: s\n\0source: drops\nkind: s3\ntables:\n  - name: events\n    url: s3://landing/e/*.csv.gz\n    format: csv\n    header: false\n'
	seed "$d/anchors" 'name: s\nvars:\n  a: &a [x, y]\n  b: [*a, *a]\n'
	seed "$d/bad" 'name: s\ntargets:\n  l: {type: sqlit}\n'
}

seeds_http_json() {
	local d=$1
	seed "$d/items" 'data.items\n{"data":{"items":[{"id":1,"day":"2024-01-31","ts":"2024-01-31T10:00:00Z","x":1.5,"ok":true,"c":{"a":{"b":null}},"t":[1,2]},{"id":2.5,"day":"2024-02-01T00:00:00+01:00","x":null,"s":"str"}]}}'
	seed "$d/root" '\n[{"a":1},{"a":"x"},3,{"a":{"b":1}},{"a__b":2}]'
	seed "$d/index" 'data.0\n{"data":[[{"k":"v"}]]}'
	seed "$d/link" '<https://x/p?page=2>; rel="next", <https://x/p?page=9>; rel=last\n[]'
	seed "$d/retry" 'Wed, 21 Oct 2015 07:28:00 GMT\n{"a":[]}'
	seed "$d/tmpl" 'x{{ watermark }}y{{watermark}}\n[{"w":"{{ watermark }}"}]'
	seed "$d/cursor" 'data\n{"data":[{"n":123456789012345678901234},{"f":1e999},{"s":"a\\"b"}],"meta":{"next":"c2","total":3}}'
	seed "$d/big" "data\n{\"data\":[{\"id\":1},{\"s\":\"$(printf 'x%.0s' $(seq 5000))\"},{\"id\":3}]}"
}

seeds_value() {
	local d=$1 i=0 s
	for s in '\x00\x00\x00true' '\x01\x00\x00-2147483648' '\x02\x00\x00-9223372036854775808' \
		'\x03\x00\x001.5e300' '\x03\x00\x00-0' '\x03\x00\x00nan' '\x04\x25\x0a-1234567.891e-3' \
		'\x04\x12\x02+0.50' '\x04\x05\x001e3' '\x05\x00\x00h\xc3\xa9llo' \
		'\x06\x00\x002024-02-29' '\x07\x00\x002024-01-31T10:20:30.123456+05:30' \
		'\x07\x00\x001970-01-01 00:00Z' '\x07\x00\x009999-12-31T23:59:59.999999-01:00' \
		'\x08\x10\x0412.5000'; do
		seed "$d/seed$i" "$s"
		i=$((i + 1))
	done
}

seeds_template() {
	local d=$1
	seed "$d/model" '\x00select {{ s | lower }}, {%% for c in l %%}{{ loop.index }}{{ c ~ "," if not loop.last }}{%% endfor %%}\nfrom {{ this }} {# c #} {{ this.schema }}\n'
	seed "$d/macro" '\x00{%% macro m(a, b=1, c="x") -%%}\n{{ a }}{{ b }}{{ varargs }}{{ kwargs }}{{ caller() if caller }}\n{%%- endmacro %%}{%% call(x) m(1, 2, 3, k=4) %%}[{{ x }}]{%% endcall %%}{{ m(a=1) }}'
	seed "$d/dbt" '\x01{%% test t(model, column_name) %%}{{ return(model ~ column_name) }}{%% endtest %%}{%% snapshot s %%}{%% set ns = namespace(n=0) %%}{%% set ns.n = ns.n + 1 %%}{{ ns.n }}{%% endsnapshot %%}{%% docs d %%}x{%% enddocs %%}'
	seed "$d/filters" '\x00{{ l|map("string")|join("-") }}{{ [3,1]|sort(reverse=true)|first }}{{ {"a":[1,2.5,none]}|tojson }}{{ "a\nb"|indent(2, true) }}{{ 2.5|round }}{{ s[1:] }}{{ s[::-1] }}{{ "%%s" %% s }}{{ "{}".format(1) }}'
	seed "$d/stmts" '\x00{%% set d = {} %%}{%% do d.update({"k": l}) %%}{%% filter upper %%}{{ d }}{%% endfilter %%}{%% raw %%}{{ x }}{%% endraw %%}{%% with a = 1 %%}{{ a }}{%% endwith %%}{%% for x in l if x %%}{%% if loop.first %%}{%% continue %%}{%% endif %%}{{ loop.cycle(1, 2) }}{%% break %%}{%% endfor %%}'
}

seeds_lineage() {
	local d=$1
	seed "$d/jaffle" '\x01with c as (select * from "main"."stg_customers"),\no as (select customer_id, min(id) as first, count(*) over (partition by a order by b) as n from o2 group by 1)\nselect c.*, o.first, coalesce(o.n, 0)::int as n from c left join o using (customer_id)'
	seed "$d/union" '\x00select a, case when b > 1 then id end from main.t union all select x.a, upper(x.b) from (values (1, 2)) x(a, b) except select 1, 2'
	seed "$d/recursive" '\x01with recursive r(n, m) as (select id, a from t union all select n + 1, r.m from r join t using (id) where n < 9) select * from r natural join t'
	seed "$d/sublink" '\x03select (select max(a) from fail f where f.id = t.id) as m, exists (select 1) from t, lateral (select t.b) s, generate_series(1, 3) g(i)'
	seed "$d/bad" '\x00select id from t qualify row_number() over () = 1'
}

status=0
summary=()
for t in "${TARGETS[@]}"; do
	if ! srcs "$t" >/dev/null; then
		echo "unknown target $t (known: ${ALL[*]})" >&2
		exit 2
	fi
	echo "== fuzz_$t: building" >&2
	if ! build "$t"; then
		echo "fuzz_$t: build failed" >&2
		status=1
		continue
	fi
	mkdir -p "$OUT/seeds/$t" "$OUT/corpus/$t"
	[ -n "$(ls -A "$OUT/seeds/$t")" ] || "seeds_$t" "$OUT/seeds/$t"
	log="$OUT/fuzz_$t.log"
	echo "== fuzz_$t: running ${SECS}s (log $log)" >&2
	"$OUT/bin/fuzz_$t" -max_total_time="$SECS" -rss_limit_mb=2048 -timeout=10 \
		-malloc_limit_mb=1024 -print_final_stats=1 \
		-artifact_prefix="$OUT/artifacts/$t-" \
		"$OUT/corpus/$t" "$OUT/seeds/$t" >"$log" 2>&1
	rc=$?
	execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$')
	if [ $rc -ne 0 ]; then
		status=1
		summary+=("fuzz_$t: FAILED after ${execs:-?} runs; see $log and $OUT/artifacts/$t-*")
		grep -m3 -E 'ERROR|SUMMARY|round trip|error' "$log" >&2
	else
		summary+=("fuzz_$t: ok, ${execs:-?} runs in ${SECS}s")
	fi
done
printf '%s\n' "${summary[@]}"
exit $status
