/*
 * version_sweep.c - check over the wire that a broker serves every version
 * of every API it advertises.
 *
 *   version_sweep HOST:PORT TOPIC_PREFIX
 *
 * The sweep asks ApiVersions (v0..v3) what the broker serves, prints each
 * range ("advertised Fetch (key 1) v0-v17"), and then, for every advertised
 * version of ApiVersions, Metadata, CreateTopics, Produce, Fetch and
 * ListOffsets, sends real requests on a plain socket and checks the
 * answers field by field:
 *
 *   Metadata vN      auto-creates PREFIX-md-N (polling past
 *                    LEADER_NOT_AVAILABLE): node 1 at our port, leader 1
 *   CreateTopics vN  PREFIX-ct-N with 2 partitions, then TOPIC_ALREADY_EXISTS
 *   Produce vN       3 keyed records to PREFIX-p-N partition 0 in the
 *                    version's format (magic 0 for v0-1, magic 1 for v2, a
 *                    v2 batch for v3+), acks=1; and acks=0 to PREFIX-a0-N,
 *                    which must get no response
 *   Fetch vN         every PREFIX-p-* topic from offset 0 (by topic id for
 *                    v13+), records compared exactly, high watermark 3; and
 *                    offset 1000 -> OFFSET_OUT_OF_RANGE
 *   ListOffsets vN   earliest 0 and latest 3 for every PREFIX-p-* topic
 *
 * and finally that ApiVersions one past its max gets UNSUPPORTED_VERSION
 * with a v0 body listing key 18 (CLIENT-NOTES rule 2). Every response must
 * decode to its exact length. Output: "ok API vN" or "FAIL API vN: reason"
 * per check and a summary line; exit status 0 only if every check passed
 * (1 otherwise, 2 on bad usage). After a failed check the sweep reconnects,
 * so one broken version does not hide the others.
 */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "client/conn.h"
#include "protocol/codec.h"
#include "protocol/errors.h"
#include "record/legacy.h"
#include "record/records.h"
#include "util/arena.h"
#include "util/buf.h"

#include "rawconn.h"

#define NODE_ID 1
#define RECORDS 3
#define MAX_TOPICS 64

enum { A_API_VERSIONS, A_METADATA, A_CREATE_TOPICS, A_PRODUCE, A_FETCH, A_LIST_OFFSETS, A_N };

/*
 * The first flexible version of each API is written here from the protocol
 * guide rather than taken from the codec, so a response header the codec
 * gets wrong on both sides is still caught.
 */
static const struct {
	int16_t key;
	const char *name;
	int16_t flex_min;
} apis[A_N] = {
	{ 18, "ApiVersions", 3 }, { 3, "Metadata", 9 }, { 19, "CreateTopics", 5 },
	{ 0, "Produce", 9 },      { 1, "Fetch", 12 },   { 2, "ListOffsets", 6 },
};

/* A topic a Produce check filled with RECORDS records, for Fetch and ListOffsets. */
struct produced {
	char name[256];
	kp_uuid id;
	bool has_id;
	int16_t version; /* of the Produce request that wrote it */
};

struct sweep {
	struct raw_conn rc; /* host, port, fd and the last error (why) */
	const char *prefix;
	int32_t corr;
	kp_arena arena; /* one check's frames and decoded messages */
	int16_t min[A_N], max[A_N];
	int checks, failures;
	struct produced prod[MAX_TOPICS];
	int nprod;
};

typedef int (*check_fn)(struct sweep *sw, int16_t v);

__attribute__((format(printf, 2, 3)))
static int fail(struct sweep *sw, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sw->rc.why, sizeof sw->rc.why, fmt, ap);
	va_end(ap);
	return -1;
}

static void *alloc(struct sweep *sw, size_t n)
{
	void *p = kp_arena_alloc(&sw->arena, n);

	if (!p) {
		fputs("version_sweep: out of memory\n", stderr);
		exit(1);
	}
	return p;
}

static bool uuid_zero(const kp_uuid *u)
{
	static const kp_uuid zero;

	return memcmp(u, &zero, sizeof zero) == 0;
}

/* read_frame - the next response frame's body (size prefix removed) in the arena. */
static int read_frame(struct sweep *sw, uint8_t **body, size_t *len)
{
	return raw_read_frame(&sw->rc, &sw->arena, body, len) < 0 ? -1 : 0;
}


/* send_request - encode and send one request; *corr gets its correlation id. */
static int send_request(struct sweep *sw, int16_t key, int16_t v, const void *req, int32_t *corr)
{
	kp_buf out;
	kp_error err;
	int rc;

	kp_buf_init(&out);
	*corr = ++sw->corr;
	if (kp_request_encode(key, v, *corr, "version_sweep", req, &out, &err) < 0)
		rc = fail(sw, "cannot encode the request: %s", err.msg);
	else
		rc = raw_write_all(&sw->rc, out.data, out.len);
	kp_buf_free(&out);
	return rc;
}

