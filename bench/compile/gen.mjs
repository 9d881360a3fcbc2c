// Generates a dbt project of N models (default 1,000) for bench/compile/run:
// seeds, 20 macros (defaults, loops, adapter.dispatch, caller()), models in
// three layers that ref 1-3 earlier models, configs in dbt_project.yml,
// properties YAML and config() blocks, Jinja loops in every model. The
// same arguments always give the same files (a fixed LCG, no clock).
//   node bench/compile/gen.mjs DIR [MODELS]
import fs from 'node:fs';
import path from 'node:path';

const [dir, nArg] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node bench/compile/gen.mjs DIR [MODELS]');
  process.exit(2);
}
const N = Number(nArg || 1000);
const SEEDS = 5;
const COLS = ['a', 'b', 'c', 'd', 'e'];
const MACROS = 20;

let state = 20261206;
function rand(n) {
  state = (state * 1103515245 + 12345) % 2147483648;
  return state % n;
}

function write(rel, text) {
  const p = path.join(dir, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
}

const name = i => `m_${String(i).padStart(4, '0')}`;
const layerOf = i => (i < N / 10 ? 'staging' : i < N / 2 ? 'intermediate' : 'marts');

write('dbt_project.yml', `name: bench
version: '1.0.0'
config-version: 2
profile: bench
model-paths: ["models"]
seed-paths: ["seeds"]
macro-paths: ["macros"]
vars:
  scale: 3
  columns: [${COLS.join(', ')}]
models:
  bench:
    +materialized: view
    staging:
      +tags: ['staging']
    intermediate:
      +materialized: table
      +tags: ['intermediate']
    marts:
      +materialized: table
      +schema: marts
      +tags: ['marts']
`);

for (let s = 0; s < SEEDS; s++) {
  const rows = ['id,' + COLS.join(',')];
  for (let r = 1; r <= 100; r++) rows.push([r, ...COLS.map(() => rand(1000))].join(','));
  write(`seeds/seed_${s}.csv`, rows.join('\n') + '\n');
}

for (let m = 0; m < MACROS; m++) {
  write(`macros/bench_${m}.sql`, `{% macro bench_${m}(column, factor=${m + 1}, offset=0) -%}
    {%- set parts = [] -%}
    {%- for k in [0, 1, 2] -%}{% do parts.append('((' ~ column ~ ') * ' ~ (factor + k) ~ ')') %}{%- endfor -%}
    ({{ parts | join(' + ') }} + {{ offset }}) % {{ 997 + ${m} }}
{%- endmacro %}
`);
}
write('macros/bench_dispatch.sql', `{% macro bench_round(x) -%}
    {{ return(adapter.dispatch('bench_round')(x)) }}
{%- endmacro %}
{% macro default__bench_round(x) -%} round({{ x }}, 2) {%- endmacro %}
{% macro postgres__bench_round(x) -%} round(({{ x }})::numeric, 2) {%- endmacro %}
{% macro bench_wrap(alias) -%}
select * from (
{{ caller() }}
) as {{ alias }}
{%- endmacro %}
`);

const props = { staging: [], intermediate: [], marts: [] };
for (let i = 0; i < N; i++) {
  const layer = layerOf(i);
  let body;
  if (layer === 'staging') {
    body = `{%- set cols = var('columns') %}
select
    id,
    {%- for c in cols %}
    {{ bench_${i % MACROS}(c, offset=${i}) }} as {{ c }}{{ ',' if not loop.last }}
    {%- endfor %}
from {{ ref('seed_${i % SEEDS}') }}
`;
  } else {
    const lo = Math.max(0, i - 150);
    const nrefs = 1 + rand(3);
    const refs = [];
    while (refs.length < nrefs) {
      const r = lo + rand(i - lo);
      if (!refs.includes(r)) refs.push(r);
    }
    const cfg = i % 7 === 0 ? `{{ config(tags=['every_seventh'], alias='${name(i)}_t') }}\n` : '';
    const joins = refs.slice(1).map((r, k) =>
      `join {{ ref('${name(r)}') }} as r${k + 1} on r0.id = r${k + 1}.id`).join('\n');
    body = `${cfg}{%- set cols = var('columns') %}
{%- set sources = [${refs.map((_, k) => `'r${k}'`).join(', ')}] %}
{% call bench_wrap('w') -%}
select
    r0.id,
    {%- for c in cols %}
    {{ bench_round(bench_${i % MACROS}((sources | map('string') | map('trim') | list | join('.' ~ c ~ ' + ')) ~ '.' ~ c, factor=var('scale'))) }} as {{ c }}{% if not loop.last %},{% endif %}
    {%- endfor %}
from {{ ref('${name(refs[0])}') }} as r0
${joins}
{%- endcall %}
`;
  }
  write(`models/${layer}/${name(i)}.sql`, body);
  props[layer].push(i);
}

for (const [layer, ids] of Object.entries(props)) {
  const lines = ['version: 2', '', 'models:'];
  for (const i of ids) {
    lines.push(`  - name: ${name(i)}`);
    lines.push(`    description: "Model ${i} of the ${layer} layer."`);
    if (i % 3 === 0) {
      lines.push('    config:');
      lines.push(`      tags: ['third']`);
      if (layer !== 'staging') lines.push(`      materialized: ${i % 2 ? 'view' : 'table'}`);
    }
    lines.push('    columns:');
    lines.push('      - name: id');
    lines.push('        data_tests: [not_null]');
    for (const c of COLS) lines.push(`      - name: ${c}\n        description: "Column ${c}."`);
  }
  write(`models/${layer}/_${layer}.yml`, lines.join('\n') + '\n');
}
console.log(`${N} models, ${SEEDS} seeds, ${MACROS + 3} macros in ${dir}`);
