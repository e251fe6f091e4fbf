/*
 * purgatory.h - requests that wait: parked until what they wait for
 * happens, their deadline passes, or their connection goes away.
 *
 * Kafka's "purgatory" (DelayedOperationPurgatory) holds long-poll fetches,
 * acks=all produces and group joins. Ours is one module for all of them:
 *
 *      park(op, keys, deadline)            wake(key)
 *              |                               |
 *              v                               v
 *     +-----------------+   key -> ops   +-----------+
 *     | op: timer, cb,  |<---------------| watchers  |  (hash of keys, each
 *     | watch nodes     |                | per key   |   a list of its ops)
 *     +-----------------+                +-----------+
 *              |
 *              v   cb(arg, KP_OP_WAKE | EXPIRE | HANGUP | SHUTDOWN | CLOSED)
 *         the owner re-checks: done (it answered) or wait on
 *
 * A key is a short byte string naming what wakes operations: a partition
 * (topic id + index), a group (its id), or anything else a caller builds
 * with kp_watch_key_*; waking a key touches only the operations watching
 * it. Every operation also watches its connection, so that closing a
 * connection reaches whatever it had parked (kp_purgatory_conn_closed).
 *
 * Callbacks never run inside park or wake: wake, hangup and expiry are
 * delivered from the event loop (libevent timers made active), so an
 * owner may wake keys while it holds its own state. Only
 * kp_purgatory_conn_closed and kp_purgatory_free call back at once.
 * Not thread-safe: everything runs on the broker's event loop.
 */
#ifndef KP_BROKER_PURGATORY_H
#define KP_BROKER_PURGATORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/codec.h"
#include "util/error.h"

struct event_base;

typedef struct kp_purgatory kp_purgatory;

/* Why an operation's callback runs. */
enum kp_op_reason {
	KP_OP_WAKE,     /* a key it watches was woken: re-check the condition */
	KP_OP_EXPIRE,   /* its deadline passed: answer with what there is */
	KP_OP_HANGUP,   /* its client half-closed: answer now if it can be answered */
	KP_OP_SHUTDOWN, /* the broker stops: answer now */
	KP_OP_CLOSED,   /* its connection is closed: free without answering */
};

/*
 * kp_op_cb - the owner's callback. Returns true when the operation is
 * finished (the owner answered it or freed it; the purgatory forgets it),
 * false to keep waiting (honoured only for KP_OP_WAKE and KP_OP_HANGUP;
 * for the other reasons the operation is forgotten whatever it returns).
 */
typedef bool (*kp_op_cb)(void *arg, enum kp_op_reason why);

/* The most bytes of a watch key (a group id longer than this is hashed down). */
#define KP_WATCH_KEY_MAX 64

/* What wakes operations: a kind byte and up to KP_WATCH_KEY_MAX-1 bytes. */
struct kp_watch_key {
	uint8_t len;
	uint8_t bytes[KP_WATCH_KEY_MAX];
};

/* kp_watch_key_partition - the key of partition `partition` of topic `topic_id`. */
void kp_watch_key_partition(struct kp_watch_key *k, const kp_uuid *topic_id, int32_t partition);
/* kp_watch_key_image - the key woken each time a cluster member applies metadata to its image. */
void kp_watch_key_image(struct kp_watch_key *k);
/*
 * kp_watch_key_group - the key of group `group_id` (NUL-terminated); ids
 * longer than fit are reduced to their length and a 64-bit FNV-1a hash,
 * so two long ids may share a key (a spurious wake-up, never a lost one).
 */
void kp_watch_key_group(struct kp_watch_key *k, const char *group_id);

/*
 * kp_purgatory_new - an empty purgatory whose timers run on `base`.
 * Returns NULL when memory runs out. Free with kp_purgatory_free.
 */
kp_purgatory *kp_purgatory_new(struct event_base *base);

/*
 * kp_purgatory_free - answer every operation still parked with
 * KP_OP_SHUTDOWN (at once), then free the purgatory. NULL is allowed.
 */
void kp_purgatory_free(kp_purgatory *p);

/*
 * kp_purgatory_park - park an operation: `cb(arg, why)` runs when one of
 * the `nkeys` keys (copied) is woken, when `timeout_ms` (>= 0) passes,
 * or when connection `conn` (an opaque pointer, may be NULL) hangs up or
 * closes. `arg` stays the owner's. Returns 0, or -1 with KP_ENOMEM.
 */
int kp_purgatory_park(kp_purgatory *p, const void *conn, int64_t timeout_ms,
		      const struct kp_watch_key *keys, size_t nkeys, kp_op_cb cb, void *arg,
		      kp_error *err);

/*
 * kp_purgatory_wake - deliver KP_OP_WAKE, from the event loop, to every
 * operation watching `key`; touches no other operation. Returns how many
 * were woken.
 */
size_t kp_purgatory_wake(kp_purgatory *p, const struct kp_watch_key *key);

/* kp_purgatory_hangup - deliver KP_OP_HANGUP, from the event loop, to `conn`'s operations. */
void kp_purgatory_hangup(kp_purgatory *p, const void *conn);

/*
 * kp_purgatory_conn_closed - call `conn`'s operations with KP_OP_CLOSED
 * now and forget them (their owners free them without answering).
 */
void kp_purgatory_conn_closed(kp_purgatory *p, const void *conn);

/* kp_purgatory_shutdown - call every operation with KP_OP_SHUTDOWN now and forget it. */
void kp_purgatory_shutdown(kp_purgatory *p);

/* kp_purgatory_count - how many operations are parked. */
size_t kp_purgatory_count(const kp_purgatory *p);

#endif
