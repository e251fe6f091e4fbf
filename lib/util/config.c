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

int kp_config_set_pair(kp_config *c, const char *pair, kp_error *err)
{
	char *copy = strdup(pair), *eq;
	int rc;

	if (!copy)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	if (!(eq = strchr(copy, '='))) {
		rc = kp_error_set(err, KP_EINVAL, "'%s' is not KEY=VALUE", pair);
	} else {
		*eq = '\0';
		rc = kp_config_set(c, trim(copy), trim(eq + 1), err);
	}
	free(copy);
	return rc;
}

/* Write code point `u` as UTF-8 at `out`; returns the bytes written (1-3). */
static size_t put_utf8(char *out, unsigned u)
{
	if (u < 0x80) {
		out[0] = (char)u;
		return 1;
	}
	if (u < 0x800) {
		out[0] = (char)(0xc0 | u >> 6);
		out[1] = (char)(0x80 | (u & 0x3f));
		return 2;
	}
	out[0] = (char)(0xe0 | u >> 12);
	out[1] = (char)(0x80 | ((u >> 6) & 0x3f));
	out[2] = (char)(0x80 | (u & 0x3f));
	return 3;
}

/* Decode java.util.Properties escapes in `s`, in place (the result is never longer). */
static void unescape(char *s)
{
	static const char from[] = "tnrf", to[] = "\t\n\r\f";
	char *out = s, *hit;
	unsigned u;
	int used;

	while (*s) {
		if (*s != '\\' || !s[1]) {
			*out++ = *s++;
		} else if (s[1] == 'u' && sscanf(s + 2, "%4x%n", &u, &used) == 1 && used == 4) {
			out += put_utf8(out, u);
			s += 6;
		} else {
			hit = strchr(from, s[1]);
			*out++ = hit ? to[hit - from] : s[1];
			s += 2;
		}
	}
	*out = '\0';
}

/*
 * Set one logical line of a properties file: the key runs to the first
 * unescaped '=', ':' or whitespace; whitespace, one '=' or ':', and
 * whitespace follow; the rest is the value.
 */
static int config_set_line(kp_config *c, char *line, kp_error *err)
{
	char *p = line + strspn(line, " \t\f"), *key = p, *value;

	while (*p && !strchr("=: \t\f", *p))
		p += p[0] == '\\' && p[1] ? 2 : 1;
	if (!*p)
		return kp_error_set(err, KP_EINVAL, "expected KEY=VALUE");
	value = p + strspn(p, " \t\f");
	if (*value == '=' || *value == ':')
		value++;
	*p = '\0';
	value += strspn(value, " \t\f");
	unescape(key);
	unescape(value);
	if (!*key)
		return kp_error_set(err, KP_EINVAL, "empty configuration key");
	return kp_config_set(c, key, trim(value), err);
}

/* Whether `line` (`n` bytes) ends in an odd number of backslashes. */
static bool continues(const char *line, size_t n)
{
	size_t k = 0;

	while (k < n && line[n - 1 - k] == '\\')
		k++;
	return k % 2 == 1;
}

/* Append `n` bytes of `line` to the logical line in `acc`; returns false on OOM. */
static bool config_accumulate(char **acc, size_t *acclen, const char *line, size_t n)
{
	char *p = realloc(*acc, *acclen + n + 1);

	if (!p)
		return false;
	memcpy(p + *acclen, line, n);
	p[*acclen + n] = '\0';
	*acc = p;
	*acclen += n;
	return true;
}

/* Set the logical line in acc (if not blank); the message names path:lineno. */
static int config_finish_line(kp_config *c, char *acc, const char *path, size_t lineno,
			      kp_error *err)
{
	kp_error e;

	if (!*trim(acc) || config_set_line(c, acc, &e) == 0)
		return 0;
	if (e.code == KP_EINVAL)
		return kp_error_set(err, KP_EINVAL, "%s:%zu: %s", path, lineno, e.msg);
	if (err)
		*err = e;
	return -1;
}

int kp_config_load(kp_config *c, const char *path, kp_error *err)
{
	FILE *f = fopen(path, "re");
	char *line = NULL, *acc = NULL, *t;
	size_t cap = 0, acclen = 0, lineno = 0, n;
	bool cont = false;
	ssize_t got;
	int rc = -1;

	if (!f)
		return kp_error_errno(err, "cannot read %s", path);
	while ((got = getline(&line, &cap, f)) >= 0) {
		lineno++;
		n = (size_t)got;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		t = line + strspn(line, " \t\f");
		n -= (size_t)(t - line);
		if (!cont && (*t == '#' || *t == '!'))
			continue; /* a comment, never continued */
		cont = continues(t, n);
		if (!config_accumulate(&acc, &acclen, t, n - cont)) {
			kp_error_set(err, KP_ENOMEM, "out of memory");
			goto out;
		}
		if (cont)
			continue;
		if (config_finish_line(c, acc, path, lineno, err) < 0)
			goto out;
		acclen = 0;
		acc[0] = '\0';
	}
	if (ferror(f)) {
		kp_error_errno(err, "cannot read %s", path);
		goto out;
	}
	rc = acclen ? config_finish_line(c, acc, path, lineno, err) : 0;
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

kp_config *kp_config_dup(const kp_config *c, kp_error *err)
{
	kp_config *d = kp_config_new();

	if (!d) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < c->count; i++)
		if (kp_config_set(d, c->entries[i].key, c->entries[i].value, err) < 0) {
			kp_config_free(d);
			return NULL;
		}
	return d;
}

size_t kp_config_count(const kp_config *c) { return c->count; }
const char *kp_config_key(const kp_config *c, size_t i) { return c->entries[i].key; }
