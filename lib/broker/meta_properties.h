/*
 * meta_properties.h - meta.properties in each log dir: node.id and
 * cluster.id, written once and checked on every start (KIP-631).
 */
#ifndef KP_BROKER_META_PROPERTIES_H
#define KP_BROKER_META_PROPERTIES_H

#include <stddef.h>
#include <stdint.h>

#include "util/config.h"
#include "util/error.h"

/*
 * kp_meta_properties_ensure - read DIR/meta.properties, or write it when
 * absent. `cluster_id` (>= 23 bytes of `len`) is in/out: "" on entry means
 * "take the file's, or generate one"; a non-empty id must match the
 * file's. Returns 0, or -1 with KP_EINVAL (node.id or cluster.id
 * mismatch), KP_ECORRUPT (unreadable file) or KP_EIO.
 */
int kp_meta_properties_ensure(const char *dir, int32_t node_id, char *cluster_id, size_t len,
			      kp_error *err);

#endif
