/*
 * common.h - what every program in cmd/ shares: one declarative option
 * table per program that drives parsing, -h and shell completion, and the
 * conventions for messages and exit codes.
 *
 * Exit codes, the same for every program:
 *   0  success
 *   1  failure at run time (the message says what failed)
 *   2  bad usage: unknown option, missing or malformed argument
 *   3  partial: of several things named (topics, groups), some failed and
 *      the others were done (each failure has its message)
 *
 * Every program answers -h/--help (its usage and options, exit 0) and
 * --version ("PROG (kpipe) VERSION", exit 0). A program with verbs (git's
 * subcommands: "ktopics create ...") has one option table per verb and
 * runs through kp_prog_main.
 *
 * Messages go to stderr as "PROG: message", lowercase, no full stop; data
 * goes to stdout.
 */
#ifndef KP_CMD_COMMON_H
#define KP_CMD_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KP_EXIT_OK 0
#define KP_EXIT_FAILURE 1
#define KP_EXIT_USAGE 2
#define KP_EXIT_PARTIAL 3

#ifndef KP_VERSION
#define KP_VERSION "0.0.0"
#endif

struct kp_opt {
	int id;                /* short option letter, or a value >= 256 for long-only */
	const char *long_name; /* without dashes; NULL for none */
	const char *arg;       /* argument name shown in usage ("TOPIC"); NULL for a flag */
	const char *help;      /* one line, lowercase */
	const char *complete;  /* completion: "file", "dir", or words "a b c"; NULL for none */
	unsigned flags;        /* KP_OPT_REQUIRED, KP_OPT_REPEAT */
};

#define KP_OPT_REQUIRED 0x1 /* shown without brackets in the synopsis */
#define KP_OPT_REPEAT 0x2   /* may be given more than once: "[-o KEY=VALUE]..." */

struct kp_cmd {
	const char *name;          /* program name, or "PROG VERB" for a verb */
	const char *summary;       /* one line: what the program does */
	const char *operands;      /* trailing operands for the synopsis, or NULL */
	const struct kp_opt *opts; /* terminated by an entry with id 0 */
};

/* One verb of a program with verbs (kp_prog_main). */
struct kp_verb {
	const char *name;          /* "create" */
	const struct kp_cmd *cmd;  /* its options, cmd->name "PROG VERB" (messages say "PROG: ...") */
	int (*run)(int argc, char **argv); /* argv[0] is the verb; returns the exit status */
};

struct kp_prog {
	const char *name;          /* "ktopics" */
	const char *summary;       /* one line */
	const struct kp_verb *verbs; /* terminated by an entry with a NULL name */
};

/*
 * kp_prog_main - run the verb argv[1] of `p` with argv[1..] and return its
 * exit status. Without a verb, or with an unknown one, prints usage to
 * stderr and exits 2; "-h"/"--help" prints the verbs with their summaries
 * and exits 0; "--version" prints the version; the hidden "--list-verbs"
 * prints one verb per line for the completion scripts and exits 0.
 */
int kp_prog_main(const struct kp_prog *p, int argc, char **argv);

/* kp_print_version - "PROG (kpipe) VERSION" on stdout. */
void kp_print_version(const char *prog);

/*
 * The option handler gets each option's id and argument (NULL for flags)
 * and returns 0, or -1 after calling kp_usage_error() for a bad value.
 */
typedef int (*kp_opt_handler)(int id, const char *arg, void *ctx);

/*
 * kp_opt_parse - parse argv against cmd's table, calling `handler` for each
 * option in order. -h/--help prints the help to stdout and exits 0;
 * --version prints the version and exits 0; the hidden --list-options prints one option per line for the completion
 * scripts ("-b --broker HOST:PORT file") and exits 0. An unknown option or
 * a missing argument prints usage to stderr and exits 2. Returns the index
 * of the first operand in argv.
 */
int kp_opt_parse(const struct kp_cmd *cmd, int argc, char **argv,
		 kp_opt_handler handler, void *ctx);

/* kp_usage_error - print "PROG: message" and the synopsis to stderr; exits 2. */
_Noreturn void kp_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * kp_warn - print "PROG: message" to stderr (standard output flushed first,
 * so the two stay in order) and go on: one of several things failed.
 */
void kp_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * kp_exit_status - the exit status after `ok` things done and `failed`
 * that failed: KP_EXIT_OK, KP_EXIT_FAILURE (none done) or KP_EXIT_PARTIAL.
 */
int kp_exit_status(size_t ok, size_t failed);
/* kp_die - print "PROG: message" to stderr and exit 1. */
_Noreturn void kp_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* kp_print_synopsis - write "usage: PROG [-x ARG] ..." (one line) to `f` (a FILE *). */
void kp_print_synopsis(const struct kp_cmd *cmd, void *f);

/*
 * kp_diag_to_stderr - install a diag sink printing
 * "2026-11-20T23:05:31.123Z LEVEL PROG: line" to stderr, at `level`.
 */
void kp_diag_to_stderr(int level);

/*
 * Value parsers for option arguments: each returns 0 and stores the value,
 * or -1 when `s` is not a whole number in [min, max].
 */
int kp_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out);
int kp_parse_int32(const char *s, int32_t min, int32_t max, int32_t *out);

/*
 * kp_load_settings - a server's settings: the properties file `file` (NULL:
 * none), then each KEY=VALUE of overrides[0..n) in order, later ones
 * winning (Kafka's server.properties and --override). The caller frees the
 * result with kp_config_free. Exits 1 when the file cannot be read, 2 on a
 * malformed KEY=VALUE.
 */
struct kp_config *kp_load_settings(const char *file, const char *const *overrides, int n);

extern const char *kp_progname;  /* what messages start with */
extern bool kp_progname_fixed;   /* kp_prog_main set it: kp_opt_parse leaves it */

#endif
