/* test_lineage.c: column-level lineage — each model's output columns
 * traced to their input columns exactly (CTEs, joins, aggregates, window
 * functions, CASE, set operations, `select *`, subqueries, recursion),
 * the reasons given when SQL is not traced, and relations named as the
 * project's nodes and sources. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <pthread.h>
#include <sys/stat.h>

#include "models/models.h"
#include "project/project.h"
#include "quality/quality.h"

#include "../lib/unit_tmp.h"

/* The warehouse the SQL texts read (schema main; an unqualified name is
 * main's). main.mystery exists with unknown columns. */
static const struct {
	const char *table;
	const char *cols[6];
} catalog[] = {
	{"raw_customers", {"id", "first_name", "last_name"}},
	{"raw_orders", {"id", "user_id", "order_date", "status"}},
	{"raw_payments", {"id", "order_id", "payment_method", "amount"}},
	{"stg_customers", {"customer_id", "first_name", "last_name"}},
	{"stg_orders", {"order_id", "customer_id", "order_date", "status"}},
	{"stg_payments", {"payment_id", "order_id", "payment_method", "amount"}},
};

static int calls;

static int columns(void *ud, const char *node, const char *schema, const char *table,
		   const char *const **cols, int *ncols, sl_error *err)
{
	(void)ud, (void)node, (void)err;
	calls++;
	*ncols = -1;
	if (schema && strcmp(schema, "main") != 0)
		return 0;
	for (size_t i = 0; i < sizeof catalog / sizeof catalog[0]; i++)
		if (strcmp(catalog[i].table, table) == 0) {
			*cols = catalog[i].cols;
			for (*ncols = 0; *ncols < 6 && catalog[i].cols[*ncols]; (*ncols)++)
				;
		}
	return 0;
}

/* The lineage as lines "name how: rel.col, rel.col" (quotes dropped). */
static char *render(const sl_lineage *l)
{
	sl_buf b = SL_BUF_INIT;
	for (int i = 0; i < l->ncolumns; i++) {
		const sl_lineage_column *c = &l->columns[i];
		sl_buf_printf(&b, "%s%s %s:", i ? "\n" : "", c->name, sl_lineage_how_name(c->how));
		for (int k = 0; k < c->nfrom; k++) {
			sl_buf_printf(&b, "%s ", k ? "," : "");
			for (const char *p = c->from[k].relation; *p; p++)
				if (*p != '"')
					sl_buf_append(&b, p, 1);
			sl_buf_printf(&b, ".%s", c->from[k].column);
		}
	}
	return b.data ? sl_buf_detach(&b) : sl_strdup("");
}

static void traces(const char *sql, const char *want)
{
	sl_lineage l;
	sl_error err = SL_ERROR_INIT;
	if (sl_lineage_of_sql(sql, columns, NULL, &l, &err) < 0)
		fail_msg("lineage failed: %s", err.message);
	if (l.error)
		fail_msg("not traced: %s", l.error);
	char *got = render(&l);
	assert_string_equal(got, want);
	sl_free(got);
	sl_lineage_free(&l);
}

static void not_traced(const char *sql, const char *why)
{
	sl_lineage l;
	sl_error err = SL_ERROR_INIT;
	assert_int_equal(sl_lineage_of_sql(sql, columns, NULL, &l, &err), 0);
	assert_non_null(l.error);
	assert_string_equal(l.error, why);
	assert_int_equal(l.ncolumns, 0);
	sl_lineage_free(&l);
}