/*
 * check_header - the response header version is 0, or 1 for flexible
 * versions (never for ApiVersions, KIP-511), and a v1 header's tagged
 * section is empty (CLIENT-NOTES rules 2 and 3).
 */
static int check_header(struct sweep *sw, int16_t key, int16_t v, const uint8_t *body, size_t len)
{
	int hv = 0;

	for (int a = 0; a < A_N; a++)
		if (apis[a].key == key && key != 18 && v >= apis[a].flex_min)
			hv = 1;
	if (kp_response_header_version(key, v) != hv)
		return fail(sw, "the codec uses response header v%d, the protocol v%d",
			    kp_response_header_version(key, v), hv);
	if (hv == 1 && (len < 5 || body[4] != 0))
		return fail(sw, "the response header's tagged-field section is not empty");
	return 0;
}

/*
 * recv_response - read the next frame, check it answers `corr`, and decode
 * it as `key` at version `v` into `resp`, which must use every byte.
 */
static int recv_response(struct sweep *sw, int16_t key, int16_t v, int32_t corr, void *resp)
{
	const struct kp_api_info *api = kp_api_lookup(key);
	struct kp_response_header h;
	uint8_t *body = NULL;
	size_t len = 0;
	kp_reader r;
	kp_error err;

	if (read_frame(sw, &body, &len) < 0)
		return -1;
	if ((int32_t)kp_load_u32(body) != corr)
		return fail(sw, "response has correlation id %d, expected %d",
			    (int)(int32_t)kp_load_u32(body), (int)corr);
	if (check_header(sw, key, v, body, len) < 0)
		return -1;
	kp_reader_init(&r, body, len);
	if (kp_msg_decode(&kp_response_header_desc, (int16_t)kp_response_header_version(key, v), &r,
			  &sw->arena, &h, &err) < 0 ||
	    kp_msg_decode(api->response, v, &r, &sw->arena, resp, &err) < 0)
		return fail(sw, "cannot decode the %zu-byte response: %s", len, err.msg);
	if (kp_reader_left(&r) != 0)
		return fail(sw, "%zu bytes left over after the v%d response (%zu bytes)",
			    kp_reader_left(&r), v, len);
	return 0;
}

static int call(struct sweep *sw, int16_t key, int16_t v, const void *req, void *resp)
{
	int32_t corr;

	if (send_request(sw, key, v, req, &corr) < 0)
		return -1;
	return recv_response(sw, key, v, corr, resp);
}

/* ---- ApiVersions ------------------------------------------------------- */

static int api_versions_call(struct sweep *sw, int16_t v, struct kp_api_versions_response *resp)
{
	struct kp_api_versions_request req;

	kp_msg_init(&kp_api_versions_request_desc, &req);
	req.client_software_name = "version-sweep";
	req.client_software_version = "1.0";
	if (call(sw, 18, v, &req, resp) < 0)
		return -1;
	if (resp->error_code != KP_ERR_NONE)
		return fail(sw, "error %d", resp->error_code);
	return 0;
}

static const struct kp_api_versions_response_api_version *
find_key(const struct kp_api_versions_response *resp, int16_t key)
{
	for (int32_t i = 0; i < resp->api_keys_count; i++)
		if (resp->api_keys[i].api_key == key)
			return &resp->api_keys[i];
	return NULL;
}

/* discover - the advertised ranges, from ApiVersions v0 on a fresh connection. */
static int discover(struct sweep *sw)
{
	struct kp_api_versions_response resp;

	if (raw_open(&sw->rc) < 0 || api_versions_call(sw, 0, &resp) < 0)
		return -1;
	for (int a = 0; a < A_N; a++) {
		const struct kp_api_versions_response_api_version *k = find_key(&resp, apis[a].key);

		if (!k)
			return fail(sw, "ApiVersions does not list %s (key %d)", apis[a].name,
				    apis[a].key);
		sw->min[a] = k->min_version;
		sw->max[a] = k->max_version;
		printf("advertised %s (key %d) v%d-v%d\n", apis[a].name, apis[a].key, k->min_version,
		       k->max_version);
	}
	return 0;
}

static int check_api_versions(struct sweep *sw, int16_t v)
{
	struct kp_api_versions_response resp;

	if (api_versions_call(sw, v, &resp) < 0)
		return -1;
	for (int a = 0; a < A_N; a++) {
		const struct kp_api_versions_response_api_version *k = find_key(&resp, apis[a].key);

		if (!k || k->min_version != sw->min[a] || k->max_version != sw->max[a])
			return fail(sw, "%s range differs from the v0 answer", apis[a].name);
	}
	if (v >= 1 && resp.throttle_time_ms != 0)
		return fail(sw, "throttle_time_ms %d", resp.throttle_time_ms);
	return 0;
}

