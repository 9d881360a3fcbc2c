// Parquet files written by DuckDB, read by `sluice parquet`: every type with
// NULLs, every codec, several row groups, format v2 (data page v2 and delta
// encodings), projection, and corrupt files. Values are compared row by row
// with DuckDB's own reading of the same file.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { sluice, tmpdir, duck } from '../lib/harness.mjs';

const dir = tmpdir('sluice-pqr-');
const q = (s) => `'${s.replaceAll("'", "''")}'`;

// Every type the reader maps, with NULLs in every column at different rows.
const SOURCE = `
  select case when i % 7 = 0 then null else i::INTEGER end as i,
    case when i % 7 = 1 then null else i::BIGINT * 1000000007 - 2500000000000 end as big,
    case when i % 7 = 2 then null else i % 3 = 0 end as b,
    case when i % 7 = 3 then null else (i - 2000) / 7.0 end as dbl,
    case when i % 7 = 4 then null else ((i - 2500) * 1.25)::DECIMAL(9,2) end as d9,
    case when i % 7 = 5 then null else ((i - 2500) * 3.1415)::DECIMAL(18,4) end as d18,
    case when i % 7 = 6 then null else ((i - 2500) * 123456789.0123456789)::DECIMAL(38,10) end as d38,
    case when i % 5 = 0 then null else 'str "' || i || '" é€😀' || chr(10) || 'tab' || chr(9) || ',x' end as s,
    case when i % 11 = 0 then null else 'cat' || (i % 4) end as lowcard,
    case when i % 11 = 1 then null else ('1969-12-25'::DATE + i::INTEGER) end as dt,
    case when i % 13 = 0 then null else '1969-12-31 23:00:00.123456'::TIMESTAMP + to_seconds(i * 3607) end as ts,
    case when i % 17 = 0 then null else '2021-03-04 05:06:07.5+00'::TIMESTAMPTZ + to_minutes(i) end as tstz
  from range(0, 5000) t(i)`;

// DuckDB's reading of a file, rendered as the text sluice prints.
async function expected(file, cols) {
  const rows = await duck(`select ${cols} from read_parquet(${q(file)})`);
  return rows;
}

const ALL_COLS = `i::VARCHAR as i, big::VARCHAR as big, b::VARCHAR as b, dbl, d9::VARCHAR as d9,
  d18::VARCHAR as d18, d38::VARCHAR as d38, s, lowcard, strftime(dt, '%Y-%m-%d') as dt,
  epoch_us(ts)::VARCHAR as ts, epoch_us(tstz)::VARCHAR as tstz`;

