/*
 * test_broker_config.c - broker settings: Kafka's defaults, aliases
 * (broker.id, log.dir), listener parsing and rejected values; the
 * crash-safe file steps of util/file.h; and that the broker's and the
 * client's headers can be used together.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "broker/config.h"
#include "broker/topics.h"
#include "broker/uuid.h"
#include "client/conn.h" /* once defined struct kp_conn, as net/net.h did */
#include "net/net.h"
#include "util/file.h"

static kp_config *config_of(const char *const *pairs)
{
	kp_config *c = kp_config_new();

	assert_non_null(c);
	for (; *pairs; pairs++)
		assert_int_equal(kp_config_set_pair(c, *pairs, NULL), 0);
	return c;
}

static void test_defaults(void **state)
{
	const char *none[] = { NULL };
	kp_config *c = config_of(none);
	struct kp_broker_config cfg;

	assert_int_equal(kp_broker_config_parse(c, &cfg, NULL), 0);
	assert_int_equal(cfg.node_id, 1);
	assert_int_equal(cfg.listener_count, 1);
	assert_string_equal(cfg.listeners[0].name, "PLAINTEXT");
	assert_string_equal(cfg.listeners[0].host, "127.0.0.1");
	assert_int_equal(cfg.listeners[0].port, 9092);
	assert_int_equal(cfg.advertised_count, 1);
	assert_int_equal(cfg.advertised[0].port, 9092);
	assert_int_equal(cfg.log_dir_count, 1);
	assert_string_equal(cfg.log_dirs[0], "/tmp/kpipe-logs");
	assert_int_equal(cfg.num_partitions, 1);
	assert_true(cfg.auto_create_topics);
	assert_int_equal(cfg.default_replication_factor, 1);
	assert_int_equal(cfg.message_max_bytes, 1048588);
	assert_int_equal(cfg.socket_request_max_bytes, 104857600);
	assert_int_equal(cfg.connections_max_idle_ms, 600000);
	kp_broker_config_clear(&cfg);
	kp_config_free(c);
}

static void test_aliases_and_overrides(void **state)
{
	const char *pairs[] = { "broker.id=7", "log.dir=/x/y", "num.partitions=3",
				"listeners=PLAINTEXT://:19092,PLAINTEXT://[::1]:19093",
				"advertised.listeners=PLAINTEXT://example.com:9092",
				"auto.create.topics.enable=false", NULL };
	kp_config *c = config_of(pairs);
	struct kp_broker_config cfg;

	assert_int_equal(kp_broker_config_parse(c, &cfg, NULL), 0);
	assert_int_equal(cfg.node_id, 7);
	assert_string_equal(cfg.log_dirs[0], "/x/y");
	assert_int_equal(cfg.num_partitions, 3);
	assert_int_equal(cfg.listener_count, 2);
	assert_string_equal(cfg.listeners[0].host, "");
	assert_string_equal(cfg.listeners[1].host, "::1");
	assert_int_equal(cfg.listeners[1].port, 19093);
	assert_string_equal(cfg.advertised[0].host, "example.com");
	assert_false(cfg.auto_create_topics);
	kp_broker_config_clear(&cfg);
	kp_config_free(c);
}

static void test_consumer_group_settings(void **state)
{
	const char *none[] = { NULL };
	const char *pairs[] = {
		"group.consumer.assignors= org.apache.kafka.coordinator.group.assignor.RangeAssignor ,uniform",
		"group.consumer.session.timeout.ms=10000", "group.consumer.heartbeat.interval.ms=700",
		"group.consumer.max.size=3", "group.consumer.migration.policy=Upgrade", NULL };
	kp_config *c = config_of(none);
	struct kp_broker_config cfg;

	assert_int_equal(kp_broker_config_parse(c, &cfg, NULL), 0);
	assert_string_equal(cfg.group.consumer_assignors[0], "uniform");
	assert_string_equal(cfg.group.consumer_assignors[1], "range");
	assert_int_equal(cfg.group.consumer_session_timeout_ms, 45000);
	assert_int_equal(cfg.group.consumer_heartbeat_interval_ms, 5000);
	assert_true(cfg.group.consumer_upgrade && cfg.group.consumer_downgrade);
	kp_broker_config_clear(&cfg);
	kp_config_free(c);
	c = config_of(pairs);
	assert_int_equal(kp_broker_config_parse(c, &cfg, NULL), 0);
	assert_string_equal(cfg.group.consumer_assignors[0], "range");
	assert_string_equal(cfg.group.consumer_assignors[1], "uniform");
	assert_null(cfg.group.consumer_assignors[2]);
	assert_int_equal(cfg.group.consumer_session_timeout_ms, 10000);
	assert_int_equal(cfg.group.consumer_heartbeat_interval_ms, 700);
	assert_int_equal(cfg.group.consumer_max_size, 3);
	assert_true(cfg.group.consumer_upgrade);
	assert_false(cfg.group.consumer_downgrade);
	kp_broker_config_clear(&cfg);
	kp_config_free(c);
}

