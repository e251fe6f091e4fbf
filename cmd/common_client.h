/*
 * common_client.h - what the client programs (kproduce, kconsume) share:
 * the option rows and handling of -b, -t, -p, -k and -X, and the start-up
 * that turns them into a connected kp_cluster.
 */
#ifndef KP_CMD_COMMON_CLIENT_H
#define KP_CMD_COMMON_CLIENT_H

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

struct kp_client_args {
	const char *brokers; /* -b: bootstrap list, default "127.0.0.1:9092" */
	const char *topic;   /* -t: required */
	int32_t partition;   /* -p: >= 0, or -1 when not given */
	const char *delim;   /* -k: non-empty, or NULL when not given */
	kp_config *cfg;      /* -X KEY=VALUE and the properties other options set (owned) */
};

/* kp_client_args_init - defaults and an empty configuration (exits 1 when out of memory). */
void kp_client_args_init(struct kp_client_args *a);

/*
 * kp_client_opt - handle option `id` with argument `arg` if it is one of
 * -b -t -p -k -X: returns 1, or exits 2 (kp_usage_error) for a bad value.
 * Returns 0 for any other option.
 */
int kp_client_opt(struct kp_client_args *a, int id, const char *arg);

/*
 * kp_client_connect - after parsing: check that -t was given (else exit
 * 2), send library diagnostics to stderr at WARN, and connect to the
 * bootstrap brokers with a->cfg. Returns the cluster (kp_cluster_free it);
 * exits 2 for a malformed -b or -X value, 1 when no broker is reachable.
 */
kp_cluster *kp_client_connect(struct kp_client_args *a);

#endif