/* send_raw_api_versions - ApiVersions at a version the codec lacks: header v1, empty body. */
static int send_raw_api_versions(struct sweep *sw, int16_t v, int32_t *corr)
{
	uint8_t f[14];

	*corr = ++sw->corr;
	kp_store_u32(f, 10);
	kp_store_u16(f + 4, 18);
	kp_store_u16(f + 6, (uint16_t)v);
	kp_store_u32(f + 8, (uint32_t)*corr);
	kp_store_u16(f + 12, 0xffff); /* null client id */
	return raw_write_all(&sw->rc, f, 14);
}

/* check_unsupported - ApiVersions past the max: error 35 and a v0 body listing key 18. */
static int check_unsupported(struct sweep *sw, int16_t v)
{
	struct kp_api_versions_response resp;
	struct kp_api_versions_request req;
	const struct kp_api_versions_response_api_version *k;
	int32_t corr;
	int rc;

	kp_msg_init(&kp_api_versions_request_desc, &req);
	if (v <= kp_api_lookup(18)->max_version)
		rc = send_request(sw, 18, v, &req, &corr);
	else
		rc = send_raw_api_versions(sw, v, &corr);
	if (rc < 0 || recv_response(sw, 18, 0, corr, &resp) < 0)
		return -1;
	if (resp.error_code != KP_ERR_UNSUPPORTED_VERSION)
		return fail(sw, "error %d, expected %d", resp.error_code, KP_ERR_UNSUPPORTED_VERSION);
	k = find_key(&resp, 18);
	if (!k || k->min_version != sw->min[A_API_VERSIONS] ||
	    k->max_version != sw->max[A_API_VERSIONS])
		return fail(sw, "the v0 body does not list ApiVersions v%d-v%d",
			    sw->min[A_API_VERSIONS], sw->max[A_API_VERSIONS]);
	/* the client retries lower on the same connection */
	return api_versions_call(sw, sw->max[A_API_VERSIONS], &resp);
}

/* ---- Metadata ---------------------------------------------------------- */

static int metadata_call(struct sweep *sw, int16_t v, const char *topic, bool create,
			 struct kp_metadata_response *resp)
{
	struct kp_metadata_request req;
	struct kp_metadata_request_metadata_request_topic t = { .name = (char *)topic };

	kp_msg_init(&kp_metadata_request_desc, &req);
	req.topics = &t;
	req.topics_count = 1;
	req.allow_auto_topic_creation = create;
	if (call(sw, 3, v, &req, resp) < 0)
		return -1;
	if (resp->topics_count != 1 || !resp->topics[0].name || strcmp(resp->topics[0].name, topic))
		return fail(sw, "%d topics in the answer, not just %s", resp->topics_count, topic);
	return 0;
}

/* metadata_ready - Metadata until `topic` has no error (LEADER_NOT_AVAILABLE is retried). */
static int metadata_ready(struct sweep *sw, int16_t v, const char *topic,
			  struct kp_metadata_response *resp)
{
	for (int tries = 0; tries < 100; tries++) {
		if (metadata_call(sw, v, topic, true, resp) < 0)
			return -1;
		int16_t e = resp->topics[0].error_code;

		if (e == KP_ERR_NONE)
			return 0;
		if (e != KP_ERR_LEADER_NOT_AVAILABLE)
			return fail(sw, "topic %s: error %d", topic, e);
		usleep(100 * 1000);
	}
	return fail(sw, "topic %s: still LEADER_NOT_AVAILABLE after 10 s", topic);
}

static bool has_node(const int32_t *nodes, int32_t n)
{
	for (int32_t i = 0; i < n; i++)
		if (nodes[i] == NODE_ID)
			return true;
	return false;
}

static int check_brokers(struct sweep *sw, int16_t v, const struct kp_metadata_response *resp)
{
	int32_t i;

	for (i = 0; i < resp->brokers_count; i++)
		if (resp->brokers[i].node_id == NODE_ID)
			break;
	if (i == resp->brokers_count)
		return fail(sw, "node %d is not among the %d brokers", NODE_ID, resp->brokers_count);
	if (resp->brokers[i].port != sw->rc.port || !resp->brokers[i].host || !*resp->brokers[i].host)
		return fail(sw, "node %d at %s:%d, expected port %d", NODE_ID,
			    resp->brokers[i].host ? resp->brokers[i].host : "(null)",
			    resp->brokers[i].port, sw->rc.port);
	if (v >= 1 && resp->controller_id != NODE_ID)
		return fail(sw, "controller_id %d", resp->controller_id);
	if (v >= 2 && (!resp->cluster_id || !*resp->cluster_id))
		return fail(sw, "no cluster_id");
	return 0;
}

