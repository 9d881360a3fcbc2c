// gen_duckdb_seeds.mjs: writes small Parquet files with DuckDB (every type
// the reader maps, NULLs, each codec, format v2 with data page v2 and delta
// encodings, several row groups) into a directory as fuzz_parquet seeds,
// each prefixed with the fuzzer's mode byte. Used by tests/fuzz/run.sh:
//   node tests/fuzz/gen_duckdb_seeds.mjs /tmp/seeds-parquet
import fs from 'node:fs';
import path from 'node:path';
import { duck } from '../lib/harness.mjs';

const dir = process.argv[2] || '.';
fs.mkdirSync(dir, { recursive: true });
const tmp = fs.mkdtempSync(path.join(dir, '.duck-'));
const q = (s) => `'${s.replaceAll("'", "''")}'`;

const ALL = (n) => `select case when i % 7 = 0 then null else i::INTEGER end as i,
    i::BIGINT * 1000000007 - 2500000000 as big,
    case when i % 7 = 2 then null else i % 3 = 0 end as b,
    case when i % 7 = 3 then null else (i - 20) / 7.0 end as dbl,
    ((i - 25) * 1.25)::DECIMAL(9,2) as d9,
    case when i % 7 = 5 then null else ((i - 25) * 3.1415)::DECIMAL(18,4) end as d18,
    ((i - 25) * 123456789.0123456789)::DECIMAL(38,10) as d38,
    case when i % 5 = 0 then null else 's' || i || 'é' end as s,
    'c' || (i % 3) as lowcard,
    ('1969-12-25'::DATE + i::INTEGER) as dt,
    '1969-12-31 23:00:00.123456'::TIMESTAMP + to_seconds(i * 3607) as ts,
    '2021-03-04 05:06:07.5+00'::TIMESTAMPTZ + to_minutes(i) as tstz
  from range(0, ${n}) t(i)`;
const MORE = `select (i % 100 - 50)::TINYINT as t8, (i * 7 - 3000)::SMALLINT as t16,
    (i % 250)::UTINYINT as u8, (4000000000 + i)::UINTEGER as u32,
    (18446744073709551615 - i)::UBIGINT as u64, (i / 8.0)::FLOAT as f,
    case when i % 3 = 0 then null else uuid() end as id,
    ('2024-05-06 07:08:09.123'::TIMESTAMP + to_seconds(i))::TIMESTAMP_MS as tms,
    ('2024-05-06 07:08:09.123456'::TIMESTAMP + to_seconds(i))::TIMESTAMP_NS as tns
  from range(0, 12) t(i)`;

const seeds = [
  ['duck_zstd', 0x00, ALL(12), 'compression zstd'],
  ['duck_snappy', 0x05, ALL(12), 'compression snappy'],
  ['duck_gzip', 0x0a, ALL(8), 'compression gzip'],
  ['duck_none', 0x0f, ALL(12), 'compression uncompressed'],
  ['duck_v2', 0x01, ALL(12), 'compression uncompressed, parquet_version v2'],
  ['duck_v2_req', 0x02, `select i::INTEGER as i, i::BIGINT * 3 as big, 'v' || i as s,
      i / 3.0 as dbl from range(0, 16) t(i)`, 'compression uncompressed, parquet_version v2'],
  ['duck_more', 0x03, MORE, 'compression uncompressed'],
  ['duck_rowgroups', 0x06, ALL(30), 'compression uncompressed, row_group_size 10'],
];
for (const [name, mode, sql, opts] of seeds) {
  const file = path.join(tmp, name + '.parquet');
  await duck(`copy (${sql}) to ${q(file)} (format parquet, ${opts})`);
  fs.writeFileSync(path.join(dir, name), Buffer.concat([Buffer.from([mode]), fs.readFileSync(file)]));
}
fs.rmSync(tmp, { recursive: true, force: true });