static void test_jaffle_customers(void **state)
{
	(void)state;
	traces("with customers as (\n"
	       "    select * from \"main\".\"stg_customers\"\n"
	       "),\n"
	       "orders as (\n"
	       "    select * from \"main\".\"stg_orders\"\n"
	       "),\n"
	       "customer_orders as (\n"
	       "    select\n"
	       "        customer_id,\n"
	       "        min(order_date) as first_order_date,\n"
	       "        max(order_date) as most_recent_order_date,\n"
	       "        count(order_id) as number_of_orders\n"
	       "    from orders\n"
	       "    group by customer_id\n"
	       "),\n"
	       "final as (\n"
	       "    select\n"
	       "        customers.customer_id,\n"
	       "        customers.first_name,\n"
	       "        customers.last_name,\n"
	       "        customer_orders.first_order_date,\n"
	       "        customer_orders.most_recent_order_date,\n"
	       "        coalesce(customer_orders.number_of_orders, 0) as number_of_orders\n"
	       "    from customers\n"
	       "    left join customer_orders using (customer_id)\n"
	       ")\n"
	       "select * from final\n",
	       "customer_id direct: main.stg_customers.customer_id\n"
	       "first_name direct: main.stg_customers.first_name\n"
	       "last_name direct: main.stg_customers.last_name\n"
	       "first_order_date aggregated: main.stg_orders.order_date\n"
	       "most_recent_order_date aggregated: main.stg_orders.order_date\n"
	       "number_of_orders aggregated: main.stg_orders.order_id");
}

static void test_jaffle_orders(void **state)
{
	(void)state;
	traces("with orders as (select * from \"main\".\"stg_orders\"),\n"
	       "payments as (select * from \"main\".\"stg_payments\"),\n"
	       "order_payments as (\n"
	       "    select order_id,\n"
	       "        sum(case when payment_method = 'credit_card' then amount else 0 end)\n"
	       "            as credit_card_amount,\n"
	       "        sum(amount) as total_amount\n"
	       "    from payments group by order_id\n"
	       "),\n"
	       "final as (\n"
	       "    select orders.order_id, orders.customer_id, orders.order_date, orders.status,\n"
	       "        order_payments.credit_card_amount,\n"
	       "        order_payments.total_amount as amount\n"
	       "    from orders\n"
	       "    left join order_payments on orders.order_id = order_payments.order_id\n"
	       "    where orders.status <> 'x'\n"
	       ")\n"
	       "select * from final;\n",
	       "order_id direct: main.stg_orders.order_id\n"
	       "customer_id direct: main.stg_orders.customer_id\n"
	       "order_date direct: main.stg_orders.order_date\n"
	       "status direct: main.stg_orders.status\n"
	       "credit_card_amount aggregated: main.stg_payments.payment_method, "
	       "main.stg_payments.amount\n"
	       "amount aggregated: main.stg_payments.amount");
}

static void test_staging_renames_and_casts(void **state)
{
	(void)state;
	traces("select id as customer_id, first_name::text, last_name as surname\n"
	       "from main.raw_customers",
	       "customer_id direct: main.raw_customers.id\n"
	       "first_name direct: main.raw_customers.first_name\n"
	       "surname direct: main.raw_customers.last_name");
}

static void test_window_functions(void **state)
{
	(void)state;
	traces("select order_id,\n"
	       "  row_number() over (partition by customer_id order by order_date) as seq,\n"
	       "  sum(amount) over (partition by customer_id) as running,\n"
	       "  lag(p.amount) over w as previous\n"
	       "from main.stg_payments p join main.stg_orders o using (order_id)\n"
	       "window w as (order by payment_id)",
	       "order_id direct: main.stg_payments.order_id, main.stg_orders.order_id\n"
	       "seq aggregated: main.stg_orders.customer_id, main.stg_orders.order_date\n"
	       "running aggregated: main.stg_payments.amount, main.stg_orders.customer_id\n"
	       "previous aggregated: main.stg_payments.amount");
}

static void test_case_functions_and_constants(void **state)
{
	(void)state;
	traces("select order_id,\n"
	       "  case when status = 'returned' then 1 else 0 end as is_returned,\n"
	       "  upper(status), coalesce(status, 'none') as s,\n"
	       "  1 as one, max(order_id, customer_id) as bigger\n"
	       "from main.stg_orders",
	       "order_id direct: main.stg_orders.order_id\n"
	       "is_returned transformed: main.stg_orders.status\n"
	       "upper transformed: main.stg_orders.status\n"
	       "s transformed: main.stg_orders.status\n"
	       "one transformed:\n"
	       "bigger transformed: main.stg_orders.order_id, main.stg_orders.customer_id");
}

