/*
 * cmd_init.c: `sluice init DIR` scaffolds an empty project; `sluice demo
 * DIR` scaffolds the example shop project with generated CSV data
 * (including a few malformed rows, so the quarantine shows up).
 */
#include "cli/cli_int.h"

#include <stdio.h>
#include <string.h>

static const char *readme_text =
	"# %s\n\n"
	"A sluice project.\n\n"
	"- `sluice.yml`: the lake, warehouse targets and schedule\n"
	"- `sources/*.yml`: what to extract, one source per file\n"
	"- `data/`: local files a csv source may read\n\n"
	"What a run makes (kept out of git by `.gitignore`):\n\n"
	"- `lake/`: the lake, Parquet files in Delta tables `raw/<source>/<table>`\n"
	"- `warehouse.db`: the SQLite warehouse; its raw tables are in the file\n"
	"  `warehouse.raw.db` next to it, attached as the schema `raw`, so\n"
	"  `sqlite3 warehouse.db .tables` shows none of them: query them with\n"
	"  `sluice sql \"select * from raw.<source>__<table>\"`\n"
	"- `.sluice/state.db`: runs, ledgers and what each table has extracted\n\n"
	"Run it with `sluice run --project-dir .`; list runs with `sluice runs`.\n";

/* What a run writes into the project; none of it belongs in git. */
static const char *gitignore_text =
	"# written by sluice runs: the lake, the SQLite warehouse (warehouse.db\n"
	"# holds models, warehouse.raw.db the raw tables) with their WAL files,\n"
	"# and the run state\n"
	"/lake/\n"
	"/warehouse.db\n"
	"/warehouse.*.db\n"
	"/warehouse*.db-wal\n"
	"/warehouse*.db-shm\n"
	"/warehouse*.db-journal\n"
	"/.sluice/\n";

static const char *sluice_yml =
	"name: %s\n"
	"lake: ./lake\n"
	"target: local\n"
	"targets:\n"
	"  local: {type: sqlite, path: ./warehouse.db}\n"
	"#  pg:\n"
	"#    type: postgres\n"
	"#    host: ${PGHOST:-localhost}\n"
	"#    port: 5432\n"
	"#    dbname: %s\n"
	"#    user: ${PGUSER:-postgres}\n"
	"#    password: ${PGPASSWORD:-}\n"
	"#    schema: analytics\n"
	"schedule: \"0 2 * * *\"\n";

static int write_text(const char *dir, const char *rel, const char *text, sl_error *err)
{
	char *path = sl_path_join(dir, rel);
	if (!path)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	char *slash = strrchr(path, '/');
	int rc = 0;
	if (slash) {
		*slash = '\0';
		rc = sl_mkdirs(path, err);
		*slash = '/';
	}
	if (rc == 0)
		rc = sl_file_write_atomic(path, text, strlen(text), err);
	sl_free(path);
	return rc;
}

static const char *base_name(const char *dir)
{
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	const char *s = dir + n;
	while (s > dir && s[-1] != '/')
		s--;
	return s;
}

/* Project name from the folder name: '-', '.' and ' ' become '_'. */
static char *project_name(const char *dir)
{
	const char *base = base_name(dir);
	size_t n = strcspn(base, "/");
	char *name = sl_strndup(n ? base : "project", n ? n : 7);
	for (char *c = name; c && *c; c++)
		if (*c == '-' || *c == '.' || *c == ' ')
			*c = '_';
	return name;
}

