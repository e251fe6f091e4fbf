/*
 * timestamp.c - milliseconds or ISO 8601 to milliseconds since the epoch;
 * see timestamp.h.
 */
#include "client/timestamp.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Read exactly `n` digits at *p into *v and move past them; false if they are not there. */
static bool digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return true;
}

/* "Z", "+HH", "+HHMM", "+HH:MM" (or "-...") at p into *sec east of UTC; false if malformed. */
static bool zone(const char *p, long *sec)
{
	int h, m = 0, sign;

	*sec = 0;
	if (!*p)
		return true;
	if (p[0] == 'Z' && !p[1])
		return true;
	if (*p != '+' && *p != '-')
		return false;
	sign = *p++ == '-' ? -1 : 1;
	if (!digits(&p, 2, &h))
		return false;
	if (*p == ':')
		p++;
	if (*p && !digits(&p, 2, &m))
		return false;
	if (*p || h > 23 || m > 59)
		return false;
	*sec = sign * (h * 3600L + m * 60L);
	return true;
}

/* "HH:MM[:SS[.fff...]]" at *p into `tm` and *millis. */
static bool clock_time(const char **p, struct tm *tm, int *millis)
{
	int scale = 100, d;

	if (!digits(p, 2, &tm->tm_hour) || *(*p)++ != ':' || !digits(p, 2, &tm->tm_min))
		return false;
	if (**p != ':')
		return true;
	(*p)++;
	if (!digits(p, 2, &tm->tm_sec))
		return false;
	if (**p != '.' && **p != ',')
		return true;
	(*p)++;
	if (!isdigit((unsigned char)**p))
		return false;
	while (isdigit((unsigned char)**p)) {
		d = *(*p)++ - '0';
		*millis += d * scale;
		scale /= 10;
	}
	return true;
}

static bool iso8601(const char *s, int64_t *ms)
{
	struct tm tm;
	int millis = 0;
	long off;
	time_t t;

	memset(&tm, 0, sizeof tm);
	if (!digits(&s, 4, &tm.tm_year) || *s++ != '-' || !digits(&s, 2, &tm.tm_mon) ||
	    *s++ != '-' || !digits(&s, 2, &tm.tm_mday))
		return false;
	if ((*s == 'T' || *s == ' ') && !(s++, clock_time(&s, &tm, &millis)))
		return false;
	if (!zone(s, &off) || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	if ((t = timegm(&tm)) == (time_t)-1)
		return false;
	*ms = ((int64_t)t - off) * 1000 + millis;
	return true;
}

int kp_timestamp_parse(const char *s, int64_t *ms, kp_error *err)
{
	char *end;
	long long v;

	if (s && isdigit((unsigned char)*s) && !strchr(s, '-') && !strchr(s, ':')) {
		errno = 0;
		v = strtoll(s, &end, 10);
		if (!errno && !*end && v >= 0) {
			*ms = v;
			return 0;
		}
	} else if (s && iso8601(s, ms) && *ms >= 0) {
		return 0;
	}
	return kp_error_set(err, KP_EINVAL, "bad timestamp '%s' (want milliseconds since the epoch "
			    "or an ISO 8601 time like 2024-05-01T12:30:00Z)", s ? s : "");
}