static void test_union_all_by_position(void **state)
{
	(void)state;
	traces("select id as customer_id, first_name from main.raw_customers\n"
	       "union all\n"
	       "select customer_id, upper(first_name) from main.stg_customers\n"
	       "union\n"
	       "select user_id, null from main.raw_orders",
	       "customer_id direct: main.raw_customers.id, main.stg_customers.customer_id, "
	       "main.raw_orders.user_id\n"
	       "first_name transformed: main.raw_customers.first_name, "
	       "main.stg_customers.first_name");
}

static void test_star_through_cte_and_qualified_star(void **state)
{
	(void)state;
	traces("with c as (select customer_id, first_name from main.stg_customers)\n"
	       "select c.*, o.order_id from c join main.stg_orders o using (customer_id)",
	       "customer_id direct: main.stg_customers.customer_id\n"
	       "first_name direct: main.stg_customers.first_name\n"
	       "order_id direct: main.stg_orders.order_id");
	traces("select * from main.stg_orders natural join main.stg_payments",
	       "order_id direct: main.stg_orders.order_id, main.stg_payments.order_id\n"
	       "customer_id direct: main.stg_orders.customer_id\n"
	       "order_date direct: main.stg_orders.order_date\n"
	       "status direct: main.stg_orders.status\n"
	       "payment_id direct: main.stg_payments.payment_id\n"
	       "payment_method direct: main.stg_payments.payment_method\n"
	       "amount direct: main.stg_payments.amount");
}

static void test_subquery_in_from_and_select(void **state)
{
	(void)state;
	traces("select big.customer_id, big.n,\n"
	       "  (select max(amount) from stg_payments p where p.order_id = big.customer_id)"
	       " as top\n"
	       "from (select customer_id, count(*) as n from stg_orders group by 1) as big\n"
	       "where n > 1 order by 1",
	       "customer_id direct: stg_orders.customer_id\n"
	       "n aggregated:\n"
	       "top aggregated: stg_payments.amount");
}

/* A subquery deep inside an expression is no deeper a query. */
static void test_subquery_deep_in_an_expression(void **state)
{
	(void)state;
	sl_buf b = SL_BUF_INIT;
	sl_buf_puts(&b, "select ");
	for (int i = 0; i < 40; i++)
		sl_buf_puts(&b, "coalesce(");
	sl_buf_puts(&b, "(select max(amount) from main.stg_payments)");
	for (int i = 0; i < 40; i++)
		sl_buf_puts(&b, ", 0)");
	sl_buf_puts(&b, " as top");
	traces(b.data, "top aggregated: main.stg_payments.amount");
	sl_buf_reset(&b);
	/* 70 nested queries are too many */
	for (int i = 0; i < 70; i++)
		sl_buf_puts(&b, "select (");
	sl_buf_puts(&b, "select 1");
	for (int i = 0; i < 70; i++)
		sl_buf_puts(&b, ")");
	not_traced(b.data, "the query nests too deeply");
	sl_buf_free(&b);
}

static void test_self_join_with_aliases(void **state)
{
	(void)state;
	traces("select child.customer_id as child_id, parent.customer_id as parent_id,\n"
	       "  child.first_name || ' ' || parent.last_name as pair\n"
	       "from main.stg_customers child\n"
	       "join main.stg_customers as parent on child.customer_id = parent.customer_id + 1",
	       "child_id direct: main.stg_customers.customer_id\n"
	       "parent_id direct: main.stg_customers.customer_id\n"
	       "pair transformed: main.stg_customers.first_name, main.stg_customers.last_name");
}