static void expect_bad(const char *pair)
{
	const char *pairs[] = { pair, NULL };
	kp_config *c = config_of(pairs);
	struct kp_broker_config cfg;
	kp_error err;

	assert_int_equal(kp_broker_config_parse(c, &cfg, &err), -1);
	assert_int_equal(err.code, KP_EINVAL);
	kp_config_free(c);
}

static void test_bad_values(void **state)
{
	expect_bad("node.id=abc");
	expect_bad("num.partitions=0");
	expect_bad("num.partitions=100001"); /* more than a topic may have */
	expect_bad("listeners=SSL://127.0.0.1:9093");
	expect_bad("listeners=PLAINTEXT://127.0.0.1");
	expect_bad("listeners=PLAINTEXT://127.0.0.1:99999");
	expect_bad("auto.create.topics.enable=maybe");
	expect_bad("socket.request.max.bytes=-1");
	expect_bad("group.consumer.assignors=sticky");
	expect_bad("group.consumer.assignors=");
	expect_bad("group.consumer.session.timeout.ms=0");
	expect_bad("group.consumer.migration.policy=sideways");
}

static void test_topic_names(void **state)
{
	char long_name[251];

	assert_true(kp_topic_name_valid("a.b_c-D9"));
	assert_false(kp_topic_name_valid(""));
	assert_false(kp_topic_name_valid("."));
	assert_false(kp_topic_name_valid(".."));
	assert_false(kp_topic_name_valid("a/b"));
	memset(long_name, 'x', 250);
	long_name[250] = '\0';
	assert_false(kp_topic_name_valid(long_name));
	long_name[249] = '\0';
	assert_true(kp_topic_name_valid(long_name));
}

static void test_uuid_text(void **state)
{
	kp_uuid u, back;
	char text[KP_UUID_STR_LEN + 1];

	assert_int_equal(kp_uuid_random(&u, NULL), 0);
	kp_uuid_format(&u, text);
	assert_int_equal(strlen(text), 22);
	assert_true(kp_uuid_parse(text, &back));
	assert_memory_equal(&u, &back, sizeof(u));
	assert_false(kp_uuid_parse("short", &back));
}

static void test_net_and_client_headers(void **state)
{
	kp_net_conn *server_side = NULL;
	kp_conn *client_side = NULL;

	assert_null(server_side);
	assert_null(client_side);
}

