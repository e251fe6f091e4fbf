/*
 * common_verb.c - programs with verbs (git's subcommands): "ktopics
 * create -t T ...", one option table per verb; see common.h.
 *
 *   PROG -h | --help         the verbs and what each does
 *   PROG --version           the version
 *   PROG --list-verbs        one verb per line (for the completion scripts)
 *   PROG VERB [OPTION]...    the verb, parsed against its own table
 */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* prog_usage - "usage: PROG VERB [OPTION]..." and the verbs to `f`. */
static void prog_usage(const struct kp_prog *p, FILE *f, bool summaries)
{
	fprintf(f, "usage: %s VERB [OPTION]...\n", p->name);
	if (summaries)
		fprintf(f, "\n%s\n", p->summary);
	fprintf(f, "\nverbs:\n");
	for (const struct kp_verb *v = p->verbs; v->name; v++)
		fprintf(f, "  %-16s %s\n", v->name, v->cmd->summary);
	fprintf(f, "\n'%s VERB -h' shows a verb's options\n", p->name);
}

int kp_prog_main(const struct kp_prog *p, int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : NULL;

	kp_progname = p->name;
	kp_progname_fixed = true;
	if (verb && (!strcmp(verb, "-h") || !strcmp(verb, "--help"))) {
		prog_usage(p, stdout, true);
		exit(KP_EXIT_OK);
	}
	if (verb && !strcmp(verb, "--version")) {
		kp_print_version(p->name);
		exit(KP_EXIT_OK);
	}
	if (verb && !strcmp(verb, "--list-verbs")) {
		for (const struct kp_verb *v = p->verbs; v->name; v++)
			printf("%s\n", v->name);
		exit(KP_EXIT_OK);
	}
	for (const struct kp_verb *v = p->verbs; verb && v->name; v++)
		if (!strcmp(v->name, verb))
			return v->run(argc - 1, argv + 1);
	if (verb)
		fprintf(stderr, "%s: unknown verb '%s'\n", p->name, verb);
	else
		fprintf(stderr, "%s: a verb is required\n", p->name);
	prog_usage(p, stderr, false);
	exit(KP_EXIT_USAGE);
}