static void test_other_forms(void **state)
{
	(void)state;
	/* FILTER and schema-qualified names count; WHERE and ORDER BY do not */
	traces("select count(*) filter (where main.stg_orders.status = 'x') as n,\n"
	       "  string_agg(status, ',' order by order_date) as all_statuses\n"
	       "from main.stg_orders where customer_id > 1 group by order_id order by order_id",
	       "n aggregated: main.stg_orders.status\n"
	       "all_statuses aggregated: main.stg_orders.status, main.stg_orders.order_date");
	/* EXCEPT gives the left side's values, INTERSECT both */
	traces("select customer_id from main.stg_customers except select customer_id from "
	       "main.stg_orders",
	       "customer_id direct: main.stg_customers.customer_id");
	traces("select customer_id from main.stg_customers intersect select customer_id from "
	       "main.stg_orders",
	       "customer_id direct: main.stg_customers.customer_id, main.stg_orders.customer_id");
	/* VALUES, functions in FROM, LATERAL, an aliased join */
	traces("select v.column1, v.column2, g.i, l.total, j.order_id, j.payment_id\n"
	       "from (values (1, 'a'), (2, 'b')) v, generate_series(1, 3) as g(i),\n"
	       "  lateral (select sum(amount) as total from main.stg_payments p\n"
	       "           where p.order_id = g.i) l,\n"
	       "  (main.stg_orders join main.stg_payments using (order_id)) as j",
	       "column1 transformed:\ncolumn2 transformed:\ni direct:\n"
	       "total aggregated: main.stg_payments.amount\n"
	       "order_id direct: main.stg_orders.order_id, main.stg_payments.order_id\n"
	       "payment_id direct: main.stg_payments.payment_id");
	/* a CTE with a column list, a correlated scalar subquery, exists */
	traces("with c(id, name) as (select customer_id, first_name from main.stg_customers)\n"
	       "select c.id, (select max(o.order_date) from main.stg_orders o\n"
	       "              where o.customer_id = c.id) as last_order,\n"
	       "  exists (select 1 from main.stg_orders o where o.customer_id = c.id) as ordered,\n"
	       "  c.name in (select first_name from main.raw_customers) as known\n"
	       "from c",
	       "id direct: main.stg_customers.customer_id\n"
	       "last_order aggregated: main.stg_orders.order_date\n"
	       "ordered transformed:\n"
	       "known transformed: main.stg_customers.first_name, main.raw_customers.first_name");
	/* an ephemeral model inlined as dbt inlines it */
	traces("with __dbt__cte__int_orders as (\nselect order_id, count(*) as n from "
	       "main.stg_payments group by 1\n) select o.order_id, o.n * 2 as twice from "
	       "__dbt__cte__int_orders o",
	       "order_id direct: main.stg_payments.order_id\ntwice aggregated:");
}

static void test_recursive_cte_stops(void **state)
{
	(void)state;
	traces("with recursive tree(id, parent, depth) as (\n"
	       "  select customer_id, null::int, 0 from main.stg_customers\n"
	       "  union all\n"
	       "  select c.customer_id, t.id, t.depth + 1\n"
	       "  from main.stg_customers c join tree t on c.customer_id = t.parent\n"
	       ")\n"
	       "select id, parent, depth from tree",
	       "id direct: main.stg_customers.customer_id\n"
	       "parent transformed: main.stg_customers.customer_id\n"
	       "depth transformed:");
}

static void test_unknown_columns(void **state)
{
	(void)state;
	/* qualified or alone in FROM: the relation's own column */
	traces("select m.a, b, m.c + 1 as c1 from main.mystery m",
	       "a direct: main.mystery.a\nb direct: main.mystery.b\n"
	       "c1 transformed: main.mystery.c");
	not_traced("select * from main.mystery",
		   "select * from a relation whose columns are unknown: \"main\".\"mystery\"");
	not_traced("select o.*, m.* from main.stg_orders o, other.mystery m",
		   "select * from a relation whose columns are unknown: \"other\".\"mystery\"");
	not_traced("select a from main.mystery, other.thing",
		   "column \"a\" may come from \"main\".\"mystery\" or \"other\".\"thing\", "
		   "whose columns are unknown; qualify it");
}

static void test_ambiguous_and_missing_names(void **state)
{
	(void)state;
	not_traced("select customer_id from main.stg_customers join main.stg_orders on true",
		   "column reference \"customer_id\" is ambiguous: both stg_customers and "
		   "stg_orders have it");
	not_traced("select o.nope from main.stg_orders o",
		   "column \"nope\" is not in o");
	not_traced("select x.order_id from main.stg_orders o",
		   "missing FROM-clause entry for \"x\"");
	not_traced("select a from main.stg_orders union all select 1, 2 from main.stg_orders",
		   "column \"a\" is in none of the relations the query reads");
	not_traced("select order_id from main.stg_orders union all select 1, 2",
		   "each UNION query must have the same number of columns (1 and 2)");
}

