/*
 * config_defs.c - lookups in the generated config tables, the synonyms of
 * a described config and values printed as Kafka prints them; see
 * config_defs.h.
 */
#include "metadata/config_defs.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int def_cmp(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

const struct kp_topic_config_def *kp_topic_config_def(const char *name)
{
	return bsearch(name, kp_topic_config_defs, kp_topic_config_def_count,
		       sizeof(kp_topic_config_defs[0]), def_cmp);
}

const struct kp_broker_config_def *kp_broker_config_def(const char *name)
{
	return bsearch(name, kp_broker_config_defs, kp_broker_config_def_count,
		       sizeof(kp_broker_config_defs[0]), def_cmp);
}

size_t kp_config_synonyms(const char *const *names, const char *first, kp_config_layer_fn layer,
			  void *arg, struct kp_config_synonym *out, size_t max)
{
	static const int sources[] = { KP_CONFIG_SOURCE_BROKER, KP_CONFIG_SOURCE_BROKER_DEFAULT,
				       KP_CONFIG_SOURCE_STATIC, KP_CONFIG_SOURCE_DEFAULT };
	size_t n = 0;

	for (size_t s = 0; s < sizeof(sources) / sizeof(sources[0]); s++) {
		for (size_t i = 0; i < KP_CONFIG_MAX_SYNONYMS && names[i] && n < max; i++) {
			const struct kp_broker_config_def *d = kp_broker_config_def(names[i]);
			const char *v = sources[s] == KP_CONFIG_SOURCE_DEFAULT
						? (d ? d->default_value : NULL)
						: layer(arg, sources[s], names[i]);

			if (!v || (n == 0 && strcmp(names[i], first) != 0))
				continue; /* Kafka drops what comes before the first synonym */
			out[n++] = (struct kp_config_synonym){ names[i], v, (int8_t)sources[s] };
		}
	}
	return n;
}

/* trimmed - raw without leading and trailing blanks, into buf. */
static char *trimmed(const char *raw, char *buf, size_t size)
{
	size_t n;

	while (isspace((unsigned char)*raw))
		raw++;
	n = strlen(raw);
	while (n > 0 && isspace((unsigned char)raw[n - 1]))
		n--;
	if (n >= size)
		n = size - 1;
	memmove(buf, raw, n); /* raw may be in buf */
	buf[n] = '\0';
	return buf;
}

/* java_double - d as Java's Double.toString prints it (shortest round trip). */
static void java_double(double d, char *buf, size_t size)
{
	char e[40], digits[20];
	int p, exp, nd = 0;

	if (isnan(d) || isinf(d)) {
		snprintf(buf, size, "%s", isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
		return;
	}
	for (p = 0; p < 17; p++) {
		snprintf(e, sizeof(e), "%.*e", p, d);
		if (strtod(e, NULL) == d)
			break;
	}
	for (const char *s = e; *s && *s != 'e' && nd < (int)sizeof(digits) - 1; s++)
		if (isdigit((unsigned char)*s))
			digits[nd++] = *s;
	digits[nd] = '\0';
	exp = atoi(strchr(e, 'e') + 1);
	if (d == 0 || (fabs(d) >= 1e-3 && fabs(d) < 1e7)) {
		char intpart[32] = "0", frac[40] = "";
		if (exp >= 0) {
			snprintf(intpart, sizeof(intpart), "%.*s", exp + 1 < nd ? exp + 1 : nd, digits);
			for (int i = nd; i < exp + 1; i++)
				strcat(intpart, "0");
			snprintf(frac, sizeof(frac), "%s", exp + 1 < nd ? digits + exp + 1 : "");
		} else {
			for (int i = 0; i < -exp - 1; i++)
				strcat(frac, "0");
			strcat(frac, digits);
		}
		snprintf(buf, size, "%s%s.%s", d < 0 ? "-" : "", intpart, *frac ? frac : "0");
		return;
	}
	snprintf(buf, size, "%s%c.%sE%d", d < 0 ? "-" : "", digits[0], nd > 1 ? digits + 1 : "0",
		 exp);
}

/* list_string - the comma-separated elements of s, each trimmed, joined by ",". */
static void list_string(const char *s, char *buf, size_t size)
{
	char elem[512];
	size_t len = 0;

	buf[0] = '\0';
	if (!*s)
		return;
	for (;;) {
		const char *end = strchr(s, ',');
		size_t n = end ? (size_t)(end - s) : strlen(s);

		if (n >= sizeof(elem))
			n = sizeof(elem) - 1;
		memcpy(elem, s, n);
		elem[n] = '\0';
		len += (size_t)snprintf(buf + len, len < size ? size - len : 0, "%s%s",
					len ? "," : "", trimmed(elem, elem, sizeof(elem)));
		if (!end || len >= size)
			return;
		s = end + 1;
	}
}

const char *kp_config_value_string(int type, const char *raw, int64_t factor, char *buf,
				   size_t size)
{
	char *end;

	trimmed(raw ? raw : "", buf, size);
	errno = 0;
	switch (type) {
	case KP_CONFIG_TYPE_INT:
	case KP_CONFIG_TYPE_SHORT:
	case KP_CONFIG_TYPE_LONG: {
		long long v = strtoll(buf, &end, 10);

		if (*buf && !*end && !errno)
			snprintf(buf, size, "%lld", v * (long long)(factor ? factor : 1));
		break;
	}
	case KP_CONFIG_TYPE_DOUBLE: {
		double v = strtod(buf, &end);

		if (*buf && !*end && !errno)
			java_double(v, buf, size);
		break;
	}
	case KP_CONFIG_TYPE_BOOLEAN:
		if (!strcasecmp(buf, "true") || !strcasecmp(buf, "false"))
			for (char *p = buf; *p; p++)
				*p = (char)tolower((unsigned char)*p);
		break;
	case KP_CONFIG_TYPE_LIST: {
		char copy[1024];

		list_string(trimmed(buf, copy, sizeof(copy)), buf, size);
		break;
	}
	default:
		break;
	}
	return buf;
}
