/*
 * admin_groups_internal.h - what the admin_groups_*.c files share: calls
 * to a group's coordinator with its retries, a connection to any broker,
 * and small helpers. Not installed.
 */
#ifndef KP_CLIENT_ADMIN_GROUPS_INTERNAL_H
#define KP_CLIENT_ADMIN_GROUPS_INTERNAL_H

#include <stdbool.h>

#include "client/admin_groups.h"
#include "protocol/codec.h"

/*
 * The group-level error code of a decoded response `resp` at `version`,
 * for kp_groups_call's retry decision (0 when there is none).
 */
typedef int (*kp_groups_code_fn)(const void *resp, int version);

/*
 * kp_groups_call - send `req` (api `api`, a version in [min_v, max_v]
 * that the coordinator also serves, stored in *version) to the
 * coordinator of `group` and decode the answer into `resp`, allocated in
 * `a`. A broken connection, or a `code` (may be NULL) that is a
 * coordinator error, starts over with a new FindCoordinator after
 * retry.backoff.ms, until request.timeout.ms has passed. Returns 0 with
 * the answer (whose other errors the caller reports), or -1: KP_EKAFKA
 * with the coordinator error that lasted, KP_EPROTO when no version fits,
 * connection errors, FindCoordinator errors.
 */
int kp_groups_call(kp_cluster *c, const char *group, int16_t api, int16_t min_v, int16_t max_v,
		   const void *req, kp_arena *a, void *resp, int *version, kp_groups_code_fn code,
		   kp_error *err);

/*
 * kp_groups_any_conn - a connection to some broker of the cluster (the
 * metadata's first reachable one; the metadata is read first if no
 * broker is known yet); *node_id gets its id. NULL on failure.
 */
kp_conn *kp_groups_any_conn(kp_cluster *c, int32_t *node_id, kp_error *err);

/* kp_groups_coord_error - whether Kafka error `code` means "ask FindCoordinator again". */
bool kp_groups_coord_error(int code);

/* kp_groups_strdup - a malloc'd copy of `s` (NULL copies as ""); NULL when out of memory. */
char *kp_groups_strdup(const char *s);

/* kp_groups_tp_cmp - qsort order of struct kp_groups_tp: topic, then partition. */
int kp_groups_tp_cmp(const void *a, const void *b);

#endif