static void test_unparseable_sql_says_why(void **state)
{
	(void)state;
	not_traced("select id\nfrom t\nqualify row_number() over () = 1",
		   "syntax error at or near \"row_number\" (line 3, column 9)");
	not_traced("select * from main.stg_orders indexed by ix",
		   "syntax error at or near \"by\" (line 1, column 39)");
	not_traced("", "the SQL holds no statement");
	not_traced("select 1; select 2", "the SQL holds 2 statements; lineage reads one SELECT");
	not_traced("create table x (a int)", "the SQL is a CreateStmt, not a SELECT");
}

static void test_repeated_parses_release_memory(void **state)
{
	(void)state;
	/* LSan checks the rest: nothing of 200 parses and errors stays */
	for (int i = 0; i < 200; i++) {
		sl_lineage l;
		sl_error err = SL_ERROR_INIT;
		assert_int_equal(sl_lineage_of_sql(i % 2 ? "select a from main.mystery"
							 : "select from where",
						   columns, NULL, &l, &err), 0);
		assert_true((i % 2) ? l.error == NULL : l.error != NULL);
		sl_lineage_free(&l);
	}
	assert_string_equal(sl_lineage_how_name(SL_LINEAGE_AGGREGATED), "aggregated");
}

static void *parse_in_thread(void *arg)
{
	sl_lineage l;
	sl_error err = SL_ERROR_INIT;
	int *ok = arg;
	*ok = sl_lineage_of_sql("select a + 1 as b from main.mystery", columns, NULL, &l, &err) == 0 &&
	      !l.error && l.ncolumns == 1 && strcmp(l.columns[0].name, "b") == 0;
	sl_lineage_free(&l);
	return NULL;
}

/* The parser's per-thread memory goes with the thread (LSan checks). */
static void test_parses_in_threads(void **state)
{
	(void)state;
	for (int i = 0; i < 4; i++) {
		pthread_t th;
		int ok = 0;
		assert_int_equal(pthread_create(&th, NULL, parse_in_thread, &ok), 0);
		assert_int_equal(pthread_join(th, NULL), 0);
		assert_true(ok);
	}
}

/* -------------------------------------------------------- a dbt project */

