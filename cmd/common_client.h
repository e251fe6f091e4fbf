/*
 * common_client.h - what the client programs (kproduce, kconsume, ktopics,
 * kgroups) share: the option rows and handling of -b, -t, -p, -k, -X, -F
 * and --json, and the start-up that turns them into a connected kp_cluster.
 *
 * The bootstrap brokers are, first found: -b; bootstrap.servers in the -F
 * file (or a -X); the environment variable KAFKA_BOOTSTRAP_SERVERS;
 * 127.0.0.1:9092. -F FILE reads a Java client properties file (the names
 * the Java client and Kafka's tools' --command-config use) into the same
 * configuration as -X, in command-line order (later settings win).
 *
 * TLS and SASL are not built yet: a security.protocol other than
 * PLAINTEXT, or any ssl.* or sasl.* setting, is refused rather than
 * ignored (which would connect in plaintext): exit 1 from a -F file, 2
 * from a -X.
 */
#ifndef KP_CMD_COMMON_CLIENT_H
#define KP_CMD_COMMON_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "client/cluster.h"
#include "common.h"
#include "util/config.h"

/* Option rows for a kp_cmd table; `help` is the program's own wording. */
#define KP_OPT_BROKER \
	{ 'b', "broker", "HOST:PORT[,...]", "bootstrap brokers (default 127.0.0.1:9092)", NULL, 0 }
#define KP_OPT_TOPIC(help) { 't', "topic", "TOPIC", help, NULL, KP_OPT_REQUIRED }
#define KP_OPT_PARTITION(help) { 'p', "partition", "PARTITION", help, NULL, 0 }
#define KP_OPT_KEY_DELIMITER(help) { 'k', "key-delimiter", "DELIM", help, NULL, 0 }
#define KP_OPT_PROPERTY(help) { 'X', "property", "KEY=VALUE", help, NULL, KP_OPT_REPEAT }
#define KP_OPT_CONFIG_FILE \
	{ 'F', "config-file", "FILE", "client properties file (Java client names)", "file", 0 }
/* Long-only ids 0x1f0..0x1ff are the shared rows'; a program's own start at 0x100. */
#define KP_OPT_ID_JSON 0x1f0
#define KP_OPT_JSON { KP_OPT_ID_JSON, "json", NULL, "print one JSON document (for scripts)", NULL, 0 }

struct kp_client_args {
	const char *brokers; /* -b, else KAFKA_BOOTSTRAP_SERVERS, else "127.0.0.1:9092" */
	bool brokers_given;  /* -b was given */
	bool json;           /* --json */
	const char *topic;   /* -t: required */
	int32_t partition;   /* -p: >= 0, or -1 when not given */
	const char *delim;   /* -k: non-empty, or NULL when not given */
	kp_config *cfg;      /* -X KEY=VALUE and the properties other options set (owned) */
};

/* kp_client_args_init - defaults and an empty configuration (exits 1 when out of memory). */
void kp_client_args_init(struct kp_client_args *a);

/*
 * kp_client_opt - handle option `id` with argument `arg` if it is one of
 * -b -t -p -k -X -F --json: returns 1, or exits 2 (kp_usage_error) for a
 * bad value or a -X asking for TLS or SASL (exits 1 when the -F file
 * cannot be read or asks for them). Returns 0 for any other option.
 */
int kp_client_opt(struct kp_client_args *a, int id, const char *arg);

/*
 * kp_client_connect - after parsing: check that -t was given (else exit
 * 2), send library diagnostics to stderr at WARN, and connect to the
 * bootstrap brokers with a->cfg. Returns the cluster (kp_cluster_free it);
 * exits 2 for a malformed -b or -X value, 1 when no broker is reachable.
 */
kp_cluster *kp_client_connect(struct kp_client_args *a);

/* kp_client_connect_any - kp_client_connect without requiring -t (the admin programs). */
kp_cluster *kp_client_connect_any(struct kp_client_args *a);

#endif
