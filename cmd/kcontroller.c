/*
 * kcontroller - a KRaft controller: one voter of the metadata quorum
 * (Kafka's process.roles=controller).
 *
 * USAGE
 *   kcontroller [-c FILE] [-o KEY=VALUE]... [-l LEVEL] [-d DIR] [KEY=VALUE]...
 *
 *   Settings use Kafka's names: node.id, controller.quorum.voters
 *   (ID@HOST:PORT,...), listeners (CONTROLLER://127.0.0.1:9093),
 *   controller.listener.names, metadata.log.dir, controller.quorum.*.
 *   -c reads a properties file; -o (or a KEY=VALUE operand) then sets
 *   one key. The data dir is formatted on first start. Logs go to
 *   stderr at LEVEL (default info). SIGINT or SIGTERM resigns leadership
 *   and stops it cleanly. -d DIR reads the metadata log dir DIR offline
 *   (latest snapshot, then the log after it) and prints the metadata
 *   image's canonical dump on stdout instead (not while a kcontroller
 *   runs on DIR).
 *
 * EXIT CODES
 *   0  stopped cleanly by SIGINT/SIGTERM (-d: dumped)
 *   1  could not start (bad setting, port in use, unreadable data dir) or
 *      the metadata log or quorum-state could not be written
 *   2  usage error
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "controller/controller.h"
#include "controller/raft_node.h"
#include "metadata/image.h"
#include "util/config.h"
#include "util/diag.h"

static const struct kp_opt opts[] = {
	{ 'c', "config", "FILE", "read controller settings from a properties file", "file", 0 },
	{ 'o', "override", "KEY=VALUE", "set one setting, after the file (repeatable)", NULL, KP_OPT_REPEAT },
	{ 'l', "log-level", "LEVEL", "log level: error, warn, info (default), debug",
	  "error warn info debug", 0 },
	{ 'd', "dump-metadata", "DIR", "print the metadata image of the metadata log dir DIR and exit",
	  "dir", 0 },
	{ 0, NULL, NULL, NULL, NULL, 0 },
};

static const struct kp_cmd cmd = {
	.name = "kcontroller",
	.summary = "run a KRaft controller: one voter of the metadata quorum",
	.operands = "[KEY=VALUE]...",
	.opts = opts,
};

#define MAX_OVERRIDES 256

struct args {
	const char *config_file;
	const char *overrides[MAX_OVERRIDES];
	int override_count;
	int level;
	const char *dump_dir;
};

static void add_override(struct args *a, const char *kv)
{
	if (a->override_count == MAX_OVERRIDES)
		kp_usage_error("too many settings");
	a->overrides[a->override_count++] = kv;
}

static int on_opt(int id, const char *arg, void *ctx)
{
	struct args *a = ctx;

	switch (id) {
	case 'c':
		a->config_file = arg;
		return 0;
	case 'o':
		add_override(a, arg);
		return 0;
	case 'l':
		a->level = kp_diag_level_parse(arg);
		if (a->level < 0)
			kp_usage_error("bad log level '%s': expected error, warn, info or debug", arg);
		return 0;
	case 'd':
		a->dump_dir = arg;
		return 0;
	default:
		return -1;
	}
}

/* dump_metadata - -d: the image of metadata log dir `dir` to stdout; exits 0 or 1. */
static int dump_metadata(const char *dir)
{
	char part[4200];
	kp_image *img = kp_image_new();
	kp_error err;
	kp_buf out;

	snprintf(part, sizeof(part), "%s/__cluster_metadata-0", dir);
	if (access(part, R_OK | X_OK) < 0)
		kp_die("%s: no metadata log (%s)", dir, strerror(errno));
	if (!img)
		kp_die("out of memory");
	kp_buf_init(&out);
	if (kp_raft_node_load_dir(dir, img, &err) < 0 || kp_image_dump(img, &out, &err) < 0)
		kp_die("%s: %s", dir, err.msg);
	if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0)
		kp_die("cannot write the dump: %s", strerror(errno));
	kp_buf_free(&out);
	kp_image_free(img);
	return KP_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct args a = { .level = KP_DIAG_INFO };
	kp_error err;

	kp_progname = "kcontroller";
	int first = kp_opt_parse(&cmd, argc, argv, on_opt, &a);

	for (int i = first; i < argc; i++) {
		if (!strchr(argv[i], '='))
			kp_usage_error("unexpected operand '%s' (settings are KEY=VALUE)", argv[i]);
		add_override(&a, argv[i]);
	}
	kp_diag_to_stderr(a.level);
	if (a.dump_dir)
		return dump_metadata(a.dump_dir);
	signal(SIGPIPE, SIG_IGN);
	kp_config *cfg = kp_load_settings(a.config_file, a.overrides, a.override_count);
	kp_controller *c = kp_controller_new(cfg, &err);

	kp_config_free(cfg);
	if (!c) {
		if (err.code == KP_EINVAL && strstr(err.msg, "is required"))
			kp_usage_error("%s", err.msg);
		kp_die("%s", err.msg);
	}
	if (kp_controller_start(c, &err) < 0 || kp_controller_run(c, &err) < 0) {
		kp_controller_free(c);
		kp_die("%s", err.msg);
	}
	kp_controller_free(c);
	return KP_EXIT_OK;
}
