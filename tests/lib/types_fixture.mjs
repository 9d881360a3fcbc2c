// The every-type round trip shared by the SQLite and PostgreSQL load tests:
// one table declaring each sluice type, and CSV records with NULLs, empty
// strings, extremes, unicode, tabs, newlines, quotes and the text \N
// (empty unquoted fields are NULL, "" is the empty string).
export const typesYml = `source: shop
kind: csv
tables:
  - name: types
    path: data/types*.csv
    columns: {id: int32, b: bool, i32: int32, i64: int64, f64: float64, d38: "decimal(38,18)", d10: "decimal(10,2)", s: string, dt: date, ts: timestamp}
`;

export const typesCsv = 'id,b,i32,i64,f64,d38,d10,s,dt,ts\n' + [
  '1,true,2147483647,9223372036854775807,1.5,12345678901234567890.123456789012345678,12345678.90,"tab\there",2025-01-02,2025-01-02T03:04:05Z',
  '2,false,-2147483648,-9223372036854775808,-0.25,-0.000000000000000001,-0.01,"line1\nline2\nline3",1970-01-01,1970-01-01 00:00:00',
  '3,,,,,,,,,',
  '4,0,0,0,0,0,0,"",2000-02-29,2024-02-29T23:59:59.999999Z',
  '5,1,7,42,3.14159,-99999999999999999999.999999999999999999,99999999.99,"back\\slash ""quoted"" \'single\' ünïcødé 日本語 🎉",9999-12-31,1969-12-31T23:59:59.5Z',
  '6,f,-1,-1,123456.789,0.5,0.5,\\N,0001-01-01,2025-06-30T12:00:00+02:00',
  '7,T,1,1,0.30000000000000004,1,1,"  padded, with comma; semi | pipe  ",2025-01-01,2025-01-01',
  '8,yes,2,2,0.1,2,2,NULL,2025-01-01,2025-01-01T00:00',
  '9,no,3,3,1e20,3,3,007,2025-01-01,2025-01-01T00:00:00.000001Z',
].join('\n') + '\n';

export const cols = ['id', 'b', 'i32', 'i64', 'f64', 'd38', 'd10', 's', 'dt', 'ts'];
