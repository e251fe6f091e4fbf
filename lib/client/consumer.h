/*
 * consumer.h - a simple (group-less) consumer on top of kp_cluster: the
 * caller assigns partitions and start positions, then polls; each poll is
 * one round of Fetch requests (one per leader, sent together) whose records
 * are handed to a callback in offset order per partition.
 *
 * Fetch is used at v4-v12 (v4 brings last_stable_offset; v13+ names topics
 * by id) with max_wait_ms 500, min_bytes 1, max_bytes 50 MiB and
 * partition_max_bytes 1 MiB, doubled for a partition whose next batch does
 * not fit. isolation.level (the Java name) is read_uncommitted by default;
 * read_committed reads up to the last stable offset and leaves out the
 * records of aborted transactions. Start positions are resolved with
 * ListOffsets (v0-v7) against the log start and end offsets:
 * an absolute offset outside them, given or met as OFFSET_OUT_OF_RANGE in
 * a Fetch, continues at the nearer end (the start when records were
 * deleted, the end when it is past the end) with a warning through
 * kp_diag.
 */
#ifndef KP_CLIENT_CONSUMER_H
#define KP_CLIENT_CONSUMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/cluster.h"
#include "record/records.h"
#include "util/config.h"
#include "util/error.h"

enum kp_seek {
	KP_SEEK_OFFSET,    /* value: an absolute offset */
	KP_SEEK_BEGINNING, /* the log start offset (ListOffsets -2) */
	KP_SEEK_END,       /* value records before the high watermark (ListOffsets -1), 0 = end */
	KP_SEEK_TIMESTAMP, /* value: ms since the epoch; the first record at or after it (else the end) */
	KP_SEEK_NONE,      /* no start position: the first poll fails with KP_ERANGE naming the
			    * partition (a group's auto.offset.reset=none) */
};

typedef struct kp_consumer kp_consumer;

/*
 * kp_record_cb - called for each record; `rec` and its pointers are valid
 * only during the call. Return 0 to go on, non-zero to stop the poll.
 */
typedef int (*kp_record_cb)(const char *topic, int32_t partition, const struct kp_record *rec,
			    void *opaque);

/*
 * kp_consumer_new - a consumer reading through `cluster` (borrowed; must
 * outlive the consumer). `cfg` (may be NULL) is read, not kept: fetch.max.wait.ms
 * (500), fetch.max.bytes (52428800), max.partition.fetch.bytes (1048576),
 * isolation.level (read_uncommitted or read_committed). Returns NULL with
 * KP_EINVAL or KP_ENOMEM.
 */
kp_consumer *kp_consumer_new(kp_cluster *cluster, const kp_config *cfg, kp_error *err);

/*
 * kp_consumer_config_check - whether kp_consumer_new would accept `cfg`'s
 * consumer settings, without a cluster: 0, or -1 with KP_EINVAL (or
 * KP_ENOMEM).
 */
int kp_consumer_config_check(const kp_config *cfg, kp_error *err);

/* kp_consumer_free - free `c` (NULL is fine). */
void kp_consumer_free(kp_consumer *c);

/*
 * kp_consumer_assign - read `topic` partition `partition` (-1: every
 * partition the metadata lists) from the position given by `whence` and
 * `value` (enum kp_seek), resolved on the first poll. Returns 0, or -1
 * with KP_EINVAL (no such partition), KP_ENOTFOUND (no such topic) or a
 * connection error.
 */
int kp_consumer_assign(kp_consumer *c, const char *topic, int32_t partition, int whence,
		       int64_t value, kp_error *err);

/*
 * kp_consumer_poll - one fetch round: resolve start positions, fetch from
 * every leader (waiting at most fetch.max.wait.ms for data) and call `cb`
 * for each new record. A round that resolves the last positions and finds
 * every partition at its end (kp_consumer_at_end) returns before
 * fetching. Returns 0, 1 when `cb` asked to stop, or -1 with a KP_EKAFKA
 * error naming topic and partition, KP_ECORRUPT for bad data, KP_EPROTO,
 * KP_ERANGE (a KP_SEEK_NONE partition), or a connection error that
 * persisted past request.timeout.ms.
 */
int kp_consumer_poll(kp_consumer *c, kp_record_cb cb, void *opaque, kp_error *err);

/*
 * kp_consumer_unassign - stop reading `topic` partition `partition`
 * (what a group member does with a revoked partition). Returns 1 when it
 * was assigned, 0 when not.
 */
int kp_consumer_unassign(kp_consumer *c, const char *topic, int32_t partition);

/*
 * kp_consumer_position - the next offset to hand to the callback for
 * `topic` partition `partition`: after a poll, one past the last record
 * delivered (what a group commits). -1 when the partition is not assigned
 * or its start position is not resolved yet.
 */
int64_t kp_consumer_position(const kp_consumer *c, const char *topic, int32_t partition);

/* kp_consumer_count - the number of assigned partitions. */
size_t kp_consumer_count(const kp_consumer *c);

/*
 * kp_consumer_set_max_wait / kp_consumer_max_wait - the Fetch max_wait_ms
 * of the next polls, in milliseconds (fetch.max.wait.ms at first); a group
 * member lowers it to send its next heartbeat in time.
 */
void kp_consumer_set_max_wait(kp_consumer *c, int ms);
int kp_consumer_max_wait(const kp_consumer *c);

/*
 * kp_consumer_at_end - whether every assigned partition has reached its
 * end: the log end offset when its position was first resolved, or an
 * earlier high watermark seen in a Fetch. Records appended later do not
 * move it, so a reader that keeps up only with difficulty still gets
 * there; once true it stays true.
 */
bool kp_consumer_at_end(const kp_consumer *c);

#endif