// Parses one JSON line keeping numbers as their exact source text.
function parseLine(line) {
  let i = 0;
  const ws = () => { while (' \t\r\n'.includes(line[i])) i++; };
  const value = () => {
    ws();
    const c = line[i];
    if (c === '{') {
      const o = {};
      i++; ws();
      if (line[i] === '}') { i++; return o; }
      for (;;) {
        ws();
        const k = value();
        ws(); assert.equal(line[i++], ':');
        o[k] = value();
        ws();
        if (line[i] === ',') { i++; continue; }
        assert.equal(line[i++], '}');
        return o;
      }
    }
    if (c === '"') {
      let j = i + 1;
      while (line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
      const s = JSON.parse(line.slice(i, j + 1));
      i = j + 1;
      return s;
    }
    const m = /^(null|true|false|-?[0-9.eE+-]+)/.exec(line.slice(i));
    assert.ok(m, `bad JSON at ${i}: ${line.slice(i, i + 20)}`);
    i += m[0].length;
    return m[0] === 'null' ? null : { num: m[0], bool: m[0] === 'true' || m[0] === 'false' };
  };
  return value();
}

// Microseconds since the epoch of an ISO timestamp "YYYY-MM-DDTHH:MM:SS[.ffffff]Z".
function isoMicros(s) {
  const m = /^(-?\d{4,})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?Z$/.exec(s);
  assert.ok(m, `not an ISO timestamp: ${s}`);
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  return (BigInt(ms) * 1000n + BigInt((m[7] || '').padEnd(6, '0') || '0')).toString();
}

function catJson(file, extra = []) {
  const r = sluice(['parquet', 'cat', file, '--format', 'json', ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean).map(parseLine);
}

// Compares sluice's rows with DuckDB's, column by column.
function compareRows(got, want, kinds) {
  assert.equal(got.length, want.length, 'row count');
  for (let r = 0; r < want.length; r++) {
    for (const [col, kind] of Object.entries(kinds)) {
      const g = got[r][col], w = want[r][col];
      const where = `row ${r} column ${col}`;
      if (w === null || w === undefined) {
        assert.equal(g, null, where);
        continue;
      }
      assert.notEqual(g, null, `${where}: got NULL, want ${w}`);
      switch (kind) {
        case 'text': assert.equal(g.num, String(w), where); break;
        case 'bool': assert.equal(g.num, String(w), where); break;
        case 'double': assert.equal(Number(g.num), Number(w), where); break;
        case 'string': assert.equal(g, w, where); break;
        case 'date': assert.equal(g, w, where); break;
        case 'ts': assert.equal(isoMicros(g), w, where); break;
        default: throw new Error(kind);
      }
    }
  }
}

const KINDS = { i: 'text', big: 'text', b: 'bool', dbl: 'double', d9: 'text', d18: 'text',
  d38: 'text', s: 'string', lowcard: 'string', dt: 'date', ts: 'ts', tstz: 'ts' };

async function write(name, options) {
  const file = path.join(dir, name);
  await duck(`copy (${SOURCE}) to ${q(file)} (format parquet${options ? ', ' + options : ''})`);
  return file;
}

for (const codec of ['zstd', 'snappy', 'gzip', 'uncompressed']) {
  test(`every type with NULLs matches DuckDB (${codec})`, async () => {
    const file = await write(`all_${codec}.parquet`, `compression ${codec}`);
    compareRows(catJson(file), await expected(file, ALL_COLS), KINDS);
    const s = sluice(['parquet', 'schema', file]);
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, new RegExp(`codec:\\s+${codec.toUpperCase()}`));
  });
}

test('several row groups are read across batch boundaries', async () => {
  const file = await write('rg.parquet', 'row_group_size 1000');
  const s = sluice(['parquet', 'schema', file]);
  // DuckDB rounds row groups up to its vector size: 5000 rows make 3 of them.
  assert.ok(Number(/row groups:\s+(\d+)/.exec(s.stdout)[1]) >= 3, s.stdout);
  assert.match(s.stdout, /rows:\s+5000/);
  compareRows(catJson(file), await expected(file, ALL_COLS), KINDS);
});

test('format v2: data page v2 and delta encodings match DuckDB', async () => {
  const file = await write('v2.parquet', 'parquet_version v2, row_group_size 2048');
  compareRows(catJson(file), await expected(file, ALL_COLS), KINDS);
  const req = path.join(dir, 'v2req.parquet');
  await duck(`copy (select i::INTEGER as i, i::BIGINT * 3 as big, 'v' || i as s, i / 3.0 as dbl,
    (i * 1.5)::DECIMAL(18,3) as d18 from range(0, 20000) t(i))
    to ${q(req)} (format parquet, parquet_version v2)`);
  compareRows(catJson(req),
    await expected(req, 'i::VARCHAR as i, big::VARCHAR as big, s, dbl, d18::VARCHAR as d18'),
    { i: 'text', big: 'text', s: 'string', dbl: 'double', d18: 'text' });
});

test('narrow, unsigned, float, uuid and timestamp-unit columns', async () => {
  const file = path.join(dir, 'more.parquet');
  await duck(`copy (select (i % 100 - 50)::TINYINT as t8, (i * 7 - 3000)::SMALLINT as t16,
      (i % 250)::UTINYINT as u8, (i * 13)::USMALLINT as u16, (4000000000 + i)::UINTEGER as u32,
      (18446744073709551615 - i)::UBIGINT as u64, (i / 8.0)::FLOAT as f,
      case when i % 3 = 0 then null else uuid() end as id,
      ('2024-05-06 07:08:09.123'::TIMESTAMP + to_seconds(i))::TIMESTAMP_MS as tms,
      ('2024-05-06 07:08:09.123456'::TIMESTAMP + to_seconds(i))::TIMESTAMP_NS as tns
    from range(0, 3000) t(i)) to ${q(file)} (format parquet)`);
  const want = await expected(file, `t8::VARCHAR as t8, t16::VARCHAR as t16, u8::VARCHAR as u8,
    u16::VARCHAR as u16, u32::VARCHAR as u32, u64::VARCHAR as u64, f::DOUBLE as f,
    id::VARCHAR as id, epoch_us(tms)::VARCHAR as tms, epoch_us(tns)::VARCHAR as tns`);
  compareRows(catJson(file), want, { t8: 'text', t16: 'text', u8: 'text', u16: 'text',
    u32: 'text', u64: 'text', f: 'double', id: 'string', tms: 'ts', tns: 'ts' });
  const s = sluice(['parquet', 'schema', file]);
  assert.match(s.stdout, /u64\s+INT64\s+\S+\s+REQUIRED|u64\s+INT64/);
  assert.match(s.stdout, /decimal\(20,0\)/);
  assert.match(s.stdout, /id\s+FIXED_LEN_BYTE_ARRAY\(16\)\s+UUID/);
});

test('--columns projects in the given order and --limit stops early', async () => {
  const file = path.join(dir, 'rg.parquet');
  const rows = catJson(file, ['--columns', 'tstz,i,s', '--limit', '1500']);
  assert.equal(rows.length, 1500);
  assert.deepEqual(Object.keys(rows[0]), ['tstz', 'i', 's']);
  const want = await expected(file, 'epoch_us(tstz)::VARCHAR as tstz, i::VARCHAR as i, s');
  compareRows(rows, want.slice(0, 1500), { tstz: 'ts', i: 'text', s: 'string' });
  const bad = sluice(['parquet', 'cat', file, '--columns', 'i,nope']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /nope/);
});

test('cat as CSV has a header and quotes what needs quoting', async () => {
  const file = path.join(dir, 'rg.parquet');
  const r = sluice(['parquet', 'cat', file, '--limit', '3', '--columns', 'i,s,d9']);
  assert.equal(r.code, 0, r.stderr);
  const want = await expected(file, 'i, s, d9::VARCHAR as d9');
  assert.ok(r.stdout.startsWith('i,s,d9\n'), r.stdout);
  assert.ok(r.stdout.includes(`1,"str ""1"" é€😀\ntab\t,x",${want[1].d9}\n`), r.stdout);
});

test('nested columns are an error naming the column', async () => {
  const file = path.join(dir, 'nested.parquet');
  await duck(`copy (select 1 as a, [1, 2] as tags) to ${q(file)} (format parquet)`);
  const r = sluice(['parquet', 'cat', file]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /tags/);
  assert.match(r.stderr, /nested type not supported/);
});

test('truncated and garbage files fail with exit 1 naming the file', async () => {
  const good = fs.readFileSync(path.join(dir, 'all_zstd.parquet'));
  const cases = {
    'truncated.parquet': good.subarray(0, good.length - 100),
    'half.parquet': good.subarray(0, good.length >> 1),
    'garbage.parquet': Buffer.from('this is not a parquet file at all, just text\n'.repeat(20)),
    'tiny.parquet': Buffer.from('PAR1'),
  };
  // A footer whose length field points past the start of the file.
  const bigLen = Buffer.from(good);
  bigLen.writeUInt32LE(0x7ffffff0, bigLen.length - 8);
  cases['biglen.parquet'] = bigLen;
  for (const [name, bytes] of Object.entries(cases)) {
    const file = path.join(dir, name);
    fs.writeFileSync(file, bytes);
    for (const sub of ['cat', 'schema']) {
      const r = sluice(['parquet', sub, file]);
      assert.equal(r.code, 1, `${name} ${sub}: ${r.stderr}`);
      assert.ok(r.stderr.startsWith('sluice: '), r.stderr);
      assert.ok(r.stderr.includes(file), `${name}: ${r.stderr}`);
    }
  }
  const missing = sluice(['parquet', 'schema', path.join(dir, 'missing.parquet')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /missing\.parquet/);
});

test('convert Parquet to CSV gives DuckDB the same rows', async () => {
  const file = path.join(dir, 'rg.parquet');
  const out = path.join(dir, 'out.csv');
  const r = sluice(['parquet', 'convert', file, out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /converted 5000 rows/);
  const got = await duck(`select count(*)::INTEGER as n, count(s)::INTEGER as s, sum(i)::BIGINT as si
    from read_csv(${q(out)}, header = true)`);
  const want = await duck(`select count(*)::INTEGER as n, count(s)::INTEGER as s, sum(i)::BIGINT as si
    from read_parquet(${q(file)})`);
  assert.deepEqual(got, want);
});

test('convert CSV to Parquet quarantines bad rows', async () => {
  const csv = path.join(dir, 'in.csv');
  fs.writeFileSync(csv, 'id,amount,day\n1,1.50,2024-01-01\n2,2.25,2024-01-02\n3,oops,2024-01-03\n4,4.00,2024-01-04\n');
  const out = path.join(dir, 'in.parquet');
  const r = sluice(['parquet', 'convert', csv, out, '--compression', 'snappy']);
  assert.equal(r.code, 0, r.stderr);
  const rows = catJson(out);
  const ids = rows.map((x) => x.id.num);
  // 'oops' either widens the column to string (all 4 rows) or is rejected.
  if (ids.length === 3) {
    assert.deepEqual(ids, ['1', '2', '4']);
    assert.match(r.stdout, /converted 3 rows \(1 rejected → .*in\.parquet\.rejected\.csv\)/);
    const rej = fs.readFileSync(`${out}.rejected.csv`, 'utf8');
    assert.match(rej, /^line,reason,raw\n4,.*3,oops,2024-01-03/s);
  } else {
    assert.deepEqual(ids, ['1', '2', '3', '4']);
  }
  const n = await duck(`select count(*)::INTEGER as n from read_parquet(${q(out)})`);
  assert.equal(n[0].n, ids.length);
});

test('usage errors exit 2 and every subcommand documents --help', () => {
  for (const sub of ['schema', 'cat', 'convert']) {
    const h = sluice(['parquet', sub, '--help']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /usage: sluice parquet/);
  }
  assert.equal(sluice(['parquet']).code, 2);
  assert.equal(sluice(['parquet', 'frobnicate']).code, 2);
  assert.equal(sluice(['parquet', 'cat']).code, 2);
  assert.equal(sluice(['parquet', 'cat', 'x.parquet', '--format', 'xml']).code, 2);
  assert.equal(sluice(['parquet', 'convert', 'a.csv']).code, 2);
  assert.equal(sluice(['parquet', 'convert', 'a.csv', 'b.parquet', '--compression', 'lzma']).code, 2);
});
