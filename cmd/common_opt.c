/*
 * common_opt.c - option tables to getopt_long, help, usage, completion
 * lists, and the shared message helpers; see common.h.
 */
#include "common.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "util/config.h"
#include "util/diag.h"

#define OPT_LIST_OPTIONS 0x7f01
#define OPT_VERSION 0x7f02
#define MAX_OPTS 64

const char *kp_progname = "kpipe";
bool kp_progname_fixed;
static const struct kp_cmd *current_cmd;

static void print_opt_usage(FILE *f, const struct kp_opt *o)
{
	const char *open = (o->flags & KP_OPT_REQUIRED) ? "" : "[";
	const char *close = (o->flags & KP_OPT_REQUIRED) ? "" : "]";

	if (o->id < 256)
		fprintf(f, " %s-%c%s%s%s", open, o->id, o->arg ? " " : "", o->arg ? o->arg : "", close);
	else
		fprintf(f, " %s--%s%s%s%s", open, o->long_name, o->arg ? "=" : "",
			o->arg ? o->arg : "", close);
	if (o->flags & KP_OPT_REPEAT)
		fputs("...", f);
}

void kp_print_synopsis(const struct kp_cmd *cmd, void *fp)
{
	FILE *f = fp;

	fprintf(f, "usage: %s", cmd->name);
	for (const struct kp_opt *o = cmd->opts; o->id; o++)
		print_opt_usage(f, o);
	if (cmd->operands)
		fprintf(f, " %s", cmd->operands);
	fputc('\n', f);
}

static void print_help(const struct kp_cmd *cmd)
{
	char left[64];

	kp_print_synopsis(cmd, stdout);
	printf("\n%s\n\noptions:\n", cmd->summary);
	for (const struct kp_opt *o = cmd->opts; o->id; o++) {
		if (o->id < 256 && o->long_name)
			snprintf(left, sizeof left, "-%c, --%s%s%s", o->id, o->long_name,
				 o->arg ? " " : "", o->arg ? o->arg : "");
		else if (o->id < 256)
			snprintf(left, sizeof left, "-%c%s%s", o->id, o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(left, sizeof left, "    --%s%s%s", o->long_name, o->arg ? "=" : "",
				 o->arg ? o->arg : "");
		if (strlen(left) > 28)
			printf("  %s\n  %-28s %s\n", left, "", o->help);
		else
			printf("  %-28s %s\n", left, o->help);
	}
	printf("  %-28s %s\n", "-h, --help", "show this help and exit");
	printf("  %-28s %s\n", "    --version", "print the version and exit");
}

void kp_print_version(const char *prog)
{
	printf("%s (kpipe) %s\n", prog, KP_VERSION);
}

static void print_option_list(const struct kp_cmd *cmd)
{
	for (const struct kp_opt *o = cmd->opts; o->id; o++) {
		char s[3] = { '-', (char)o->id, 0 };
		printf("%s --%s %s %s\n", o->id < 256 ? s : "-", o->long_name ? o->long_name : "-",
		       o->arg ? o->arg : "-", o->complete ? o->complete : "-");
	}
	printf("-h --help - -\n");
}

/* Build the getopt_long tables from the option table. */
static void build_getopt(const struct kp_cmd *cmd, char *shortopts, struct option *longopts)
{
	size_t s = 0, l = 0;

	shortopts[s++] = ':';
	for (const struct kp_opt *o = cmd->opts; o->id && l < MAX_OPTS - 4; o++) {
		if (o->id < 256) {
			shortopts[s++] = (char)o->id;
			if (o->arg)
				shortopts[s++] = ':';
		}
		if (o->long_name)
			longopts[l++] = (struct option){ o->long_name, o->arg ? required_argument : no_argument,
							 NULL, o->id };
	}
	shortopts[s++] = 'h';
	shortopts[s] = '\0';
	longopts[l++] = (struct option){ "help", no_argument, NULL, 'h' };
	longopts[l++] = (struct option){ "list-options", no_argument, NULL, OPT_LIST_OPTIONS };
	longopts[l++] = (struct option){ "version", no_argument, NULL, OPT_VERSION };
	longopts[l] = (struct option){ NULL, 0, NULL, 0 };
}

int kp_opt_parse(const struct kp_cmd *cmd, int argc, char **argv, kp_opt_handler handler, void *ctx)
{
	char shortopts[2 * MAX_OPTS + 4];
	struct option longopts[MAX_OPTS];
	int c;

	if (!kp_progname_fixed)
		kp_progname = cmd->name;
	current_cmd = cmd;
	build_getopt(cmd, shortopts, longopts);
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (c == 'h') {
			print_help(cmd);
			exit(KP_EXIT_OK);
		}
		if (c == OPT_LIST_OPTIONS) {
			print_option_list(cmd);
			exit(KP_EXIT_OK);
		}
		if (c == OPT_VERSION) {
			kp_print_version(kp_progname);
			exit(KP_EXIT_OK);
		}
		if (c == ':')
			kp_usage_error("option '%s' needs an argument", argv[optind - 1]);
		if (c == '?')
			kp_usage_error("unknown option '%s'", argv[optind - 1]);
		if (handler(c, optarg, ctx) < 0)
			kp_usage_error("invalid option value");
	}
	return optind;
}

static void vmessage(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", kp_progname);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void kp_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
	if (current_cmd)
		kp_print_synopsis(current_cmd, stderr);
	fprintf(stderr, "try '%s -h' for more information\n", kp_progname);
	exit(KP_EXIT_USAGE);
}

void kp_warn(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
}

int kp_exit_status(size_t ok, size_t failed)
{
	if (failed == 0)
		return KP_EXIT_OK;
	return ok == 0 ? KP_EXIT_FAILURE : KP_EXIT_PARTIAL;
}

void kp_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
	exit(KP_EXIT_FAILURE);
}

static void diag_sink(int level, const char *line, void *opaque)
{
	struct timeval tv;
	struct tm tm;
	char ts[32];

	(void)opaque;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ %-5s %s: %s\n", ts, (long)(tv.tv_usec / 1000),
		kp_diag_level_name(level), kp_progname, line);
}

void kp_diag_to_stderr(int level)
{
	kp_diag_set_level(level);
	kp_diag_set_sink(diag_sink, NULL);
}

int kp_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int kp_parse_int32(const char *s, int32_t min, int32_t max, int32_t *out)
{
	int64_t v;

	if (kp_parse_int64(s, min, max, &v) < 0)
		return -1;
	*out = (int32_t)v;
	return 0;
}

kp_config *kp_load_settings(const char *file, const char *const *overrides, int n)
{
	kp_config *c = kp_config_new();
	kp_error err;

	if (!c)
		kp_die("out of memory");
	if (file && kp_config_load(c, file, &err) < 0)
		kp_die("%s", err.msg);
	for (int i = 0; i < n; i++)
		if (kp_config_set_pair(c, overrides[i], &err) < 0)
			kp_usage_error("bad setting '%s': %s", overrides[i], err.msg);
	return c;
}
