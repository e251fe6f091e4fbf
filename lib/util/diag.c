/*
 * diag.c - the log sink; see diag.h.
 */
#include "util/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static kp_diag_sink log_sink;
static void *log_opaque;
static int log_level = KP_DIAG_INFO;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void kp_diag_set_sink(kp_diag_sink sink, void *opaque)
{
	log_sink = sink;
	log_opaque = opaque;
}

void kp_diag_set_level(int level) { log_level = level; }

int kp_diag_enabled(int level) { return log_sink && level <= log_level; }

int kp_diag_level_parse(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

const char *kp_diag_level_name(int level)
{
	return level >= 0 && level < 4 ? level_names[level] : "?";
}

void kp_diag(int level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!kp_diag_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	log_sink(level, line, log_opaque);
}
