// Data tests end to end on SQLite: the quality project
// (fixtures/quality/project, seeds with deliberate defects) built by
// `sluice build` and tested by `sluice test` with selections; every test's
// status, failing-row count, sample and store_failures table compared with
// fixtures/quality/expected.json (computed from the seeds by expected.py).
import { buildSuite } from './fixtures/quality/checks.mjs';
import { makeProject } from './fixtures/quality/harness.mjs';

buildSuite('sqlite', () => makeProject());