static int scaffold(const char *dir, sl_error *err)
{
	sl_buf buf = SL_BUF_INIT;
	char *name = project_name(dir);
	int rc = 0;
	if (!name)
		return sl_error_set(err, SL_ENOMEM, "out of memory");
	if (sl_path_exists(dir)) {
		char *yml = sl_path_join(dir, "sluice.yml");
		bool exists = yml && sl_path_exists(yml);
		sl_free(yml);
		if (exists) {
			rc = sl_error_set(err, SL_EUSAGE,
					  "%s already holds a project (sluice.yml exists); choose a "
					  "new folder", dir);
			goto done;
		}
	}
	rc = sl_mkdirs(dir, err);
	if (rc == 0 && sl_buf_printf(&buf, sluice_yml, name, name) < 0)
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
	if (rc == 0)
		rc = write_text(dir, "sluice.yml", buf.data, err);
	sl_buf_reset(&buf);
	if (rc == 0 && sl_buf_printf(&buf, readme_text, name) < 0)
		rc = sl_error_set(err, SL_ENOMEM, "out of memory");
	if (rc == 0)
		rc = write_text(dir, "README.md", buf.data, err);
	if (rc == 0)
		rc = write_text(dir, ".gitignore", gitignore_text, err);
	/* Only folders something reads: models, seeds and macros come with
	 * the models feature. */
	static const char *dirs[] = {"sources", "data"};
	for (size_t i = 0; rc == 0 && i < sizeof dirs / sizeof dirs[0]; i++) {
		char *d = sl_path_join(dir, dirs[i]);
		rc = d ? sl_mkdirs(d, err) : sl_error_set(err, SL_ENOMEM, "out of memory");
		sl_free(d);
	}
done:
	sl_buf_free(&buf);
	sl_free(name);
	return rc;
}

int sl_cmd_init(int argc, char **argv)
{
	sl_error err = SL_ERROR_INIT;
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: sluice init DIR\n\nCreates a project folder: sluice.yml (lake ./lake, "
		       "SQLite target ./warehouse.db),\nsources/ for source files, data/ for local "
		       "files, a README.md and a .gitignore\nthat keeps what runs write (lake/, "
		       "warehouse.db, warehouse.raw.db, .sluice/)\nout of git.\n");
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-')
		return sl_cli_usage_error("init", "give the folder to create: sluice init DIR");
	if (scaffold(argv[1], &err) < 0)
		return sl_cli_fail(&err);
	printf("created project %s\nnext: add a source in %s/sources/, then `%s run "
	       "--project-dir %s`\n",
	       argv[1], argv[1], sl_cli_prog(), argv[1]);
	return 0;
}

/* ------------------------------------------------------------------ demo */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static int gen_customers(const char *dir, int n, sl_error *err)
{
	static const char *first[] = {"Ada", "Grace", "Linus", "Margaret", "Ken", "Barbara",
				      "Dennis", "Frances", "Edsger", "Radia"};
	static const char *last[] = {"Lovelace", "Hopper", "Torvalds", "Hamilton", "Thompson",
				     "Liskov", "Ritchie", "Allen", "Dijkstra", "Perlman"};
	static const char *cities[] = {"Lisbon", "Zürich", "München", "Kraków", "São Paulo",
				       "Oslo", "Reykjavík", "Tallinn"};
	sl_buf b = SL_BUF_INIT;
	sl_buf_puts(&b, "customer_id,name,email,city,signup_date\n");
	for (int i = 1; i <= n; i++) {
		const char *f = first[rnd() % 10], *l = last[rnd() % 10];
		sl_buf_printf(&b, "%d,\"%s, %s\",%c%s%d@example.com,%s,2024-%02d-%02d\n", i, l, f,
			      f[0] + 32, l, i, cities[rnd() % 8], (int)(rnd() % 12) + 1,
			      (int)(rnd() % 28) + 1);
	}
	int rc = b.data ? write_text(dir, "data/customers.csv", b.data, err)
			: sl_error_set(err, SL_ENOMEM, "out of memory");
	sl_buf_free(&b);
	return rc;
}

