/*
 * topic_names.h - the names of every topic a cluster has, for tools that
 * take a pattern (kconsume -t '^logs-.*').
 */
#ifndef KP_CLIENT_TOPIC_NAMES_H
#define KP_CLIENT_TOPIC_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#include "client/cluster.h"
#include "util/error.h"

/*
 * kp_topic_names - ask the first reachable broker of `bootstrap` (a
 * comma-separated host:port list, as for kp_cluster_new) for every topic
 * (Metadata with a null topic list, nothing created), with the settings
 * of `cluster` (client.id, timeouts). Internal topics (__consumer_offsets
 * and the like) are left out unless `internal`. *names gets a sorted
 * array of *n names, all owned by the caller (kp_topic_names_free).
 * Returns 0, or -1 with a connection error, KP_EPROTO or KP_ENOMEM.
 */
int kp_topic_names(const char *bootstrap, const kp_cluster *cluster, bool internal, char ***names,
		   size_t *n, kp_error *err);

/* kp_topic_names_free - free `n` names from kp_topic_names (names may be NULL). */
void kp_topic_names_free(char **names, size_t n);

#endif