static void test_project_nodes_in_refs(void **state)
{
	(void)state;
	write_file("dbt_project.yml", "name: shop\nprofile: shop\n");
	write_file("profiles.yml", "shop:\n  target: dev\n  outputs:\n"
			    "    dev: {type: sqlite, schema: main, path: warehouse.db}\n");
	write_file("seeds/raw_customers.csv", "id,first_name,last_name\n1,A,B\n");
	write_file("models/sources.yml", "version: 2\nsources:\n  - name: shop\n    schema: main\n"
				  "    tables:\n      - name: orders\n        identifier: raw_orders\n");
	write_file("models/stg_customers.sql",
	    "select id as customer_id, first_name, last_name from {{ ref('raw_customers') }}");
	write_file("models/stg_orders.sql",
	    "select id as order_id, user_id as customer_id, order_date, status\n"
	    "from {{ source('shop', 'orders') }}");
	write_file("models/customers.sql",
	    "with c as (select * from {{ ref('stg_customers') }}),\n"
	    "o as (select * from {{ ref('stg_orders') }})\n"
	    "select c.customer_id, c.first_name, count(o.order_id) as orders\n"
	    "from c left join o on o.customer_id = c.customer_id\n"
	    "left join elsewhere.thing t on t.customer_id = c.customer_id\n"
	    "group by 1, 2");

	sl_project *p = NULL;
	sl_models *m = NULL;
	sl_error err = SL_ERROR_INIT;
	char *sql = NULL;
	if (sl_project_open(&p, tmp, NULL, NULL, &err) < 0)
		fail_msg("%s", err.message);
	sl_models_opts o = {.project_dir = tmp, .project = p,
			    .target = sl_project_target(p, NULL), .invocation_id = "i",
			    .run_started_at = "2024-05-01T10:00:00Z"};
	if (sl_models_open(&m, &o, &err) < 0)
		fail_msg("%s", err.message);
	int i = sl_models_find(m, "model.shop.customers");
	assert_true(i >= 0);
	if (sl_models_compile(m, i, NULL, false, &sql, &err) < 0)
		fail_msg("%s", err.message);
	sl_lineage l;
	assert_int_equal(sl_lineage_of_node(m, i, sql, columns, NULL, &l, &err), 0);
	assert_null(l.error);
	assert_int_equal(l.ncolumns, 3);
	assert_string_equal(l.columns[0].name, "customer_id");
	assert_int_equal(l.columns[0].nfrom, 1);
	assert_string_equal(l.columns[0].from[0].node, "model.shop.stg_customers");
	assert_string_equal(l.columns[0].from[0].relation, "\"main\".\"stg_customers\"");
	assert_string_equal(l.columns[0].from[0].column, "customer_id");
	assert_int_equal(l.columns[2].how, SL_LINEAGE_AGGREGATED);
	assert_int_equal(l.columns[2].nfrom, 1);
	assert_string_equal(l.columns[2].from[0].node, "model.shop.stg_orders");
	sl_lineage_free(&l);
	sl_free(sql);
	sql = NULL;

	/* a source by its identifier; a seed by its name */
	i = sl_models_find(m, "model.shop.stg_orders");
	if (sl_models_compile(m, i, NULL, false, &sql, &err) < 0)
		fail_msg("%s", err.message);
	assert_int_equal(sl_lineage_of_node(m, i, sql, columns, NULL, &l, &err), 0);
	assert_null(l.error);
	assert_string_equal(l.columns[1].name, "customer_id");
	assert_string_equal(l.columns[1].from[0].node, "source.shop.shop.orders");
	assert_string_equal(l.columns[1].from[0].column, "user_id");
	sl_lineage_free(&l);
	sl_free(sql);
	sql = NULL;
	i = sl_models_find(m, "model.shop.stg_customers");
	if (sl_models_compile(m, i, NULL, false, &sql, &err) < 0)
		fail_msg("%s", err.message);
	/* unquoted, other case: folded as PostgreSQL folds it */
	assert_int_equal(sl_lineage_of_node(m, i, "select ID from Main.RAW_CUSTOMERS", columns,
					    NULL, &l, &err), 0);
	assert_null(l.error);
	assert_string_equal(l.columns[0].from[0].node, "seed.shop.raw_customers");
	assert_string_equal(l.columns[0].from[0].relation, "\"main\".\"raw_customers\"");
	sl_lineage_free(&l);
	assert_int_equal(sl_lineage_of_node(m, i, "select t.a from elsewhere.thing t", columns,
					    NULL, &l, &err), 0);
	assert_null(l.columns[0].from[0].node);
	sl_lineage_free(&l);
	sl_free(sql);
	sl_models_free(m);
	sl_project_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jaffle_customers),
		cmocka_unit_test(test_jaffle_orders),
		cmocka_unit_test(test_staging_renames_and_casts),
		cmocka_unit_test(test_window_functions),
		cmocka_unit_test(test_case_functions_and_constants),
		cmocka_unit_test(test_union_all_by_position),
		cmocka_unit_test(test_star_through_cte_and_qualified_star),
		cmocka_unit_test(test_subquery_in_from_and_select),
		cmocka_unit_test(test_subquery_deep_in_an_expression),
		cmocka_unit_test(test_self_join_with_aliases),
		cmocka_unit_test(test_other_forms),
		cmocka_unit_test(test_recursive_cte_stops),
		cmocka_unit_test(test_unknown_columns),
		cmocka_unit_test(test_ambiguous_and_missing_names),
		cmocka_unit_test(test_unparseable_sql_says_why),
		cmocka_unit_test(test_repeated_parses_release_memory),
		cmocka_unit_test(test_parses_in_threads),
		cmocka_unit_test_setup_teardown(test_project_nodes_in_refs, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
