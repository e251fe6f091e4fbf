/*
 * common_out.h - how the admin programs (ktopics, kgroups) print what they
 * find, the same way everywhere:
 *
 *   standard output a terminal   an aligned table with a header line
 *   not a terminal               tab-separated lines, no header (cut, awk)
 *   --json                       one JSON document (jansson), for scripts
 *
 * A table is built row by row, then printed or turned into JSON (an array
 * of objects keyed by each column's `key`, integer columns as numbers).
 * Memory: a table owns copies of its cells; out of memory exits 1.
 */
#ifndef KP_CMD_COMMON_OUT_H
#define KP_CMD_COMMON_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

enum kp_col_type {
	KP_COL_STR = 0, /* JSON string */
	KP_COL_INT = 1, /* JSON integer (the cell is its decimal text); right-aligned */
};

struct kp_col {
	const char *title; /* header, e.g. "LOG-END-OFFSET" */
	const char *key;   /* JSON key, e.g. "log_end_offset" */
	int type;          /* enum kp_col_type */
};

typedef struct kp_table kp_table;

/* kp_table_new - an empty table of the `n` columns at `cols` (borrowed: static tables). */
kp_table *kp_table_new(const struct kp_col *cols, size_t n);

/* kp_table_free - free `t` (NULL is fine). */
void kp_table_free(kp_table *t);

/*
 * kp_table_add - a row of one cell per column (copied); a NULL cell is
 * "none": "-" in text, null in JSON.
 */
void kp_table_add(kp_table *t, const char *const *cells);

/* kp_table_rows - how many rows `t` has. */
size_t kp_table_rows(const kp_table *t);

/* kp_table_print - `t` to `f`: aligned with a header on a terminal, else tab-separated. */
void kp_table_print(const kp_table *t, FILE *f);

/* kp_table_out - `t` on stdout: as one JSON document (kp_table_json) with `json`, else kp_table_print. */
void kp_table_out(const kp_table *t, bool json);

/* kp_table_json - `t` as a new JSON array of objects (the caller owns the reference). */
json_t *kp_table_json(const kp_table *t);

/*
 * kp_out_json - print `doc` (its reference is taken) to stdout and a
 * newline: indented on a terminal, one line otherwise.
 */
void kp_out_json(json_t *doc);

/* kp_out_tty - whether standard output is a terminal. */
bool kp_out_tty(void);

#endif
