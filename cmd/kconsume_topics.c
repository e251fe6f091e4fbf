/*
 * kconsume_topics.c - topic lists, patterns and start positions; see
 * kconsume_topics.h.
 */
#include "kconsume_topics.h"

#include <regex.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "client/topic_names.h"
#include "common.h"

void kc_topics_free(char **names, size_t n)
{
	for (size_t i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}

/* Append `name` (copied) to names[0..*n) unless it is there already. */
static void add_name(char ***names, size_t *n, const char *name)
{
	char **nn;

	for (size_t i = 0; i < *n; i++)
		if (strcmp((*names)[i], name) == 0)
			return;
	if (!(nn = realloc(*names, (*n + 1) * sizeof *nn)) || !(nn[*n] = strdup(name)))
		kp_die("out of memory");
	*names = nn;
	(*n)++;
}

/* Add the topics of `all` (nall of them) that pattern `pat` matches; exits when none does. */
static void add_matches(char ***names, size_t *n, const char *pat, char **all, size_t nall)
{
	char msg[128];
	regex_t re;
	size_t found = 0;
	int rc;

	if ((rc = regcomp(&re, pat, REG_EXTENDED | REG_NOSUB)) != 0) {
		regerror(rc, &re, msg, sizeof msg);
		kp_usage_error("bad topic pattern '%s': %s", pat, msg);
	}
	for (size_t i = 0; i < nall; i++)
		if (regexec(&re, all[i], 0, NULL, 0) == 0) {
			add_name(names, n, all[i]);
			found++;
		}
	regfree(&re);
	if (!found)
		kp_die("no topic matches '%s'", pat);
}

size_t kc_topics(const char *list, const char *bootstrap, kp_cluster *cluster, char ***names)
{
	char *copy = strdup(list), *save = NULL, **all = NULL;
	size_t n = 0, nall = 0;
	bool listed = false;
	kp_error err;

	*names = NULL;
	if (!copy)
		kp_die("out of memory");
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (t[0] != '^') {
			add_name(names, &n, t);
			continue;
		}
		if (!listed && kp_topic_names(bootstrap, cluster, false, &all, &nall, &err) < 0)
			kp_die("cannot list the topics to match '%s': %s", t, err.msg);
		listed = true;
		add_matches(names, &n, t, all, nall);
	}
	kp_topic_names_free(all, nall);
	free(copy);
	if (n == 0)
		kp_usage_error("a topic (-t) is required");
	return n;
}

/* The committed offsets of group st->stored for partitions tps[0..n) into off[]. */
static void committed(kp_cluster *cluster, kp_consumer *c, char **topics, size_t ntopics,
		      const struct kp_tp *tps, size_t n, const struct kc_start *st, int64_t *off)
{
	kp_member *g;
	kp_error err;

	g = kp_member_new(cluster, c, st->stored, st->gc, (const char *const *)topics, ntopics,
			  st->whence, st->value, NULL, NULL, &err);
	if (!g || kp_member_committed(g, tps, n, off, &err) < 0)
		kp_die("cannot read the committed offsets of group '%s': %s", st->stored, err.msg);
	kp_member_free(g);
}

/*
 * readable - whether `topic` can be read (it exists, with partition
 * `partition` unless that is -1); a message says why not. Exits 1 when
 * the cluster cannot be asked at all.
 */
static bool readable(kp_cluster *cluster, const char *topic, int32_t partition)
{
	int32_t count;
	kp_error err;

	if (kp_cluster_topic(cluster, topic, &count, &err) < 0) {
		if (err.code != KP_ENOTFOUND && err.code != KP_EKAFKA)
			kp_die("%s", err.msg);
		kp_warn("%s", err.msg);
		return false;
	}
	if (partition >= count) {
		kp_warn("topic '%s' has no partition %d (it has %d)", topic, (int)partition, (int)count);
		return false;
	}
	return true;
}

size_t kc_readable(kp_cluster *cluster, char **topics, size_t *n, int32_t partition)
{
	size_t k = 0, all = *n;

	for (size_t i = 0; i < all; i++)
		if (readable(cluster, topics[i], partition)) {
			char *t = topics[k];
			topics[k++] = topics[i];
			topics[i] = t;
		}
	if (k == 0) /* each has had its message */
		exit(KP_EXIT_FAILURE);
	*n = k;
	return all - k;
}

/* Every (topic, partition) to read into *tps (free it; the topics are borrowed). */
static size_t partitions(kp_cluster *cluster, char **topics, size_t n, int32_t partition,
			 struct kp_tp **tps)
{
	size_t k = 0;
	int32_t count;
	kp_error err;

	*tps = NULL;
	for (size_t i = 0; i < n; i++) {
		if (kp_cluster_topic(cluster, topics[i], &count, &err) < 0)
			kp_die("%s", err.msg);
		if (partition >= count)
			kp_die("topic '%s' has no partition %d (it has %d)", topics[i], (int)partition,
			       (int)count);
		struct kp_tp *nt = realloc(*tps, (k + (size_t)count) * sizeof *nt);
		if (!nt)
			kp_die("out of memory");
		*tps = nt;
		int32_t lo = partition >= 0 ? partition : 0, hi = partition >= 0 ? partition + 1 : count;
		for (int32_t p = lo; p < hi; p++)
			(*tps)[k++] = (struct kp_tp){ topics[i], p };
	}
	return k;
}

void kc_assign(kp_cluster *cluster, kp_consumer *c, char **topics, size_t n, int32_t partition,
	       const struct kc_start *st)
{
	struct kp_tp *tps;
	size_t np = partitions(cluster, topics, n, partition, &tps);
	int64_t *off = calloc(np + 1, sizeof *off);
	kp_error err;

	if (!off)
		kp_die("out of memory");
	for (size_t i = 0; i < np; i++)
		off[i] = -1;
	if (st->stored)
		committed(cluster, c, topics, n, tps, np, st, off);
	for (size_t i = 0; i < np; i++) {
		int whence = off[i] >= 0 ? KP_SEEK_OFFSET : st->whence;
		int64_t value = off[i] >= 0 ? off[i] : st->value;
		if (kp_consumer_assign(c, tps[i].topic, tps[i].partition, whence, value, &err) < 0)
			kp_die("%s", err.msg);
	}
	free(off);
	free(tps);
}
