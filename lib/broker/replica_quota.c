/*
 * replica_quota.c - the sampled byte rate of a replication throttle and
 * the throttled-replicas lists (KIP-73); see replica_quota.h.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "broker/replica_quota.h"

int kp_replica_quota_init(kp_replica_quota *q, int32_t num_samples, int64_t window_ms,
			  kp_error *err)
{
	memset(q, 0, sizeof(*q));
	if (num_samples < 1 || num_samples >= INT32_MAX || window_ms < 1)
		return kp_error_set(err, KP_EINVAL, "a replication quota needs at least one window "
				    "of at least 1 ms");
	if (!(q->s = calloc((size_t)num_samples + 1, sizeof(*q->s))))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	q->bound = KP_REPLICA_QUOTA_UNLIMITED;
	q->num_samples = num_samples;
	q->window_ms = window_ms;
	return 0;
}

void kp_replica_quota_clear(kp_replica_quota *q)
{
	free(q->s);
	memset(q, 0, sizeof(*q));
}

void kp_replica_quota_set_bound(kp_replica_quota *q, int64_t bound)
{
	q->bound = bound < 0 ? 0 : bound;
}

/* sample_reset - sample `s` empty, starting at `now`. */
static void sample_reset(struct kp_replica_quota_sample *s, int64_t now)
{
	s->bytes = 0;
	s->start_ms = now;
	s->last_ms = now;
}

/* current - the sample records go to, the first one made at `now` when there is none. */
static struct kp_replica_quota_sample *current(kp_replica_quota *q, int64_t now)
{
	if (q->used == 0) {
		q->current = 0;
		q->used = 1;
		sample_reset(&q->s[0], now);
	}
	return &q->s[q->current];
}

/*
 * purge - forget the samples without a record for num_samples windows
 * (Kafka's purgeObsoleteSamples: they restart empty at `now`).
 */
static void purge(kp_replica_quota *q, int64_t now)
{
	int64_t expire = (int64_t)q->num_samples * q->window_ms;

	for (int32_t i = 0; i < q->used; i++)
		if (now - q->s[i].last_ms >= expire)
			sample_reset(&q->s[i], now);
}

void kp_replica_quota_record(kp_replica_quota *q, int64_t bytes, int64_t now)
{
	struct kp_replica_quota_sample *s;

	if (!q->s)
		return;
	s = current(q, now);
	if (now - s->start_ms >= q->window_ms) { /* complete: on to the next in the ring */
		q->current = (q->current + 1) % (q->num_samples + 1);
		if (q->current >= q->used)
			q->used = q->current + 1;
		s = &q->s[q->current];
		sample_reset(s, now);
	}
	s->bytes += (double)(bytes > 0 ? bytes : 0);
	if (now > s->last_ms)
		s->last_ms = now;
}

double kp_replica_quota_rate(kp_replica_quota *q, int64_t now)
{
	double total = 0;
	int64_t oldest, elapsed;

	if (!q->s)
		return 0;
	purge(q, now);
	current(q, now); /* Kafka's oldest(): a first sample when there is none */
	oldest = q->s[0].start_ms;
	for (int32_t i = 0; i < q->used; i++) {
		total += q->s[i].bytes;
		if (q->s[i].start_ms < oldest)
			oldest = q->s[i].start_ms;
	}
	elapsed = now - oldest;
	if (elapsed < q->window_ms)
		elapsed = q->window_ms;
	return total * 1000.0 / (double)elapsed;
}

bool kp_replica_quota_exceeded(kp_replica_quota *q, int64_t now)
{
	if (!q->s || q->bound == KP_REPLICA_QUOTA_UNLIMITED)
		return false;
	return kp_replica_quota_rate(q, now) > (double)q->bound;
}

/* number - the digits s[0..n) as a non-negative int32 into *out; false when not that. */
static bool number(const char *s, size_t n, int32_t *out)
{
	int64_t v = 0;

	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
		if (v > INT32_MAX)
			return false;
	}
	*out = (int32_t)v;
	return true;
}

/* trimmed - s[0..n) without blanks at either end: *start, *len. */
static void trimmed(const char *s, size_t n, const char **start, size_t *len)
{
	while (n > 0 && isspace((unsigned char)*s))
		s++, n--;
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	*start = s;
	*len = n;
}

int32_t kp_replica_throttled_mark(const char *list, int32_t broker, bool *marks, int32_t n)
{
	const char *s, *colon;
	size_t len;
	int32_t applied = 0, part, id;

	if (!list)
		return 0;
	for (const char *p = list; *p;) {
		size_t m = strcspn(p, ",");

		trimmed(p, m, &s, &len);
		if (len == 1 && *s == '*') { /* "*" beside empty entries: all */
			for (int32_t i = 0; i < n; i++)
				marks[i] = true;
			return n;
		}
		colon = len ? memchr(s, ':', len) : NULL;
		if (colon && number(s, (size_t)(colon - s), &part) &&
		    number(colon + 1, len - (size_t)(colon + 1 - s), &id) && id == broker) {
			applied++;
			if (part < n)
				marks[part] = true;
		}
		p += m + (p[m] == ',');
	}
	return applied;
}
