/*
 * kgroups_csv.c - reset-offsets --from-file: a CSV plan as
 * kafka-consumer-groups.sh --export writes it, TOPIC,PARTITION,OFFSET per
 * line (or GROUP,TOPIC,PARTITION,OFFSET for several groups); see kgroups.h.
 */
#include "kgroups.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 4

/* Strip blanks (and a CR) around s in place. */
static char *trim(char *s)
{
	char *e = s + strlen(s);

	while (isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Split `line` at commas into f[] (at most MAX_FIELDS + 1); the field count. */
static int split(char *line, char **f)
{
	int n = 0;

	for (char *p = line; n <= MAX_FIELDS; n++) {
		char *comma = strchr(p, ',');
		if (comma)
			*comma = '\0';
		f[n] = trim(p);
		if (!comma)
			return n + 1;
		p = comma + 1;
	}
	return n;
}

/* One line's fields into a row; exits 1 naming FILE:LINE when malformed. */
static void parse_row(struct kg_csv_row *row, char **f, int n, const char *file, long lineno)
{
	const char *const *v = (const char *const *)f + (n == 4 ? 1 : 0);
	int32_t p;
	int64_t o;

	if (n != 3 && n != 4)
		kp_die("%s:%ld: want TOPIC,PARTITION,OFFSET or GROUP,TOPIC,PARTITION,OFFSET", file, lineno);
	if (!*v[0] || (n == 4 && !*f[0]))
		kp_die("%s:%ld: empty topic or group", file, lineno);
	if (kp_parse_int32(v[1], 0, INT32_MAX, &p) < 0 || kp_parse_int64(v[2], 0, INT64_MAX, &o) < 0)
		kp_die("%s:%ld: bad partition '%s' or offset '%s'", file, lineno, v[1], v[2]);
	*row = (struct kg_csv_row){ n == 4 ? strdup(f[0]) : NULL, strdup(v[0]), p, o };
	if (!row->topic || (n == 4 && !row->group))
		kp_die("out of memory");
}

void kg_csv_read(struct kg_reset *r, const char *file)
{
	FILE *f = fopen(file, "r");
	char *line = NULL, *fields[MAX_FIELDS + 1];
	size_t cap = 0;
	long lineno = 0;

	if (!f)
		kp_die("cannot read %s: %s", file, strerror(errno));
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		if (!*trim(line))
			continue;
		struct kg_csv_row *rows = realloc(r->csv, (r->ncsv + 1) * sizeof *rows);
		if (!rows)
			kp_die("out of memory");
		r->csv = rows;
		parse_row(&r->csv[r->ncsv++], fields, split(line, fields), file, lineno);
	}
	if (ferror(f))
		kp_die("cannot read %s: %s", file, strerror(errno));
	free(line);
	fclose(f);
	r->file = file;
}
