/*
 * kconsume_topics.h - what kconsume reads: the -t list (names, and
 * ^REGEX patterns matched against the cluster's topics) less the topics
 * that cannot be read, and, without a group, the partitions assigned with
 * their start positions, the group's committed offsets for -o stored.
 */
#ifndef KP_CMD_KCONSUME_TOPICS_H
#define KP_CMD_KCONSUME_TOPICS_H

#include <stddef.h>
#include <stdint.h>

#include "client/cluster.h"
#include "client/consumer.h"
#include "client/group.h"

/*
 * kc_topics - the topics of -t `list` (comma separated): names as given,
 * and for an entry starting with "^" every topic whose name the POSIX
 * extended regular expression matches (internal topics left out), asked
 * of `bootstrap` once at the start; duplicates removed, in the order
 * given. *names gets them (kc_topics_free). Exits 2 for an empty list or
 * a bad pattern, 1 when a pattern matches no topic or the cluster cannot
 * be asked. Returns how many there are.
 */
size_t kc_topics(const char *list, const char *bootstrap, kp_cluster *cluster, char ***names);

/* kc_topics_free - free what kc_topics returned. */
void kc_topics_free(char **names, size_t n);

/* Where to start each partition when reading without a group. */
struct kc_start {
	int whence;           /* enum kp_seek */
	int64_t value;
	const char *stored;   /* -o stored: the group whose committed offsets to start from */
	const struct kp_member_config *gc; /* its settings (for the coordinator) */
};

/*
 * kc_readable - keep of topics[0..*n) the ones that can be read: each
 * exists and, unless `partition` is -1, has that partition. Each other
 * one gets a message ("topic 'X' does not exist ...") and is moved past
 * the new *n (still in the array, for kc_topics_free with the old count).
 * Returns how many were left out; exits 1 when that is all of them, or
 * when the cluster cannot be asked.
 */
size_t kc_readable(kp_cluster *cluster, char **topics, size_t *n, int32_t partition);

/*
 * kc_assign - assign partition `partition` (-1: every partition) of each
 * of the `n` topics to `c`, starting where `st` says; with st->stored,
 * at the group's committed offset, where it has one, and else at
 * st->whence / st->value. Exits 1 on failure.
 */
void kc_assign(kp_cluster *cluster, kp_consumer *c, char **topics, size_t n, int32_t partition,
	       const struct kc_start *st);

#endif
