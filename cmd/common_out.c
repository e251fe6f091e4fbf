/*
 * common_out.c - tables and JSON on standard output; see common_out.h.
 */
#include "common_out.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

struct kp_table {
	const struct kp_col *cols;
	size_t ncols;
	char **cells; /* rows x ncols, row-major; NULL: none */
	size_t rows, cap;
};

kp_table *kp_table_new(const struct kp_col *cols, size_t n)
{
	kp_table *t = calloc(1, sizeof(*t));

	if (!t)
		kp_die("out of memory");
	t->cols = cols;
	t->ncols = n;
	return t;
}

void kp_table_free(kp_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->rows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

void kp_table_add(kp_table *t, const char *const *cells)
{
	char **grown;

	if (t->rows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		if (!(grown = realloc(t->cells, t->cap * t->ncols * sizeof(*grown))))
			kp_die("out of memory");
		t->cells = grown;
	}
	for (size_t c = 0; c < t->ncols; c++) {
		char **slot = &t->cells[t->rows * t->ncols + c];

		*slot = cells[c] ? strdup(cells[c]) : NULL;
		if (cells[c] && !*slot)
			kp_die("out of memory");
	}
	t->rows++;
}

size_t kp_table_rows(const kp_table *t)
{
	return t->rows;
}

bool kp_out_tty(void)
{
	return isatty(STDOUT_FILENO) == 1;
}

/* cell - the text of row r, column c ("-" for none). */
static const char *cell(const kp_table *t, size_t r, size_t c)
{
	const char *s = t->cells[r * t->ncols + c];

	return s ? s : "-";
}

/* print_aligned - header and rows padded to each column's width, two spaces apart. */
static void print_aligned(const kp_table *t, FILE *f)
{
	size_t *w = calloc(t->ncols ? t->ncols : 1, sizeof(*w));

	if (!w)
		kp_die("out of memory");
	for (size_t c = 0; c < t->ncols; c++) {
		w[c] = strlen(t->cols[c].title);
		for (size_t r = 0; r < t->rows; r++)
			if (strlen(cell(t, r, c)) > w[c])
				w[c] = strlen(cell(t, r, c));
	}
	for (size_t r = 0; r <= t->rows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = r == 0 ? t->cols[c].title : cell(t, r - 1, c);
			bool last = c + 1 == t->ncols, right = t->cols[c].type == KP_COL_INT && r > 0;

			if (right)
				fprintf(f, "%*s", (int)w[c], s);
			else if (last) /* no trailing blanks */
				fputs(s, f);
			else
				fprintf(f, "%-*s", (int)w[c], s);
			fputs(last ? "\n" : "  ", f);
		}
	}
	free(w);
}

void kp_table_print(const kp_table *t, FILE *f)
{
	if (isatty(fileno(f)) == 1) {
		print_aligned(t, f);
		return;
	}
	for (size_t r = 0; r < t->rows; r++)
		for (size_t c = 0; c < t->ncols; c++)
			fprintf(f, "%s%c", cell(t, r, c), c + 1 == t->ncols ? '\n' : '\t');
}

/* cell_json - a cell as a new JSON value: null, a string, or an integer (KP_COL_INT). */
static json_t *cell_json(const kp_table *t, size_t r, size_t c)
{
	const char *s = t->cells[r * t->ncols + c];
	char *end;
	long long v;

	if (!s)
		return json_null();
	if (t->cols[c].type == KP_COL_INT) {
		v = strtoll(s, &end, 10);
		if (*s && !*end)
			return json_integer(v);
	}
	return json_string(s);
}

json_t *kp_table_json(const kp_table *t)
{
	json_t *a = json_array();

	for (size_t r = 0; a && r < t->rows; r++) {
		json_t *o = json_object();

		for (size_t c = 0; o && c < t->ncols; c++)
			json_object_set_new(o, t->cols[c].key, cell_json(t, r, c));
		if (!o || json_array_append_new(a, o) < 0)
			kp_die("out of memory");
	}
	if (!a)
		kp_die("out of memory");
	return a;
}

void kp_out_json(json_t *doc)
{
	size_t flags = kp_out_tty() ? JSON_INDENT(2) : JSON_COMPACT;

	if (!doc || json_dumpf(doc, stdout, flags) < 0)
		kp_die("cannot write JSON");
	fputc('\n', stdout);
	json_decref(doc);
}

void kp_table_out(const kp_table *t, bool json)
{
	if (json)
		kp_out_json(kp_table_json(t));
	else
		kp_table_print(t, stdout);
}