static int check_md_topic(struct sweep *sw, int16_t v,
			  const struct kp_metadata_response_metadata_response_topic *t)
{
	const struct kp_metadata_response_metadata_response_partition *p = t->partitions;

	if (t->partitions_count < 1)
		return fail(sw, "topic %s has %d partitions", t->name, t->partitions_count);
	if (p->error_code != KP_ERR_NONE || p->partition_index != 0 || p->leader_id != NODE_ID)
		return fail(sw, "partition 0 of %s: index %d, error %d, leader %d", t->name,
			    p->partition_index, p->error_code, p->leader_id);
	if (!has_node(p->replica_nodes, p->replica_nodes_count) ||
	    !has_node(p->isr_nodes, p->isr_nodes_count))
		return fail(sw, "node %d not among the replicas and ISR of %s-0", NODE_ID, t->name);
	if (v >= 7 && p->leader_epoch < 0)
		return fail(sw, "leader_epoch %d", p->leader_epoch);
	if (v >= 10 && uuid_zero(&t->topic_id))
		return fail(sw, "topic %s has no topic id", t->name);
	return 0;
}

static int check_metadata(struct sweep *sw, int16_t v)
{
	struct kp_metadata_response resp;
	char topic[300];

	snprintf(topic, sizeof topic, "%s-md-%d", sw->prefix, v);
	if (metadata_ready(sw, v, topic, &resp) < 0 || check_brokers(sw, v, &resp) < 0 ||
	    check_md_topic(sw, v, &resp.topics[0]) < 0)
		return -1;
	if (v < 4)
		return 0;
	/* v4+ creates only when asked to */
	snprintf(topic, sizeof topic, "%s-md-%d-noauto", sw->prefix, v);
	if (metadata_call(sw, v, topic, false, &resp) < 0)
		return -1;
	if (resp.topics[0].error_code != KP_ERR_UNKNOWN_TOPIC_OR_PARTITION)
		return fail(sw, "%s without auto-creation: error %d, expected %d", topic,
			    resp.topics[0].error_code, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	return 0;
}

/* ensure_topic - auto-create `name` with Metadata at its max version; its id when v10+. */
static int ensure_topic(struct sweep *sw, const char *name, struct produced *out)
{
	struct kp_metadata_response resp;
	int16_t v = sw->max[A_METADATA];

	if (metadata_ready(sw, v, name, &resp) < 0)
		return -1;
	snprintf(out->name, sizeof out->name, "%s", name);
	out->id = resp.topics[0].topic_id;
	out->has_id = v >= 10 && !uuid_zero(&out->id);
	return 0;
}

/* ---- CreateTopics ------------------------------------------------------ */

typedef struct kp_create_topics_response_creatable_topic_result ct_result;

/* create_topic - CreateTopics v for one topic; *res points at its result. */
static int create_topic(struct sweep *sw, int16_t v, const char *name, int32_t partitions,
			int16_t rf, const ct_result **res)
{
	struct kp_create_topics_request req;
	struct kp_create_topics_request_creatable_topic t = { 0 };
	struct kp_create_topics_response *resp = alloc(sw, sizeof(*resp));

	kp_msg_init(&kp_create_topics_request_desc, &req);
	t.name = (char *)name;
	t.num_partitions = partitions;
	t.replication_factor = rf;
	req.topics = &t;
	req.topics_count = 1;
	req.timeout_ms = 10000;
	if (call(sw, 19, v, &req, resp) < 0)
		return -1;
	if (resp->topics_count != 1 || !resp->topics[0].name || strcmp(resp->topics[0].name, name))
		return fail(sw, "%d topics in the answer, not just %s", resp->topics_count, name);
	*res = &resp->topics[0];
	return 0;
}

static int expect_created(struct sweep *sw, int16_t v, const ct_result *r, int32_t partitions)
{
	if (r->error_code != KP_ERR_NONE)
		return fail(sw, "creating %s: error %d (%s)", r->name, r->error_code,
			    r->error_message ? r->error_message : "no message");
	if (v >= 5 && ((partitions > 0 && r->num_partitions != partitions) ||
		       r->num_partitions < 1 || r->replication_factor != 1))
		return fail(sw, "%s created with %d partitions, replication factor %d", r->name,
			    r->num_partitions, r->replication_factor);
	if (v >= 7 && uuid_zero(&r->topic_id))
		return fail(sw, "%s created without a topic id", r->name);
	return 0;
}

/* partition_count - Metadata (max version, no auto-creation) must show `n` partitions. */
static int expect_partitions(struct sweep *sw, const char *name, int32_t n)
{
	struct kp_metadata_response resp;

	if (metadata_call(sw, sw->max[A_METADATA], name, false, &resp) < 0)
		return -1;
	if (resp.topics[0].error_code != KP_ERR_NONE || resp.topics[0].partitions_count != n)
		return fail(sw, "Metadata shows %s with error %d and %d partitions, expected %d",
			    name, resp.topics[0].error_code, resp.topics[0].partitions_count, n);
	return 0;
}

static int check_create_topics(struct sweep *sw, int16_t v)
{
	const ct_result *r;
	char name[300];

	snprintf(name, sizeof name, "%s-ct-%d", sw->prefix, v);
	if (create_topic(sw, v, name, 2, 1, &r) < 0 || expect_created(sw, v, r, 2) < 0 ||
	    expect_partitions(sw, name, 2) < 0)
		return -1;
	if (create_topic(sw, v, name, 2, 1, &r) < 0)
		return -1;
	if (r->error_code != KP_ERR_TOPIC_ALREADY_EXISTS)
		return fail(sw, "creating %s again: error %d, expected %d", name, r->error_code,
			    KP_ERR_TOPIC_ALREADY_EXISTS);
	if (v < 4)
		return 0;
	/* v4+: -1 means the broker's defaults */
	snprintf(name, sizeof name, "%s-ct-%d-defaults", sw->prefix, v);
	if (create_topic(sw, v, name, -1, -1, &r) < 0 || expect_created(sw, v, r, -1) < 0)
		return -1;
	return 0;
}

/* ---- Produce ----------------------------------------------------------- */

/* record_text - key or value i of the records Produce v`pv` writes. */
static int record_text(char *buf, size_t size, bool key, int16_t pv, int i)
{
	if (key)
		return snprintf(buf, size, "key-%d-%d", pv, i);
	return snprintf(buf, size, "value %d written with Produce v%d", i, pv);
}

/* build_records - RECORDS records in the format Produce v`pv` carries, into `out`. */
static int build_records(struct sweep *sw, int16_t pv, kp_buf *out)
{
	kp_batch_builder *b = kp_batch_builder_new(KP_COMPRESSION_NONE, -1, -1, NULL);
	struct timespec now;
	int64_t ms;
	char key[64], val[64];
	kp_buf batch;
	kp_error err;
	int rc = -1;

	kp_buf_init(&batch);
	clock_gettime(CLOCK_REALTIME, &now);
	ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	if (!b)
		return fail(sw, "cannot make a batch builder");
	for (int i = 0; i < RECORDS; i++) {
		struct kp_record rec = { .timestamp = ms };

		rec.key = (const uint8_t *)key;
		rec.key_len = record_text(key, sizeof key, true, pv, i);
		rec.value = (const uint8_t *)val;
		rec.value_len = record_text(val, sizeof val, false, pv, i);
		if (kp_batch_builder_add(b, &rec, &err) < 0)
			goto out;
	}
	if (kp_batch_builder_finish(b, -1, &batch, &err) < 0)
		goto out;
	if (pv >= 3)
		rc = (kp_buf_append(out, batch.data, batch.len), 0);
	else
		rc = kp_batch_to_legacy(batch.data, batch.len, pv <= 1 ? 0 : 1, out, &err);
out:
	if (rc < 0)
		fail(sw, "cannot build the records: %s", err.msg);
	kp_batch_builder_free(b);
	kp_buf_free(&batch);
	return rc;
}

/* produce_send - Produce v`v` of `recs` to topic/0 with `acks`; *corr its id. */
static int produce_send(struct sweep *sw, int16_t v, const char *topic, int16_t acks,
			const kp_buf *recs, int32_t *corr)
{
	struct kp_produce_request req;
	struct kp_produce_request_topic_produce_data td = { .name = (char *)topic };
	struct kp_produce_request_partition_produce_data pd = { .index = 0 };

	kp_msg_init(&kp_produce_request_desc, &req);
	pd.records.data = recs->data;
	pd.records.len = (int32_t)recs->len;
	td.partition_data = &pd;
	td.partition_data_count = 1;
	req.acks = acks;
	req.timeout_ms = 10000;
	req.topic_data = &td;
	req.topic_data_count = 1;
	return send_request(sw, 0, v, &req, corr);
}

static int produce_acks1(struct sweep *sw, int16_t v, const char *topic, const kp_buf *recs)
{
	struct kp_produce_response resp;
	const struct kp_produce_response_partition_produce_response *p;
	int32_t corr;

	if (produce_send(sw, v, topic, 1, recs, &corr) < 0 || recv_response(sw, 0, v, corr, &resp) < 0)
		return -1;
	if (resp.responses_count != 1 || !resp.responses[0].name ||
	    strcmp(resp.responses[0].name, topic) || resp.responses[0].partition_responses_count != 1)
		return fail(sw, "the answer is not about %s partition 0 alone", topic);
	p = &resp.responses[0].partition_responses[0];
	if (p->index != 0 || p->error_code != KP_ERR_NONE || p->base_offset != 0)
		return fail(sw, "%s-%d: error %d, base offset %lld (expected 0, 0)", topic, p->index,
			    p->error_code, (long long)p->base_offset);
	if (v >= 2 && p->log_append_time_ms != -1)
		return fail(sw, "log_append_time_ms %lld for a CreateTime topic",
			    (long long)p->log_append_time_ms);
	if (v >= 5 && p->log_start_offset != 0)
		return fail(sw, "log_start_offset %lld", (long long)p->log_start_offset);
	return 0;
}

static int list_offset(struct sweep *sw, int16_t v, const char *topic, int64_t ts, int64_t *offset);

/* produce_acks0 - acks=0 gets no answer: the next one read is the ApiVersions sent after. */
static int produce_acks0(struct sweep *sw, int16_t v, const kp_buf *recs)
{
	struct kp_api_versions_response av;
	struct kp_api_versions_request req;
	struct produced t;
	char topic[300];
	int32_t corr;
	int64_t end;

	snprintf(topic, sizeof topic, "%s-a0-%d", sw->prefix, v);
	if (ensure_topic(sw, topic, &t) < 0 || produce_send(sw, v, topic, 0, recs, &corr) < 0)
		return -1;
	kp_msg_init(&kp_api_versions_request_desc, &req);
	if (send_request(sw, 18, 0, &req, &corr) < 0)
		return -1;
	if (recv_response(sw, 18, 0, corr, &av) < 0) {
		char why[sizeof sw->rc.why];

		memcpy(why, sw->rc.why, sizeof why);
		return fail(sw, "acks=0, then ApiVersions: %s", why);
	}
	if (list_offset(sw, sw->max[A_LIST_OFFSETS], topic, -1, &end) < 0)
		return -1;
	if (end != RECORDS)
		return fail(sw, "acks=0: %s ends at offset %lld, expected %d", topic, (long long)end,
			    RECORDS);
	return 0;
}

static int check_produce(struct sweep *sw, int16_t v)
{
	struct produced *t = &sw->prod[sw->nprod];
	char topic[300];
	kp_buf recs;
	int rc = -1;

	if (sw->nprod == MAX_TOPICS)
		return fail(sw, "more than %d Produce versions", MAX_TOPICS);
	kp_buf_init(&recs);
	snprintf(topic, sizeof topic, "%s-p-%d", sw->prefix, v);
	if (ensure_topic(sw, topic, t) < 0 || build_records(sw, v, &recs) < 0 ||
	    produce_acks1(sw, v, topic, &recs) < 0)
		goto out;
	t->version = v;
	sw->nprod++;
	rc = produce_acks0(sw, v, &recs);
out:
	kp_buf_free(&recs);
	return rc;
}

/* ---- Fetch ------------------------------------------------------------- */

typedef struct kp_fetch_response_partition_data fr_partition;

/* fetch_call - Fetch v`v` of partition 0 of the `n` topics at `offset`, one answer each. */
static int fetch_call(struct sweep *sw, int16_t v, const struct produced *ts, int n,
		      int64_t offset, struct kp_fetch_response *resp)
{
	struct kp_fetch_request req;
	struct kp_fetch_request_fetch_topic *ft = alloc(sw, sizeof(*ft) * (size_t)n);
	struct kp_fetch_request_fetch_partition *fp = alloc(sw, sizeof(*fp) * (size_t)n);

	kp_msg_init(&kp_fetch_request_desc, &req);
	for (int i = 0; i < n; i++) {
		if (v >= 13 && !ts[i].has_id)
			return fail(sw, "no topic id for %s (needs Metadata v10+)", ts[i].name);
		fp[i] = (struct kp_fetch_request_fetch_partition){ .partition = 0,
			.current_leader_epoch = -1, .fetch_offset = offset, .last_fetched_epoch = -1,
			.log_start_offset = -1, .partition_max_bytes = 1 << 20 };
		ft[i] = (struct kp_fetch_request_fetch_topic){ .topic = (char *)ts[i].name,
			.topic_id = ts[i].id, .partitions = &fp[i], .partitions_count = 1 };
	}
	req.replica_id = -1;
	req.max_wait_ms = 500;
	req.min_bytes = 1;
	req.max_bytes = 16 << 20;
	req.session_epoch = -1;
	req.topics = ft;
	req.topics_count = n;
	if (call(sw, 1, v, &req, resp) < 0)
		return -1;
	if (resp->error_code != KP_ERR_NONE || resp->responses_count != n)
		return fail(sw, "error %d and %d topics, expected 0 and %d", resp->error_code,
			    resp->responses_count, n);
	return 0;
}

/* fetched_partition - partition 0 of answer `r` for topic `t`, or NULL with sw->rc.why. */
static const fr_partition *fetched_partition(struct sweep *sw, int16_t v, const struct produced *t,
					     const struct kp_fetch_response_fetchable_topic_response *r)
{
	bool same = v >= 13 ? memcmp(&r->topic_id, &t->id, sizeof t->id) == 0
			    : r->topic && strcmp(r->topic, t->name) == 0;

	if (!same || r->partitions_count != 1 || r->partitions[0].partition_index != 0) {
		fail(sw, "answer for %s is not about its partition 0 alone", t->name);
		return NULL;
	}
	return &r->partitions[0];
}

static int compare_record(struct sweep *sw, const struct produced *t, int i,
			  const struct kp_record *rec)
{
	char key[64], val[64];
	int klen = record_text(key, sizeof key, true, t->version, i);
	int vlen = record_text(val, sizeof val, false, t->version, i);

	if (rec->offset != i)
		return fail(sw, "%s: record %d has offset %lld", t->name, i, (long long)rec->offset);
	if (rec->key_len != klen || memcmp(rec->key, key, (size_t)klen) ||
	    rec->value_len != vlen || memcmp(rec->value, val, (size_t)vlen))
		return fail(sw, "%s offset %d: key/value %.*s/%.*s, expected %s/%s", t->name, i,
			    rec->key_len > 0 ? rec->key_len : 0, rec->key ? (const char *)rec->key : "",
			    rec->value_len > 0 ? rec->value_len : 0,
			    rec->value ? (const char *)rec->value : "", key, val);
	return 0;
}

/* check_records - exactly the RECORDS records Produce wrote, in the format Fetch v`v` uses. */
static int check_records(struct sweep *sw, int16_t v, const struct produced *t, const kp_bytes *data)
{
	int magic = v <= 1 ? 0 : v <= 3 ? 1 : 2;
	kp_record_iter *it;
	struct kp_record rec;
	kp_error err;
	int n = 0, rc = 0, bad = 0;

	if (data->len < 17 || data->data[16] != magic)
		return fail(sw, "%s: %d bytes of records, not magic %d", t->name, data->len, magic);
	if (!(it = kp_record_iter_new(data->data, (size_t)data->len, 0)))
		return fail(sw, "out of memory");
	while (!bad && (rc = kp_record_iter_next(it, &rec, &err)) == 1) {
		if (n == RECORDS)
			bad = fail(sw, "%s: more than %d records", t->name, RECORDS);
		else
			bad = compare_record(sw, t, n++, &rec);
	}
	kp_record_iter_free(it);
	if (bad)
		return -1;
	if (rc < 0)
		return fail(sw, "%s: cannot read the records: %s", t->name, err.msg);
	if (n != RECORDS)
		return fail(sw, "%s: %d records, expected %d", t->name, n, RECORDS);
	return 0;
}

static int check_fetched(struct sweep *sw, int16_t v, const struct produced *t,
			 const struct kp_fetch_response_fetchable_topic_response *r)
{
	const fr_partition *p = fetched_partition(sw, v, t, r);

	if (!p)
		return -1;
	if (p->error_code != KP_ERR_NONE || p->high_watermark != RECORDS)
		return fail(sw, "%s: error %d, high watermark %lld (expected 0, %d)", t->name,
			    p->error_code, (long long)p->high_watermark, RECORDS);
	if (v >= 4 && p->last_stable_offset != RECORDS)
		return fail(sw, "%s: last stable offset %lld", t->name,
			    (long long)p->last_stable_offset);
	if (v >= 5 && p->log_start_offset != 0)
		return fail(sw, "%s: log start offset %lld", t->name, (long long)p->log_start_offset);
	return check_records(sw, v, t, &p->records);
}

static int check_fetch(struct sweep *sw, int16_t v)
{
	struct kp_fetch_response resp;
	const fr_partition *p;

	if (sw->nprod == 0)
		return fail(sw, "no Produce check succeeded, nothing to fetch");
	if (fetch_call(sw, v, sw->prod, sw->nprod, 0, &resp) < 0)
		return -1;
	for (int i = 0; i < sw->nprod; i++)
		if (check_fetched(sw, v, &sw->prod[i], &resp.responses[i]) < 0)
			return -1;
	if (fetch_call(sw, v, sw->prod, 1, 1000, &resp) < 0 ||
	    !(p = fetched_partition(sw, v, sw->prod, &resp.responses[0])))
		return -1;
	if (p->error_code != KP_ERR_OFFSET_OUT_OF_RANGE)
		return fail(sw, "fetch at offset 1000 of %s: error %d, expected %d", sw->prod[0].name,
			    p->error_code, KP_ERR_OFFSET_OUT_OF_RANGE);
	return 0;
}

/* ---- ListOffsets ------------------------------------------------------- */

typedef struct kp_list_offsets_response_list_offsets_partition_response lo_partition;

/* list_offset - ListOffsets v`v` of topic/0 at timestamp `ts` (-1 latest, -2 earliest). */
static int list_offset(struct sweep *sw, int16_t v, const char *topic, int64_t ts, int64_t *offset)
{
	struct kp_list_offsets_request req;
	struct kp_list_offsets_request_list_offsets_partition rp = { .partition_index = 0,
		.current_leader_epoch = -1, .timestamp = ts, .max_num_offsets = 1 };
	struct kp_list_offsets_request_list_offsets_topic rt = {
		.name = (char *)topic, .partitions = &rp, .partitions_count = 1 };
	struct kp_list_offsets_response resp;
	const lo_partition *p;

	kp_msg_init(&kp_list_offsets_request_desc, &req);
	req.replica_id = -1;
	req.topics = &rt;
	req.topics_count = 1;
	req.timeout_ms = 10000;
	if (call(sw, 2, v, &req, &resp) < 0)
		return -1;
	if (resp.topics_count != 1 || !resp.topics[0].name || strcmp(resp.topics[0].name, topic) ||
	    resp.topics[0].partitions_count != 1 || resp.topics[0].partitions[0].partition_index != 0)
		return fail(sw, "the answer is not about %s partition 0 alone", topic);
	p = &resp.topics[0].partitions[0];
	if (p->error_code != KP_ERR_NONE)
		return fail(sw, "%s-0 at %lld: error %d", topic, (long long)ts, p->error_code);
	if (v == 0 && p->old_style_offsets_count != 1)
		return fail(sw, "%s-0 at %lld: %d old-style offsets, expected 1", topic, (long long)ts,
			    p->old_style_offsets_count);
	*offset = v == 0 ? p->old_style_offsets[0] : p->offset;
	return 0;
}

static int check_list_offsets(struct sweep *sw, int16_t v)
{
	int64_t first, end;

	if (sw->nprod == 0)
		return fail(sw, "no Produce check succeeded, no offsets to list");
	for (int i = 0; i < sw->nprod; i++) {
		const char *topic = sw->prod[i].name;

		if (list_offset(sw, v, topic, -2, &first) < 0 || list_offset(sw, v, topic, -1, &end) < 0)
			return -1;
		if (first != 0 || end != RECORDS)
			return fail(sw, "%s: earliest %lld, latest %lld (expected 0, %d)", topic,
				    (long long)first, (long long)end, RECORDS);
	}
	return 0;
}

/* ---- driver ------------------------------------------------------------ */

/* run_check - one check, printed; a failure reconnects for the next. */
static void run_check(struct sweep *sw, const char *name, int16_t v, const char *note, check_fn fn)
{
	int rc;

	sw->rc.why[0] = '\0';
	sw->checks++;
	rc = sw->rc.fd >= 0 || raw_open(&sw->rc) == 0 ? fn(sw, v) : -1;
	kp_arena_free(&sw->arena);
	if (rc == 0) {
		printf("ok %s v%d%s\n", name, v, note);
		return;
	}
	printf("FAIL %s v%d%s: %s\n", name, v, note, sw->rc.why);
	sw->failures++;
	raw_close(&sw->rc);
}

static void sweep_all(struct sweep *sw)
{
	static const check_fn fns[A_N] = {
		check_api_versions, check_metadata, check_create_topics,
		check_produce, check_fetch, check_list_offsets,
	};

	for (int a = 0; a < A_N; a++) {
		int16_t max = sw->max[a];

		if (sw->min[a] != 0) {
			printf("FAIL %s v0: advertised from v%d, not v0\n", apis[a].name, sw->min[a]);
			sw->checks++;
			sw->failures++;
		}
		if (a == A_API_VERSIONS && max < 3)
			max = 3; /* v0-v3 are what clients send */
		for (int16_t v = 0; v <= max; v++)
			run_check(sw, apis[a].name, v, "", fns[a]);
	}
	run_check(sw, "ApiVersions", (int16_t)(sw->max[A_API_VERSIONS] + 1),
		  " (unsupported: error 35)", check_unsupported);
}

int main(int argc, char **argv)
{
	struct sweep sw = { .rc = { .fd = -1 } };
	kp_error err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 3 || kp_hostport_parse(argv[1], strlen(argv[1]), sw.rc.host, sizeof sw.rc.host,
					   &sw.rc.port, &err) < 0 || !*argv[2]) {
		fputs("usage: version_sweep HOST:PORT TOPIC_PREFIX\n", stderr);
		return 2;
	}
	sw.prefix = argv[2];
	kp_arena_init(&sw.arena);
	if (discover(&sw) < 0) {
		printf("FAIL ApiVersions v0: %s\n", sw.rc.why);
		printf("version sweep: 1 checks, 1 failed\n");
		kp_arena_free(&sw.arena);
		raw_close(&sw.rc);
		return 1;
	}
	kp_arena_free(&sw.arena);
	sweep_all(&sw);
	raw_close(&sw.rc);
	printf("version sweep: %d checks, %d failed\n", sw.checks, sw.failures);
	return sw.failures ? 1 : 0;
}
