/*
 * config.c - properties files and overrides; see config.h.
 *
 * Entries live in an array in insertion order (a broker has tens of keys,
 * so a linear search is the simplest correct thing).
 */
#include "util/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct kp_config_entry {
	char *key;
	char *value;
};

struct kp_config {
	struct kp_config_entry *entries;
	size_t count, cap;
};

kp_config *kp_config_new(void)
{
	return calloc(1, sizeof(kp_config));
}

void kp_config_free(kp_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->count; i++) {
		free(c->entries[i].key);
		free(c->entries[i].value);
	}
	free(c->entries);
	free(c);
}

static struct kp_config_entry *config_find(const kp_config *c, const char *key)
{
	for (size_t i = 0; i < c->count; i++)
		if (strcmp(c->entries[i].key, key) == 0)
			return &c->entries[i];
	return NULL;
}

int kp_config_set(kp_config *c, const char *key, const char *value, kp_error *err)
{
	struct kp_config_entry *e = config_find(c, key);
	char *v;

	if (!*key)
		return kp_error_set(err, KP_EINVAL, "empty configuration key");
	v = strdup(value);
	if (!v)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	if (e) {
		free(e->value);
		e->value = v;
		return 0;
	}
	if (c->count == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct kp_config_entry *n = realloc(c->entries, cap * sizeof *n);
		if (!n)
			goto oom;
		c->entries = n;
		c->cap = cap;
	}
	e = &c->entries[c->count];
	e->key = strdup(key);
	if (!e->key)
		goto oom;
	e->value = v;
	c->count++;
	return 0;
oom:
	free(v);
	return kp_error_set(err, KP_ENOMEM, "out of memory");
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* Split "key<sep>value" at the first '=' or ':' and set it. */
static int config_set_line(kp_config *c, char *line, kp_error *err)
{
	char *sep = strpbrk(line, "=:");

	if (!sep)
		return kp_error_set(err, KP_EINVAL, "expected KEY=VALUE");
	*sep = '\0';
	line = trim(line);
	if (!*line)
		return kp_error_set(err, KP_EINVAL, "empty configuration key");
	return kp_config_set(c, line, trim(sep + 1), err);
}

int kp_config_set_pair(kp_config *c, const char *pair, kp_error *err)
{
	char *copy = strdup(pair);
	int rc;

	if (!copy)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	if (!strchr(copy, '='))
		rc = kp_error_set(err, KP_EINVAL, "'%s' is not KEY=VALUE", pair);
	else
		rc = config_set_line(c, copy, err);
	free(copy);
	return rc;
}

/* Append `line` to the logical line in `acc`; returns false on OOM. */
static bool config_accumulate(char **acc, size_t *acclen, const char *line)
{
	size_t n = strlen(line);
	char *p = realloc(*acc, *acclen + n + 1);

	if (!p)
		return false;
	memcpy(p + *acclen, line, n + 1);
	*acc = p;
	*acclen += n;
	return true;
}

int kp_config_load(kp_config *c, const char *path, kp_error *err)
{
	FILE *f = fopen(path, "re");
	char *line = NULL, *acc = NULL, *t;
	size_t cap = 0, acclen = 0, lineno = 0;
	ssize_t n;
	int rc = -1;

	if (!f)
		return kp_error_errno(err, "cannot read %s", path);
	while ((n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		t = acclen ? trim(line) : line;
		bool cont = n > 0 && line[n - 1] == '\\';
		if (cont)
			line[n - 1] = '\0';
		if (!config_accumulate(&acc, &acclen, t)) {
			kp_error_set(err, KP_ENOMEM, "out of memory");
			goto out;
		}
		if (cont)
			continue;
		t = trim(acc);
		if (*t && *t != '#' && *t != '!' && config_set_line(c, t, err) < 0) {
			kp_error_set(err, KP_EINVAL, "%s:%zu: expected KEY=VALUE", path, lineno);
			goto out;
		}
		acclen = 0;
		acc[0] = '\0';
	}
	if (ferror(f)) {
		kp_error_errno(err, "cannot read %s", path);
		goto out;
	}
	rc = 0;
out:
	free(line);
	free(acc);
	fclose(f);
	return rc;
}

const char *kp_config_get(const kp_config *c, const char *key)
{
	struct kp_config_entry *e = config_find(c, key);
	return e ? e->value : NULL;
}

const char *kp_config_get_str(const kp_config *c, const char *key, const char *def)
{
	const char *v = kp_config_get(c, key);
	return v ? v : def;
}

int kp_config_get_int64(const kp_config *c, const char *key, int64_t def, int64_t min,
			int64_t max, int64_t *out, kp_error *err)
{
	const char *v = kp_config_get(c, key);
	char *end;
	long long n;

	if (!v) {
		*out = def;
		return 0;
	}
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || end == v || *end || n < min || n > max)
		return kp_error_set(err, KP_EINVAL, "%s: '%s' is not a number from %lld to %lld", key,
				    v, (long long)min, (long long)max);
	*out = n;
	return 0;
}

int kp_config_get_bool(const kp_config *c, const char *key, bool def, bool *out, kp_error *err)
{
	const char *v = kp_config_get(c, key);

	if (!v)
		*out = def;
	else if (strcasecmp(v, "true") == 0)
		*out = true;
	else if (strcasecmp(v, "false") == 0)
		*out = false;
	else
		return kp_error_set(err, KP_EINVAL, "%s: '%s' is not true or false", key, v);
	return 0;
}

size_t kp_config_count(const kp_config *c) { return c->count; }
const char *kp_config_key(const kp_config *c, size_t i) { return c->entries[i].key; }
const char *kp_config_value(const kp_config *c, size_t i) { return c->entries[i].value; }