static char *read_text(const char *path)
{
	static char text[256];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

static void test_file_steps(void **state)
{
	char dir[] = "/tmp/kp-test-file-XXXXXX", path[128], sub[128];
	struct stat st;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a/b/meta", dir);
	snprintf(sub, sizeof(sub), "%s/a/b", dir);
	assert_int_equal(kp_mkdir_p(sub, NULL), 0);
	assert_int_equal(kp_mkdir_p(sub, NULL), 0); /* existing is fine */
	assert_int_equal(kp_write_file_atomic(path, "one\n", NULL), 0);
	assert_int_equal(kp_write_file_atomic(path, "two\n", NULL), 0);
	assert_string_equal(read_text(path), "two\n");
	snprintf(path, sizeof(path), "%s/a/b/meta.tmp", dir);
	assert_int_not_equal(stat(path, &st), 0); /* renamed into place */
	assert_int_equal(kp_remove_dir_files(sub, NULL), 0);
	assert_int_not_equal(stat(sub, &st), 0);
	assert_int_equal(kp_remove_dir_files(sub, NULL), 0); /* absent is fine */
	snprintf(sub, sizeof(sub), "%s/a", dir);
	assert_int_equal(rmdir(sub), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* A KRaft broker's quorum settings (config_quorum.c): parsed, defaulted and checked. */
static void test_quorum_settings(void **state)
{
	const char *single[] = { "log.dirs=/tmp/a,/tmp/b", NULL };
	const char *member[] = { "node.id=11", "log.dirs=/tmp/a,/tmp/b", "cluster.id=abc",
				 "controller.quorum.voters=1@127.0.0.1:9093, 2@[::1]:9094",
				 "controller.listener.names=CONTROLLER,OTHER", "broker.rack=r1", NULL };
	const char *combined[] = { "controller.quorum.voters=1@127.0.0.1:9093",
				   "controller.listener.names=CONTROLLER",
				   "process.roles=broker,controller",
				   "listeners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093", NULL };
	const char *bad[][5] = {
		{ "node.id=5", "controller.quorum.voters=1@h:1", NULL }, /* no listener names */
		{ "controller.quorum.voters=1@h:1", "controller.listener.names=C",
		  "node.id=1", NULL },                                  /* a voter: combined */
		{ "controller.quorum.voters=x@h:1", "controller.listener.names=C", NULL },
		{ "controller.quorum.voters=1@h", "controller.listener.names=C", NULL },
		{ "controller.quorum.bootstrap.servers=h:1", "controller.listener.names=C", NULL },
		{ "controller.quorum.voters=1@h:1", "controller.listener.names=C",
		  "process.roles=broker,controller", "node.id=5", NULL }, /* combined, not a voter */
		{ "controller.quorum.voters=1@h:1", "controller.listener.names=C",
		  "process.roles=controller", NULL },                   /* that is kcontroller */
	};
	struct kp_broker_config cfg;
	kp_config *c = config_of(single);
	kp_error err;

	assert_int_equal(kp_broker_config_parse(c, &cfg, &err), 0);
	assert_false(kp_broker_config_is_cluster(&cfg));
	kp_broker_config_clear(&cfg);
	kp_config_free(c);
	c = config_of(member);
	assert_int_equal(kp_broker_config_parse(c, &cfg, &err), 0);
	assert_true(kp_broker_config_is_cluster(&cfg));
	assert_int_equal(cfg.quorum.n_voters, 2);
	assert_int_equal(cfg.quorum.voters[1].id, 2);
	assert_string_equal(cfg.quorum.voters[1].host, "::1");
	assert_int_equal(cfg.quorum.voters[1].port, 9094);
	assert_string_equal(cfg.quorum.controller_listener, "CONTROLLER");
	assert_string_equal(cfg.quorum.metadata_log_dir, "/tmp/a");
	assert_string_equal(cfg.quorum.rack, "r1");
	assert_string_equal(cfg.cluster_id, "abc");
	assert_int_equal(cfg.quorum.heartbeat_interval_ms, 2000);
	assert_int_equal(cfg.quorum.session_timeout_ms, 9000);
	kp_broker_config_clear(&cfg);
	kp_config_free(c);
	c = config_of(combined); /* node 1, a voter: its controller listener is not the broker's */
	assert_int_equal(kp_broker_config_parse(c, &cfg, &err), 0);
	assert_true(cfg.quorum.combined);
	assert_int_equal(cfg.listener_count, 1);
	assert_string_equal(cfg.listeners[0].name, "PLAINTEXT");
	assert_int_equal(cfg.advertised_count, 1);
	kp_broker_config_clear(&cfg);
	kp_config_free(c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = config_of(bad[i]);
		assert_int_equal(kp_broker_config_parse(c, &cfg, &err), -1);
		assert_int_equal(err.code, KP_EINVAL);
		kp_config_free(c);
	}
}

/* own_quorum - kp_broker_config_own_quorum on `pairs`, parsed: its result and the settings. */
static int own_quorum(const char *const *pairs, struct kp_broker_config *cfg, kp_config **out)
{
	kp_config *c = config_of(pairs);
	kp_error err;
	int rc = kp_broker_config_own_quorum(c, &err);

	assert_true(rc >= 0);
	assert_int_equal(kp_broker_config_parse(c, cfg, &err), 0);
	*out = c;
	return rc;
}

static void test_own_quorum(void **state)
{
	const char *combined[] = { "process.roles=broker,controller", "node.id=4",
				   "listeners=PLAINTEXT://127.0.0.1:9192", NULL };
	const char *named[] = { "process.roles=broker,controller", "controller.listener.names=CTL",
				"listeners=PLAINTEXT://127.0.0.1:9192,CTL://127.0.0.1:9193", NULL };
	const char *quorum[] = { "process.roles=broker,controller", "node.id=2",
				 "controller.quorum.voters=2@127.0.0.1:9193",
				 "controller.listener.names=CONTROLLER",
				 "listeners=PLAINTEXT://127.0.0.1:9192,CONTROLLER://127.0.0.1:9193", NULL };
	const char *broker[] = { "process.roles=broker", NULL };
	const char *none[] = { NULL };
	struct kp_broker_config cfg;
	kp_config *c;

	/* a free loopback port for the controller listener, node.id the only voter */
	assert_int_equal(own_quorum(combined, &cfg, &c), 1);
	assert_true(cfg.quorum.combined);
	assert_int_equal(cfg.quorum.n_voters, 1);
	assert_int_equal(cfg.quorum.voters[0].id, 4);
	assert_string_equal(cfg.quorum.voters[0].host, "127.0.0.1");
	assert_true(cfg.quorum.voters[0].port > 0);
	assert_string_equal(cfg.quorum.controller_listener, "CONTROLLER");
	assert_int_equal(cfg.listener_count, 1); /* the controller's is not the broker's */
	assert_int_equal(cfg.listeners[0].port, 9192);
	assert_non_null(strstr(kp_config_get(c, "listeners"), ",CONTROLLER://127.0.0.1:"));
	kp_broker_config_clear(&cfg);
	kp_config_free(c);
	/* the named controller listener when configured; node.id defaults to 1 */
	assert_int_equal(own_quorum(named, &cfg, &c), 1);
	assert_int_equal(cfg.quorum.voters[0].id, 1);
	assert_int_equal(cfg.quorum.voters[0].port, 9193);
	assert_string_equal(kp_config_get(c, "listeners"),
			    "PLAINTEXT://127.0.0.1:9192,CTL://127.0.0.1:9193");
	kp_broker_config_clear(&cfg);
	kp_config_free(c);
	/* nothing said: a cluster of one, on 127.0.0.1:9092 and a controller port of its own,
	 * its controller's metadata log in the broker's log dir (not kcontroller's default) */
	assert_int_equal(own_quorum(none, &cfg, &c), 1);
	assert_int_equal(cfg.quorum.voters[0].id, 1);
	assert_int_equal(cfg.listeners[0].port, 9092);
	assert_null(kp_config_get(c, "metadata.log.dir"));
	assert_int_equal(kp_broker_config_combined(c, &cfg, NULL), 0);
	assert_string_equal(kp_config_get(c, "metadata.log.dir"), "/tmp/kpipe-logs");
	kp_broker_config_clear(&cfg);
	kp_config_free(c);
	/* a quorum named, or a broker alone, are left as they are */
	assert_int_equal(own_quorum(quorum, &cfg, &c), 0);
	assert_int_equal(cfg.quorum.voters[0].port, 9193);
	kp_broker_config_clear(&cfg);
	kp_config_free(c);
	assert_int_equal(own_quorum(broker, &cfg, &c), 0);
	assert_int_equal(cfg.quorum.n_voters, 0);
	kp_broker_config_clear(&cfg);
	kp_config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_aliases_and_overrides),
		cmocka_unit_test(test_consumer_group_settings),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_topic_names),
		cmocka_unit_test(test_uuid_text),
		cmocka_unit_test(test_net_and_client_headers),
		cmocka_unit_test(test_file_steps),
		cmocka_unit_test(test_quorum_settings),
		cmocka_unit_test(test_own_quorum),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
