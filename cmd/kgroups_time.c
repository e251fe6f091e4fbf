/*
 * kgroups_time.c - the time values of reset-offsets (--to-datetime,
 * --by-duration) and lag (--watch); see kgroups.h.
 */
#include "kgroups.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* The `n` decimal digits at *p as a number (advancing *p), or -1. */
static long digits(const char **p, int n)
{
	long v = 0;

	for (int i = 0; i < n; i++, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (**p - '0');
	}
	return v;
}

/* Whether *p starts with `c` (advancing past it). */
static bool eat(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

/* ".sss" (any number of digits, milliseconds kept) at *p, or 0 without a fraction. */
static long fraction_ms(const char **p)
{
	long ms = 0;
	int n = 0;

	if (!eat(p, '.'))
		return 0;
	for (; isdigit((unsigned char)**p); (*p)++, n++)
		if (n < 3)
			ms = ms * 10 + (**p - '0');
	if (n == 0)
		return -1;
	for (; n < 3; n++)
		ms *= 10;
	return ms;
}

/* The zone at *p ("", "Z", "+HH", "+HHMM", "+HH:MM", "-..."): seconds east of UTC, or 1 for bad. */
static long zone_seconds(const char *p)
{
	int sign = *p == '-' ? -1 : 1;
	long h, m = 0;

	if (!*p || (p[0] == 'Z' && !p[1]))
		return 0;
	if (!eat(&p, '+') && !eat(&p, '-'))
		return 1;
	if ((h = digits(&p, 2)) < 0 || h > 23)
		return 1;
	eat(&p, ':');
	if (*p && ((m = digits(&p, 2)) < 0 || m > 59 || *p))
		return 1;
	return sign * (h * 3600 + m * 60);
}

int kg_parse_datetime(const char *s, int64_t *ms)
{
	const char *p = s;
	struct tm tm = { 0 }, check;
	long v[6], frac, zone;
	static const int width[6] = { 4, 2, 2, 2, 2, 2 };
	static const char sep[6] = { '-', '-', 'T', ':', ':', 0 };

	for (int i = 0; i < 6; i++)
		if ((v[i] = digits(&p, width[i])) < 0 || (sep[i] && !eat(&p, sep[i])))
			return -1;
	if ((frac = fraction_ms(&p)) < 0 || (zone = zone_seconds(p)) == 1)
		return -1;
	tm = (struct tm){ .tm_year = (int)v[0] - 1900, .tm_mon = (int)v[1] - 1, .tm_mday = (int)v[2],
			  .tm_hour = (int)v[3], .tm_min = (int)v[4], .tm_sec = (int)v[5] };
	check = tm;
	time_t t = timegm(&tm);
	if (v[3] > 23 || v[4] > 59 || v[5] > 59 || tm.tm_mday != check.tm_mday ||
	    tm.tm_mon != check.tm_mon || tm.tm_year != check.tm_year)
		return -1;
	*ms = ((int64_t)t - zone) * 1000 + frac;
	return 0;
}

/* A number with an optional fraction at *p, times `unit_ms`, in *ms (rounded down). */
static int number_ms(const char **p, int64_t unit_ms, int64_t *ms)
{
	const char *start = *p;
	double v = 0, scale = 1;

	for (; isdigit((unsigned char)**p); (*p)++)
		v = v * 10 + (**p - '0');
	if (eat(p, '.'))
		for (; isdigit((unsigned char)**p); (*p)++)
			v += (**p - '0') * (scale /= 10);
	if (*p == start || (*p == start + 1 && *start == '.') || v * unit_ms > 9e15)
		return -1;
	*ms = (int64_t)(v * (double)unit_ms);
	return 0;
}

int kg_parse_duration(const char *s, int64_t *ms)
{
	static const char units[] = "DHMS";
	static const int64_t unit_ms[] = { 86400000, 3600000, 60000, 1000 };
	const char *p = s;
	int64_t total = 0, part;
	int next = 0, parts = 0; /* units in order: D, then T and H, M, S */
	bool in_time = false;

	if (!eat(&p, 'P') && !eat(&p, 'p'))
		return -1;
	while (*p) {
		if ((*p == 'T' || *p == 't') && !in_time && p[1]) {
			p++;
			in_time = true;
			next = 1;
			continue;
		}
		const char *at = p;
		while (isdigit((unsigned char)*at) || *at == '.')
			at++;
		const char *u = *at ? strchr(units, toupper((unsigned char)*at)) : NULL;
		if (!u || (u - units) < next || (u != units) != in_time ||
		    number_ms(&p, unit_ms[u - units], &part) < 0 || p != at)
			return -1;
		total += part;
		parts++;
		next = (int)(u - units) + 1;
		p = at + 1;
	}
	if (parts == 0)
		return -1;
	*ms = total;
	return 0;
}

int kg_parse_interval(const char *s, int64_t *ms)
{
	const char *p = s;
	int64_t unit = 1000;

	while (isdigit((unsigned char)*p) || *p == '.')
		p++;
	if (strcmp(p, "ms") == 0)
		unit = 1;
	else if (strcmp(p, "m") == 0)
		unit = 60000;
	else if (strcmp(p, "h") == 0)
		unit = 3600000;
	else if (*p && strcmp(p, "s") != 0)
		return -1;
	const char *end = p;
	p = s;
	if (number_ms(&p, unit, ms) < 0 || p != end || *ms <= 0)
		return -1;
	return 0;
}

const char *kg_format_time(int64_t ms, char *buf)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}
