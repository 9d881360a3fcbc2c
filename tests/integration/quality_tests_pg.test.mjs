// Data tests end to end on PostgreSQL: the same checks as
// quality_tests.test.mjs (fixtures/quality/checks.mjs) with the project's
// 'pg' target, a throwaway PostgreSQL cluster, same expected statuses.
import { startPostgres } from '../lib/harness.mjs';
import { buildSuite } from './fixtures/quality/checks.mjs';
import { makeProject } from './fixtures/quality/harness.mjs';

let pg = null;
let n = 0;
buildSuite('postgres', () => {
  if (!pg) pg = startPostgres();
  return makeProject({ pg, db: `quality${++n}` });
});
