/* test_store_s3.c: the S3 backend without a network: SigV4 against AWS's published
 * examples, ListObjectsV2 parsing, configuration and request addressing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/s3_int.h"

#include <stdio.h>
#include <string.h>

#define EX_AK "AKIAIOSFODNN7EXAMPLE"
#define EX_SK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

/* ------------------------------------------------------------ signer */

static void check_sig(const sl_s3_sign_req *r, const char *want_auth)
{
	char auth[512];
	assert_int_equal(sl_s3_sign(r, auth, sizeof auth, NULL), 0);
	assert_string_equal(auth, want_auth);
}

/* S3 API reference, "Example: GET Object" (first 10 bytes of test.txt). */
static void test_sigv4_s3_get_object_example(void **state)
{
	(void)state;
	sl_s3_kv h[] = {
		{"Host", "examplebucket.s3.amazonaws.com"},
		{"Range", "bytes=0-9"},
		{"x-amz-content-sha256", SL_S3_EMPTY_SHA256},
		{"x-amz-date", "20130524T000000Z"},
	};
	sl_s3_sign_req r = {.method = "GET", .path = "/test.txt", .headers = h, .nheaders = 4,
			    .payload_hash = SL_S3_EMPTY_SHA256, .amz_date = "20130524T000000Z",
			    .region = "us-east-1", .service = "s3", .access_key = EX_AK,
			    .secret_key = EX_SK};
	char auth[512];
	sl_buf canon = SL_BUF_INIT;
	assert_int_equal(sl_s3_sign(&r, auth, sizeof auth, &canon), 0);
	assert_string_equal(canon.data, "GET\n/test.txt\n\n"
					"host:examplebucket.s3.amazonaws.com\n"
					"range:bytes=0-9\n"
					"x-amz-content-sha256:" SL_S3_EMPTY_SHA256 "\n"
					"x-amz-date:20130524T000000Z\n"
					"\n"
					"host;range;x-amz-content-sha256;x-amz-date\n" SL_S3_EMPTY_SHA256);
	assert_string_equal(auth, "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/"
				  "us-east-1/s3/aws4_request,SignedHeaders=host;range;"
				  "x-amz-content-sha256;x-amz-date,Signature="
				  "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
	/* the secret never reaches the canonical request */
	assert_null(strstr(canon.data, EX_SK));
	sl_buf_free(&canon);
}

/* S3 API reference, "Example: PUT Object": a signed payload and a key needing escapes. */
static void test_sigv4_s3_put_object_example(void **state)
{
	(void)state;
	char hash[65];
	const char *body = "Welcome to Amazon S3.";
	sl_buf path = SL_BUF_INIT;
	sl_s3_sha256_hex(body, strlen(body), hash);
	assert_string_equal(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
	assert_int_equal(sl_s3_uri_encode(&path, "/test$file.text", 15, true), 0);
	assert_string_equal(path.data, "/test%24file.text");
	sl_s3_kv h[] = {
		{"x-amz-storage-class", "REDUCED_REDUNDANCY"},
		{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
		{"Host", "examplebucket.s3.amazonaws.com"},
		{"x-amz-date", "20130524T000000Z"},
		{"X-Amz-Content-Sha256", hash},
	};
	sl_s3_sign_req r = {.method = "PUT", .path = path.data, .headers = h, .nheaders = 5,
			    .payload_hash = hash, .amz_date = "20130524T000000Z",
			    .region = "us-east-1", .service = "s3", .access_key = EX_AK,
			    .secret_key = EX_SK};
	check_sig(&r, "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
		      "aws4_request,SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;"
		      "x-amz-storage-class,Signature="
		      "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
	sl_buf_free(&path);
}

/* S3 API reference, "Example: GET Bucket Lifecycle" (a value-less sub-resource). */
static void test_sigv4_s3_get_bucket_lifecycle_example(void **state)
{
	(void)state;
	sl_s3_kv q[] = {{"lifecycle", ""}};
	sl_s3_kv h[] = {
		{"Host", "examplebucket.s3.amazonaws.com"},
		{"x-amz-date", "20130524T000000Z"},
		{"x-amz-content-sha256", SL_S3_EMPTY_SHA256},
	};
	sl_s3_sign_req r = {.method = "GET", .path = "/", .query = q, .nquery = 1, .headers = h,
			    .nheaders = 3, .payload_hash = SL_S3_EMPTY_SHA256,
			    .amz_date = "20130524T000000Z", .region = "us-east-1", .service = "s3",
			    .access_key = EX_AK, .secret_key = EX_SK};
	check_sig(&r, "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
		      "aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature="
		      "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

/* S3 API reference, "Example: Get Bucket (List Objects)": query parameters sorted. */
static void test_sigv4_s3_list_objects_example(void **state)
{
	(void)state;
	sl_s3_kv q[] = {{"prefix", "J"}, {"max-keys", "2"}};
	sl_s3_kv h[] = {
		{"Host", "examplebucket.s3.amazonaws.com"},
		{"x-amz-date", "20130524T000000Z"},
		{"x-amz-content-sha256", SL_S3_EMPTY_SHA256},
	};
	sl_s3_sign_req r = {.method = "GET", .path = "/", .query = q, .nquery = 2, .headers = h,
			    .nheaders = 3, .payload_hash = SL_S3_EMPTY_SHA256,
			    .amz_date = "20130524T000000Z", .region = "us-east-1", .service = "s3",
			    .access_key = EX_AK, .secret_key = EX_SK};
	check_sig(&r, "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
		      "aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature="
		      "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

/* AWS SigV4 test suite, get-vanilla-query-order-key-case (another service). */
static void test_sigv4_suite_get_vanilla_query_order_key_case(void **state)
{
	(void)state;
	sl_s3_kv q[] = {{"Param2", "value2"}, {"Param1", "value1"}};
	sl_s3_kv h[] = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
	sl_s3_sign_req r = {.method = "GET", .path = "/", .query = q, .nquery = 2, .headers = h,
			    .nheaders = 2, .payload_hash = SL_S3_EMPTY_SHA256,
			    .amz_date = "20150830T123600Z", .region = "us-east-1",
			    .service = "service", .access_key = "AKIDEXAMPLE",
			    .secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"};
	check_sig(&r, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
		      "aws4_request,SignedHeaders=host;x-amz-date,Signature="
		      "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

static void test_sigv4_changes_with_every_input(void **state)
{
	(void)state;
	sl_s3_kv h[] = {{"Host", "h"}, {"x-amz-date", "20240101T000000Z"}};
	sl_s3_sign_req r = {.method = "GET", .path = "/k", .headers = h, .nheaders = 2,
			    .payload_hash = "UNSIGNED-PAYLOAD", .amz_date = "20240101T000000Z",
			    .region = "eu-west-1", .service = "s3", .access_key = "AK",
			    .secret_key = "SK"};
	char a[512], b[512];
	assert_int_equal(sl_s3_sign(&r, a, sizeof a, NULL), 0);
	r.secret_key = "SL";
	assert_int_equal(sl_s3_sign(&r, b, sizeof b, NULL), 0);
	assert_string_not_equal(a, b);
	r.secret_key = "SK";
	r.payload_hash = SL_S3_EMPTY_SHA256;
	assert_int_equal(sl_s3_sign(&r, b, sizeof b, NULL), 0);
	assert_string_not_equal(a, b);
	/* a malformed date is refused, not signed */
	r.amz_date = "2024-01-01";
	assert_int_equal(sl_s3_sign(&r, b, sizeof b, NULL), SL_EINVAL);
}

static void test_canonical_query_encodes_and_sorts(void **state)
{
	(void)state;
	sl_s3_kv q[] = {{"prefix", "raw/a b/ü+~"}, {"list-type", "2"},
			{"continuation-token", "1/x=="}, {"uploads", ""}};
	sl_buf out = SL_BUF_INIT;
	assert_int_equal(sl_s3_canonical_query(q, 4, &out), 0);
	assert_string_equal(out.data, "continuation-token=1%2Fx%3D%3D&list-type=2&"
				      "prefix=raw%2Fa%20b%2F%C3%BC%2B~&uploads=");
	sl_buf_free(&out);
}

/* ---------------------------------------------------------------- XML */

static const char *list_page1 =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
	"<Name>lake</Name><Prefix>pre/raw/</Prefix><KeyCount>3</KeyCount><MaxKeys>3</MaxKeys>"
	"<IsTruncated>true</IsTruncated>"
	"<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
	"<Contents><Key>pre/raw/b&amp;q/x&lt;1&gt;.parquet</Key>"
	"<LastModified>2024-03-05T10:20:30.123Z</LastModified>"
	"<ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>1234</Size>"
	"<Owner><ID>x</ID></Owner><StorageClass>STANDARD</StorageClass></Contents>\n"
	"  <Contents>\n    <Key>pre/raw/a/&#x41;&#66;.json</Key>\n"
	"    <LastModified>2009-10-12T17:50:30.000Z</LastModified>\n"
	"    <ETag>\"abc-2\"</ETag>\n    <Size>0</Size>\n  </Contents>"
	"<Contents><Key>pre/rawish/not-ours</Key><Size>1</Size></Contents>"
	"</ListBucketResult>";

static const char *list_page2 =
	"<ListBucketResult><IsTruncated>false</IsTruncated><KeyCount>1</KeyCount>"
	"<Contents><Key>pre/raw/c.csv</Key><Size>18446744073</Size>"
	"<LastModified>2024-01-01T00:00:00Z</LastModified><ETag>\"e\"</ETag></Contents>"
	"<CommonPrefixes><Prefix>pre/raw/z/</Prefix></CommonPrefixes>"
	"</ListBucketResult>";

static void test_list_parse_pages_entities_and_prefix(void **state)
{
	(void)state;
	sl_s3_list_page page = {0};
	sl_error err = SL_ERROR_INIT;
	int64_t want;

	assert_int_equal(sl_s3_parse_list(&page, list_page1, strlen(list_page1), "pre/raw/", &err), 0);
	assert_true(page.truncated);
	assert_string_equal(page.next_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
	assert_int_equal(page.n, 2); /* pre/rawish/ is outside "pre/raw/" */
	assert_string_equal(page.entries[0].key, "b&q/x<1>.parquet");
	assert_int_equal(page.entries[0].size, 1234);
	assert_string_equal(page.entries[0].etag, "9b2cf535f27731c974343645a3985328");
	assert_int_equal(sl_timestamp_parse("2024-03-05T10:20:30.123Z", 24, &want), 0);
	assert_int_equal(page.entries[0].mtime_micros, want);
	assert_string_equal(page.entries[1].key, "a/AB.json");
	assert_int_equal(page.entries[1].size, 0);
	assert_string_equal(page.entries[1].etag, "abc-2");
	assert_int_equal(page.entries[1].mtime_micros, INT64_C(1255369830) * 1000000);

	assert_int_equal(sl_s3_parse_list(&page, list_page2, strlen(list_page2), "pre/raw/", &err), 0);
	assert_false(page.truncated);
	assert_null(page.next_token);
	assert_int_equal(page.n, 3);
	assert_string_equal(page.entries[2].key, "c.csv");
	assert_int_equal(page.entries[2].size, UINT64_C(18446744073));
	sl_s3_list_page_free(&page);
}

static void test_list_parse_rejects_garbage(void **state)
{
	(void)state;
	sl_s3_list_page page = {0};
	sl_error err = SL_ERROR_INIT;
	const char *bad = "<ListBucketResult><Contents><Key>k</Key><Size>12x</Size></Contents>"
			  "</ListBucketResult>";
	assert_int_equal(sl_s3_parse_list(&page, "<html>", 6, "", &err), SL_EFORMAT);
	assert_int_equal(sl_s3_parse_list(&page, bad, strlen(bad), "", &err), SL_EFORMAT);
	assert_string_equal(err.message, "list answer: bad <Size> '12x' for k");
	sl_s3_list_page_free(&page);
}

static void test_xml_scanner_edges(void **state)
{
	(void)state;
	const char *x = "<A><KeyCount>2</KeyCount><Key/><Key attr=\"1\">v</Key></A>";
	const char *p = x, *b;
	size_t bl;
	assert_true(sl_s3_xml_next(&p, x + strlen(x), "Key", &b, &bl));
	assert_int_equal(bl, 0); /* <Key/>, not <KeyCount> */
	assert_true(sl_s3_xml_next(&p, x + strlen(x), "Key", &b, &bl));
	assert_int_equal(bl, 1);
	assert_memory_equal(b, "v", 1);
	assert_false(sl_s3_xml_next(&p, x + strlen(x), "Key", &b, &bl));
	/* unterminated element */
	p = "<Key>abc";
	assert_false(sl_s3_xml_next(&p, p + 8, "Key", &b, &bl));

	sl_buf u = SL_BUF_INIT;
	const char *esc = "a&amp;b&lt;&gt;&quot;&apos;&#233;&#x1F600;&bogus;&";
	assert_int_equal(sl_s3_xml_unescape(&u, esc, strlen(esc)), 0);
	assert_string_equal(u.data, "a&b<>\"'\xC3\xA9\xF0\x9F\x98\x80&bogus;&");
	sl_buf_free(&u);
}

static void test_error_body_code_and_message(void **state)
{
	(void)state;
	const char *x = "<?xml version=\"1.0\"?>\n<Error>\n<Code>SlowDown</Code>\n"
			"<Message>Please reduce\nyour request rate &amp; retry.</Message>"
			"<RequestId>1</RequestId></Error>";
	char code[64], msg[256];
	sl_s3_parse_error(x, strlen(x), code, sizeof code, msg, sizeof msg);
	assert_string_equal(code, "SlowDown");
	assert_string_equal(msg, "Please reduce your request rate & retry.");
	sl_s3_parse_error("", 0, code, sizeof code, msg, sizeof msg);
	assert_string_equal(code, "");
	assert_string_equal(msg, "");
}

/* ------------------------------------------------------------ config */

static const char *const *fake_env;

static const char *env_lookup(const char *name)
{
	for (const char *const *e = fake_env; e && *e; e += 2)
		if (strcmp(e[0], name) == 0)
			return e[1];
	return NULL;
}

static int config(sl_s3_config *c, const char *url, const char *const *env, sl_error *err)
{
	fake_env = env;
	return sl_s3_config_init(c, url, env_lookup, err);
}

static void target(const sl_s3_config *c, const char *key, const char *want_host,
		   const char *want_path, const char *want_url)
{
	char host[300];
	sl_buf full = SL_BUF_INIT, path = SL_BUF_INIT, url = SL_BUF_INIT;
	if (key)
		assert_int_equal(sl_s3_full_key(c, key, &full), 0);
	assert_int_equal(sl_s3_target(c, key ? full.data : NULL, host, sizeof host, &path, &url), 0);
	assert_string_equal(host, want_host);
	assert_string_equal(path.data, want_path);
	assert_string_equal(url.data, want_url);
	sl_buf_free(&full);
	sl_buf_free(&path);
	sl_buf_free(&url);
}

static void test_config_defaults_to_aws_virtual_host(void **state)
{
	(void)state;
	sl_s3_config c;
	sl_error err = SL_ERROR_INIT;
	const char *env[] = {"AWS_ACCESS_KEY_ID", "AK", "AWS_SECRET_ACCESS_KEY", "SK", NULL};
	assert_int_equal(config(&c, "s3://my-lake/warehouse/raw/", env, &err), 0);
	assert_string_equal(c.bucket, "my-lake");
	assert_string_equal(c.prefix, "warehouse/raw");
	assert_string_equal(c.region, "us-east-1");
	assert_false(c.path_style);
	assert_int_equal(c.max_retries, 5);
	assert_int_equal(c.part_size, 8 << 20);
	assert_string_equal(c.access_key, "AK");
	assert_null(c.session_token);
	target(&c, "t/part 1+2.parquet", "my-lake.s3.us-east-1.amazonaws.com",
	       "/warehouse/raw/t/part%201%2B2.parquet",
	       "https://my-lake.s3.us-east-1.amazonaws.com/warehouse/raw/t/part%201%2B2.parquet");
	target(&c, NULL, "my-lake.s3.us-east-1.amazonaws.com", "/",
	       "https://my-lake.s3.us-east-1.amazonaws.com/");
	sl_s3_config_reset(&c);
}

static void test_config_custom_endpoint_is_path_style(void **state)
{
	(void)state;
	sl_s3_config c;
	sl_error err = SL_ERROR_INIT;
	const char *env[] = {"AWS_ENDPOINT_URL", "http://127.0.0.1:9000/",
			     "AWS_DEFAULT_REGION", "eu-central-1",
			     "SLUICE_S3_PART_SIZE", "5242880",
			     "SLUICE_S3_MAX_RETRIES", "2",
			     "AWS_SESSION_TOKEN", "tok", NULL};
	assert_int_equal(config(&c, "s3://lake", env, &err), 0);
	assert_true(c.path_style);
	assert_string_equal(c.scheme, "http");
	assert_string_equal(c.region, "eu-central-1");
	assert_string_equal(c.prefix, "");
	assert_int_equal(c.part_size, 5 << 20);
	assert_int_equal(c.max_retries, 2);
	assert_null(c.access_key); /* no keys: unsigned requests */
	assert_string_equal(c.session_token, "tok");
	target(&c, "_delta_log/00000000000000000000.json", "127.0.0.1:9000",
	       "/lake/_delta_log/00000000000000000000.json",
	       "http://127.0.0.1:9000/lake/_delta_log/00000000000000000000.json");
	target(&c, NULL, "127.0.0.1:9000", "/lake", "http://127.0.0.1:9000/lake");
	sl_s3_config_reset(&c);

	/* forced virtual hosting on a custom endpoint with a base path */
	const char *env2[] = {"AWS_ENDPOINT_URL", "https://store.example.com/s3",
			      "SLUICE_S3_ADDRESSING", "virtual", "AWS_REGION", "auto", NULL};
	assert_int_equal(config(&c, "s3://b/p", env2, &err), 0);
	assert_false(c.path_style);
	target(&c, "k", "b.store.example.com", "/s3/p/k", "https://b.store.example.com/s3/p/k");
	sl_s3_config_reset(&c);

	/* dotted buckets on AWS stay path-style (TLS wildcard) */
	const char *env3[] = {"AWS_REGION", "us-west-2", NULL};
	assert_int_equal(config(&c, "s3://my.lake", env3, &err), 0);
	assert_true(c.path_style);
	target(&c, "k", "s3.us-west-2.amazonaws.com", "/my.lake/k",
	       "https://s3.us-west-2.amazonaws.com/my.lake/k");
	sl_s3_config_reset(&c);
}

static void test_config_errors_name_the_setting(void **state)
{
	(void)state;
	sl_s3_config c;
	sl_error err = SL_ERROR_INIT;
	const char *none[] = {NULL};
	assert_int_equal(config(&c, "s3://", none, &err), SL_ECONFIG);
	assert_string_equal(err.message, "s3://: no bucket name (expected s3://bucket[/prefix])");
	assert_int_equal(config(&c, "s3:///x", none, &err), SL_ECONFIG);
	assert_int_equal(config(&c, "s3://a b/x", none, &err), SL_ECONFIG);
	assert_int_equal(config(&c, "/tmp/lake", none, &err), SL_ECONFIG);

	const char *small[] = {"SLUICE_S3_PART_SIZE", "1048576", NULL};
	assert_int_equal(config(&c, "s3://b", small, &err), SL_ECONFIG);
	assert_string_equal(err.message, "S3 parts are 5 MiB to 5 GiB: SLUICE_S3_PART_SIZE='1048576': "
					 "expected a whole number from 5242880 to 5368709120");
	const char *addr[] = {"SLUICE_S3_ADDRESSING", "vhost", NULL};
	assert_int_equal(config(&c, "s3://b", addr, &err), SL_ECONFIG);
	assert_string_equal(err.message, "SLUICE_S3_ADDRESSING='vhost': expected path or virtual");
	const char *ep[] = {"AWS_ENDPOINT_URL", "127.0.0.1:9000", NULL};
	assert_int_equal(config(&c, "s3://b", ep, &err), SL_ECONFIG);
	const char *half[] = {"AWS_ACCESS_KEY_ID", "AK", NULL};
	assert_int_equal(config(&c, "s3://b", half, &err), SL_ECONFIG);
	assert_string_equal(err.message,
			    "s3://b: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
	const char *secret[] = {"AWS_ACCESS_KEY_ID", "AK", "AWS_SECRET_ACCESS_KEY",
				"very-secret-value", "SLUICE_S3_MAX_RETRIES", "-1", NULL};
	assert_int_equal(config(&c, "s3://b", secret, &err), SL_ECONFIG);
	assert_null(strstr(err.message, "very-secret-value"));
}

/* ------------------------------------------------------------ retries */

static void test_retry_classification(void **state)
{
	(void)state;
	assert_true(sl_s3_retryable(CURLE_OK, 503, "SlowDown"));
	assert_true(sl_s3_retryable(CURLE_OK, 500, ""));
	assert_true(sl_s3_retryable(CURLE_OK, 502, ""));
	assert_true(sl_s3_retryable(CURLE_OK, 504, ""));
	assert_true(sl_s3_retryable(CURLE_OK, 400, "RequestTimeout"));
	assert_true(sl_s3_retryable(CURLE_RECV_ERROR, 0, ""));
	assert_true(sl_s3_retryable(CURLE_SEND_ERROR, 0, ""));
	assert_true(sl_s3_retryable(CURLE_PARTIAL_FILE, 200, ""));
	assert_true(sl_s3_retryable(CURLE_GOT_NOTHING, 0, ""));
	assert_true(sl_s3_retryable(CURLE_OPERATION_TIMEDOUT, 0, ""));
	assert_false(sl_s3_retryable(CURLE_OK, 403, "AccessDenied"));
	assert_false(sl_s3_retryable(CURLE_OK, 404, "NoSuchKey"));
	assert_false(sl_s3_retryable(CURLE_OK, 412, "PreconditionFailed"));
	assert_false(sl_s3_retryable(CURLE_URL_MALFORMAT, 0, ""));
}

static void test_backoff_doubles_with_jitter_and_cap(void **state)
{
	(void)state;
	for (unsigned rnd = 0; rnd < 2000; rnd += 7) {
		long d1 = sl_s3_backoff_ms(1, 100, rnd), d3 = sl_s3_backoff_ms(3, 100, rnd);
		assert_in_range(d1, 50, 100);
		assert_in_range(d3, 200, 400);
		assert_in_range(sl_s3_backoff_ms(30, 100, rnd), 5000, 10000);
	}
	assert_int_not_equal(sl_s3_backoff_ms(4, 100, 1), sl_s3_backoff_ms(4, 100, 250));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigv4_s3_get_object_example),
		cmocka_unit_test(test_sigv4_s3_put_object_example),
		cmocka_unit_test(test_sigv4_s3_get_bucket_lifecycle_example),
		cmocka_unit_test(test_sigv4_s3_list_objects_example),
		cmocka_unit_test(test_sigv4_suite_get_vanilla_query_order_key_case),
		cmocka_unit_test(test_sigv4_changes_with_every_input),
		cmocka_unit_test(test_canonical_query_encodes_and_sorts),
		cmocka_unit_test(test_list_parse_pages_entities_and_prefix),
		cmocka_unit_test(test_list_parse_rejects_garbage),
		cmocka_unit_test(test_xml_scanner_edges),
		cmocka_unit_test(test_error_body_code_and_message),
		cmocka_unit_test(test_config_defaults_to_aws_virtual_host),
		cmocka_unit_test(test_config_custom_endpoint_is_path_style),
		cmocka_unit_test(test_config_errors_name_the_setting),
		cmocka_unit_test(test_retry_classification),
		cmocka_unit_test(test_backoff_doubles_with_jitter_and_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
