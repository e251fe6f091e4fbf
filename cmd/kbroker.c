/*
 * kbroker - serve the Kafka protocol: a single-node broker.
 *
 * USAGE
 *   kbroker [-c FILE] [-o KEY=VALUE]... [-l LEVEL]
 *
 *   With no arguments it listens on PLAINTEXT://127.0.0.1:9092 and keeps
 *   its data in /tmp/kpipe-logs. -c reads a server.properties-style file;
 *   each -o then overrides one key (Kafka's names: listeners, log.dirs,
 *   num.partitions, ...). Logs go to stderr at LEVEL (default info).
 *   SIGINT or SIGTERM stops it cleanly. With controller.quorum.voters it is
 *   a broker of a KRaft cluster of kcontrollers (kbroker.properties(5)).
 *
 * EXIT CODES
 *   0  stopped cleanly by SIGINT/SIGTERM
 *   1  could not start (bad config value, port in use, unreadable log dir),
 *      the event loop failed, or (in a cluster) the metadata log failed or
 *      the broker could not register in initial.broker.registration.timeout.ms
 *   2  usage error
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "broker/broker.h"
#include "common.h"
#include "util/config.h"
#include "util/diag.h"

static const struct kp_opt opts[] = {
	{ 'c', "config", "FILE", "read broker settings from a properties file", "file", 0 },
	{ 'o', "override", "KEY=VALUE", "set one setting, after the file (repeatable)", NULL, KP_OPT_REPEAT },
	{ 'l', "log-level", "LEVEL", "log level: error, warn, info (default), debug",
	  "error warn info debug", 0 },
	{ 0, NULL, NULL, NULL, NULL, 0 },
};

static const struct kp_cmd cmd = {
	.name = "kbroker",
	.summary = "serve the Kafka protocol as a single-node broker",
	.operands = NULL,
	.opts = opts,
};

struct args {
	const char *config_file;
	const char *overrides[256];
	int override_count;
	int level;
};

static int on_opt(int id, const char *arg, void *ctx)
{
	struct args *a = ctx;

	switch (id) {
	case 'c':
		a->config_file = arg;
		return 0;
	case 'o':
		if (a->override_count == 256)
			kp_usage_error("too many -o options");
		a->overrides[a->override_count++] = arg;
		return 0;
	case 'l':
		a->level = kp_diag_level_parse(arg);
		if (a->level < 0)
			kp_usage_error("bad log level '%s': expected error, warn, info or debug", arg);
		return 0;
	default:
		return -1;
	}
}

int main(int argc, char **argv)
{
	struct args a = { .level = KP_DIAG_INFO };
	kp_error err;

	kp_progname = "kbroker";
	int first = kp_opt_parse(&cmd, argc, argv, on_opt, &a);

	if (first < argc)
		kp_usage_error("unexpected operand '%s'", argv[first]);
	kp_diag_to_stderr(a.level);
	signal(SIGPIPE, SIG_IGN);
	kp_config *cfg = kp_load_settings(a.config_file, a.overrides, a.override_count);
	kp_broker *b = kp_broker_new(cfg, &err);

	kp_config_free(cfg);
	if (!b)
		kp_die("%s", err.msg);
	if (kp_broker_start(b, &err) < 0 || kp_broker_run(b, &err) < 0) {
		kp_broker_free(b);
		kp_die("%s", err.msg);
	}
	kp_broker_free(b);
	return KP_EXIT_OK;
}