static int gen_orders(const char *dir, const char *rel, int first_id, int n, int ncust,
		      bool bad_rows, sl_error *err)
{
	static const char *status[] = {"placed", "shipped", "delivered", "returned"};
	static const char *notes[] = {"", "gift wrap", "leave at door, \"back\" porch",
				      "call first\nthen ring", "", ""};
	sl_buf b = SL_BUF_INIT;
	sl_buf_puts(&b, "order_id,customer_id,status,amount,ordered_at,note\n");
	for (int i = 0; i < n; i++) {
		int id = first_id + i;
		const char *note = notes[rnd() % 6];
		sl_buf_printf(&b, "%d,%d,%s,%d.%02d,2025-%02d-%02dT%02d:%02d:%02dZ,", id,
			      (int)(rnd() % (uint64_t)ncust) + 1, status[rnd() % 4],
			      (int)(rnd() % 500), (int)(rnd() % 100), (int)(rnd() % 12) + 1,
			      (int)(rnd() % 28) + 1, (int)(rnd() % 24), (int)(rnd() % 60),
			      (int)(rnd() % 60));
		if (*note) {
			sl_buf_putc(&b, '"');
			for (const char *c = note; *c; c++) {
				if (*c == '"')
					sl_buf_putc(&b, '"');
				sl_buf_putc(&b, *c);
			}
			sl_buf_putc(&b, '"');
		}
		sl_buf_putc(&b, '\n');
		if (bad_rows && i == n / 3)
			sl_buf_printf(&b, "%d,17,shipped,twelve euros,2025-03-01T10:00:00Z,\n", id + n);
		if (bad_rows && i == n / 2)
			sl_buf_printf(&b, "%d,18,placed\n", id + n + 1);
	}
	int rc = b.data ? write_text(dir, rel, b.data, err)
			: sl_error_set(err, SL_ENOMEM, "out of memory");
	sl_buf_free(&b);
	return rc;
}

static const char *demo_source =
	"# CSV files of the example shop, landed in the lake as raw/shop_files/<table>.\n"
	"source: shop_files\n"
	"kind: csv\n"
	"tables:\n"
	"  - name: customers\n"
	"    path: data/customers.csv\n"
	"    primary_key: [customer_id]\n"
	"    columns: {customer_id: int64, signup_date: date}\n"
	"    write: merge\n"
	"  - name: orders\n"
	"    path: data/orders_*.csv\n"
	"    primary_key: [order_id]\n"
	"    columns: {order_id: int64, customer_id: int64, amount: \"decimal(10,2)\", ordered_at: timestamp}\n"
	"    write: append\n"
	"    max_bad_rows: 10\n";

int sl_cmd_demo(int argc, char **argv)
{
	sl_error err = SL_ERROR_INIT;
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: sluice demo [DIR]\n\nCreates an example shop project (default "
		       "./demo-project) with generated\ncustomers and orders CSV files, two of "
		       "them malformed rows that land in the\nquarantine. Then run it: `sluice run "
		       "--project-dir DIR`.\n");
		return 0;
	}
	if (argc > 2 || (argc == 2 && argv[1][0] == '-'))
		return sl_cli_usage_error("demo", "usage: sluice demo [DIR]");
	const char *dir = argc == 2 ? argv[1] : "demo-project";
	int rc = scaffold(dir, &err);
	if (rc == 0)
		rc = write_text(dir, "sources/shop_files.yml", demo_source, &err);
	if (rc == 0)
		rc = gen_customers(dir, 1000, &err);
	if (rc == 0)
		rc = gen_orders(dir, "data/orders_2025_01.csv", 1, 20000, 1000, true, &err);
	if (rc == 0)
		rc = gen_orders(dir, "data/orders_2025_02.csv", 20001, 20000, 1000, false, &err);
	if (rc < 0)
		return sl_cli_fail(&err);
	printf("created demo project %s: 1000 customers, 40000 orders (2 malformed rows)\n"
	       "next: %s run --project-dir %s\n"
	       "then: %s sql --project-dir %s \"select status, count(*) from "
	       "raw.shop_files__orders group by status\"\n",
	       dir, sl_cli_prog(), dir, sl_cli_prog(), dir);
	return 0;
}
