/*
 * internal.h - what the broker's files share: the broker object, one
 * in-flight request, and the API handler table. Not installed.
 *
 * A request's life: net hands dispatch.c a frame; dispatch decodes the
 * header and body into the request's arena and calls the API's handler;
 * the handler fills a response struct (in the arena) and calls
 * kp_request_respond, which encodes it, queues it on the connection and
 * frees the request. A handler that must wait (long-poll Fetch) keeps the
 * request and responds later; the connection holds later requests.
 */
#ifndef KP_BROKER_INTERNAL_H
#define KP_BROKER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/broker.h"
#include "broker/config.h"
#include "broker/purgatory.h"
#include "broker/session.h"
#include "broker/topics.h"
#include "group/group.h"
#include "net/net.h"
#include "protocol/codec.h"
#include "protocol/errors.h"
#include "util/arena.h"

struct event_base;
struct kp_record;
struct event;

struct kp_broker {
	struct kp_broker_config cfg;
	struct event_base *base;
	kp_net *net;
	kp_topics *topics;
	char cluster_id[32];
	kp_purgatory *purgatory;      /* parked requests (long-poll fetches) */
	struct event *sigint, *sigterm;
	bool stopping;
	struct kp_flusher *flusher;   /* the fsync thread of the flush policy, or NULL (none set) */
	struct event *flush_done;     /* its completion pipe (kp_flusher_poll) */
	struct event *flush_tick;     /* log.flush.interval.ms checks, or NULL */
	kp_group_coord *groups;       /* the group coordinator (lib/group) */
	struct event *group_tick;     /* its deadlines, checked every KP_GROUP_TICK_MS */
	struct kp_broker_cluster *cluster; /* the KRaft cluster membership (cluster.h) */
	struct kp_replicas *replicas; /* follower fetchers and the ISR timer (replica.h) */
	struct event *producer_expiry; /* producer.id.expiration.check.interval.ms (producer_expiry.c) */
	struct kp_broker_cleaner *cleaner; /* the log cleaner (log_cleaner.c), or NULL when disabled */
	struct event *retention;       /* log.retention.check.interval.ms (log_retention.c) */
	struct event *dir_failure;     /* takes failed log dirs offline (log_dir_failure.c) */
	uint32_t dirs_failing;         /* bit i: log dir i failed, not yet taken offline */
	bool failed;                  /* kp_broker_fail: kp_broker_run returns -1 with `fatal` */
	kp_error fatal;
	kp_config *props;             /* the settings as given (DescribeConfigs' static configs) */
};

/* How often the group coordinator's deadlines are checked (session and rebalance timeouts). */
#define KP_GROUP_TICK_MS 100

struct kp_request {
	struct kp_broker *broker;
	kp_net_conn *conn;
	struct kp_session *session; /* the connection's (borrowed) */
	uint8_t *frame; /* owned; request kp_bytes point into it */
	size_t len;
	kp_arena arena; /* the decoded request and the response */
	struct kp_request_header hdr;
	int16_t api_key, version;
	void *body;     /* decoded request body */
};

typedef int (*kp_api_handler)(struct kp_request *rq, kp_error *err);

struct kp_api_entry {
	int16_t api_key;
	int16_t min_version, max_version; /* served; max clamped to the schema's */
	kp_api_handler handler;
};

/* kp_api_entries / kp_api_entry_count - the dispatch table, sorted by key. */
extern const struct kp_api_entry kp_api_entries[];
extern const int kp_api_entry_count;

/*
 * kp_api_served - the entry for `api_key` served by `b` with its max
 * clamped to the schema, or NULL.
 */
const struct kp_api_entry *kp_api_served(const struct kp_broker *b, int16_t api_key,
					 struct kp_api_entry *out);

/*
 * kp_broker_listen - bind every listener of b->net (once the broker has
 * caught up with the metadata log). Returns
 * 0, or -1 with KP_EIO.
 */
int kp_broker_listen(struct kp_broker *b, kp_error *err);

/*
 * kp_broker_log_failed - an I/O error (KP_EIO `why`) in the log whose
 * partition directory is `path` (Kafka's LogDirFailureChannel): its log
 * dir is taken offline with all its partitions (KAFKA_STORAGE_ERROR) from
 * the loop, soon after, not within the caller, which may still hold the
 * log; the other dirs keep serving; when none is left the broker stops
 * with an error, as Kafka halts. Errors other than KP_EIO are ignored.
 * Safe to call any number of times. kp_broker_log_failed_cb is the same
 * as a kp_flusher_error_cb.
 */
void kp_broker_log_failed(struct kp_broker *b, const char *path, const kp_error *why);
void kp_broker_log_failed_cb(void *broker, const char *path, const kp_error *why);

/*
 * kp_broker_fail - a fatal error (the metadata log failed, the listeners
 * could not open, registration timed out): log it at ERROR, remember it
 * for kp_broker_run (which then returns -1) and stop.
 */
void kp_broker_fail(struct kp_broker *b, const kp_error *err);

/*
 * kp_broker_on_frame / kp_broker_on_hangup / kp_broker_on_close - the net
 * callbacks (dispatch.c): decode and dispatch one frame; answer the parked
 * fetch of a client that hung up; drop a closing connection's parked fetch.
 */
int kp_broker_on_frame(kp_net_conn *conn, uint8_t *frame, size_t len, void *opaque, kp_error *err);
void kp_broker_on_hangup(kp_net_conn *conn, void *opaque);
void kp_broker_on_close(kp_net_conn *conn, void *opaque);
/* kp_broker_on_open - the net callback making a connection's session (dispatch.c). */
void *kp_broker_on_open(kp_net_conn *conn, const char *listener, int proto, void *opaque);

/*
 * kp_request_respond - encode `resp` (the response struct of rq's API) at
 * rq's version, queue it on the connection and free `rq`. On an encoding
 * failure the request is answered with nothing and the failure logged at
 * ERROR (the client will time out), since the broker cannot do better.
 */
void kp_request_respond(struct kp_request *rq, const void *resp);

/*
 * KP_RESPOND(rq, API, resp) - kp_request_respond with the response type
 * checked twice: `resp` must point to a KP_API_<API>_RESPONSE (the struct
 * the generator names for API; another struct does not compile under
 * -Werror), and rq must be a request of KP_API_<API> (else the connection
 * is closed with a logged reason by kp_request_respond_api).
 */
#define KP_RESPOND(rq, API, resp)                                              \
	do {                                                                   \
		const KP_API_##API##_RESPONSE *kp_typed_resp_ = (resp);        \
		kp_request_respond_api((rq), KP_API_##API, kp_typed_resp_);    \
	} while (0)

/* kp_request_respond_api - kp_request_respond after checking rq is a request of `api_key`. */
void kp_request_respond_api(struct kp_request *rq, int16_t api_key, const void *resp);
/* kp_request_finish - free `rq` and let its connection go on without a response. */
void kp_request_finish(struct kp_request *rq);
/* kp_request_free - free `rq` without touching its connection. */
void kp_request_free(struct kp_request *rq);

/* kp_request_alloc - `n` zeroed bytes in rq's arena; NULL when memory runs out. */
void *kp_request_alloc(struct kp_request *rq, size_t n);

/*
 * kp_broker_auto_create - find topic `name`, creating it with
 * num.partitions when `create` and auto.create.topics.enable allow it.
 * Returns the topic, or NULL with *error_code set (UNKNOWN_TOPIC_OR_PARTITION,
 * INVALID_TOPIC_EXCEPTION, or KAFKA_STORAGE_ERROR for a storage failure).
 */
struct kp_topic *kp_broker_auto_create(struct kp_broker *b, const char *name, bool create,
				       int16_t *error_code);

/*
 * kp_broker_create_topic - ask the active controller to create `name`
 * with `partitions` (forward.h; the replication factor is
 * offsets.topic.replication.factor for __consumer_offsets, else
 * default.replication.factor). Returns NULL with LEADER_NOT_AVAILABLE in
 * *error_code: the topic arrives with the metadata image.
 */
struct kp_topic *kp_broker_create_topic(struct kp_broker *b, const char *name, int32_t partitions,
					int16_t *error_code);

/*
 * kp_broker_wake_partition - records were appended to topic/partition:
 * wake the requests parked on it (long-poll fetches), from the event loop.
 */
void kp_broker_wake_partition(struct kp_broker *b, const struct kp_topic *topic, int32_t partition);

/* A partition an acks=all produce waits for (produce_wait.c). */
struct kp_produce_wait_item {
	kp_uuid topic_id;
	int32_t partition;
	int64_t required_offset; /* the high watermark must reach it: last offset appended + 1 */
	void *out;               /* its struct kp_produce_response_partition_produce_response */
};

/*
 * kp_produce_wait - acks=all (Kafka's DelayedProduce): answer rq with
 * `resp` (both in rq's arena) once each of the `n` partitions of `items`
 * (in rq's arena) has a high watermark at or past its required offset,
 * each then NONE, or NOT_ENOUGH_REPLICAS_AFTER_APPEND when its maximal
 * ISR fell below min.insync.replicas, or NOT_LEADER_OR_FOLLOWER when
 * this broker no longer leads it; the partitions still short when the
 * request's timeout_ms passes (or the broker stops) answer
 * REQUEST_TIMED_OUT. Answers at once when all are done already, else
 * parks rq in the purgatory on the partitions' keys. Returns 0, or -1
 * with KP_ENOMEM.
 */
int kp_produce_wait(struct kp_request *rq, void *resp, struct kp_produce_wait_item *items,
		    size_t n, kp_error *err);

/* The API handlers, one file each. */
int kp_handle_api_versions(struct kp_request *rq, kp_error *err);
int kp_handle_metadata(struct kp_request *rq, kp_error *err);
int kp_handle_produce(struct kp_request *rq, kp_error *err);
int kp_handle_fetch(struct kp_request *rq, kp_error *err);
int kp_handle_list_offsets(struct kp_request *rq, kp_error *err);
int kp_handle_offset_for_leader_epoch(struct kp_request *rq, kp_error *err);
int kp_handle_init_producer_id(struct kp_request *rq, kp_error *err);
int kp_handle_describe_log_dirs(struct kp_request *rq, kp_error *err);
int kp_handle_delete_records(struct kp_request *rq, kp_error *err);

/*
 * kp_broker_producer_expiry_start - every
 * producer.id.expiration.check.interval.ms, forget in every hosted log the
 * idempotent producers idle for producer.id.expiration.ms (Kafka's
 * removeExpiredProducers). Returns 0 or -1 (KP_EIO: no timer).
 */
int kp_broker_producer_expiry_start(struct kp_broker *b, kp_error *err);

/*
 * kp_broker_log_cleaner_start / _free - the log cleaner (log_cleaner.c):
 * unless log.cleaner.enable is false or log.cleaner.threads 0, a cleaner
 * thread and, every log.cleaner.backoff.ms, the dirtiest compacted log
 * hosted here cleaned (Kafka's LogCleaner). Start returns 0 or -1 (KP_EIO,
 * KP_ENOMEM); free (NULL cleaner is fine) aborts a cleaning in progress.
 */
int kp_broker_log_cleaner_start(struct kp_broker *b, kp_error *err);
void kp_broker_log_cleaner_free(struct kp_broker *b);

/*
 * kp_produce_validate - a leader's checks and rewrites of one partition's
 * batches (data[0..len), modified in place) for topic `t`'s configs
 * (produce_validate.c, Kafka's LogValidator): INVALID_RECORD for a record
 * without a key in a compacted topic; with LogAppendTime every batch's
 * max timestamp becomes `now_ms` and *log_append_time_ms gets it (else
 * -1). Batches that fail their CRC are left alone for kp_log_append to
 * refuse. Returns a Kafka error code, KP_ERR_NONE to append.
 */
int16_t kp_produce_validate(const struct kp_topic *t, uint8_t *data, size_t len, int64_t now_ms,
			    int64_t *log_append_time_ms);

/*
 * kp_broker_retention_start - every log.retention.check.interval.ms run
 * kp_broker_retention_run (log_retention.c). Returns 0 or -1 with KP_EIO.
 */
int kp_broker_retention_start(struct kp_broker *b, kp_error *err);

/*
 * kp_broker_retention_run - one retention pass over every hosted log
 * (kp_log_retention below its high watermark; deletions logged at INFO,
 * failures at ERROR). Kafka's LogManager.cleanupLogs.
 */
void kp_broker_retention_run(struct kp_broker *b);
/* A KRaft cluster member's: forwarded to the controller, or answered from the image. */
int kp_handle_forwarded(struct kp_request *rq, kp_error *err);
int kp_handle_describe_cluster(struct kp_request *rq, kp_error *err);
int kp_handle_describe_configs(struct kp_request *rq, kp_error *err);
int kp_handle_describe_topic_partitions(struct kp_request *rq, kp_error *err);
int kp_handle_list_config_resources(struct kp_request *rq, kp_error *err);
/*
 * kp_request_wait_image - park `rq` until `pending(rq)` turns false after
 * the metadata image changes (kp_watch_key_image), `timeout_ms` passes or
 * the broker stops; then `answer(rq)` answers it as a handler would (-1
 * closes the connection). A closed connection frees rq unanswered. For
 * what a broker asked the controller for and waits to see (auto-created
 * topics, __consumer_offsets). Returns 0, or -1 with KP_ENOMEM.
 */
int kp_request_wait_image(struct kp_request *rq, int64_t timeout_ms,
			  bool (*pending)(struct kp_request *rq), kp_api_handler answer,
			  kp_error *err);

/*
 * kp_metadata_from_image - Metadata answered from the image
 * (metadata_image.c), for a cluster member. 0 or -1 with KP_ENOMEM.
 */
int kp_metadata_from_image(struct kp_request *rq, kp_error *err);

/* Kafka's internal topics (Topic.isInternal): __consumer_offsets, __transaction_state. */
bool kp_topic_name_internal(const char *name);

/*
 * Kafka's AclEntry.supportedOperations as bit fields (bit = AclOperation
 * code): TOPIC READ 3, WRITE 4, CREATE 5, DELETE 6, ALTER 7, DESCRIBE 8,
 * DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11; CLUSTER CREATE 5, ALTER 7,
 * DESCRIBE 8, CLUSTER_ACTION 9, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11,
 * IDEMPOTENT_WRITE 12. INT32_MIN: not asked for (KIP-430).
 */
#define KP_TOPIC_OPERATIONS 0x0df8
#define KP_CLUSTER_OPERATIONS 0x1fa0
#define KP_OPERATIONS_NOT_ASKED INT32_MIN

/* The group coordinator's handlers (group_*.c, find_coordinator.c, offset_*.c). */
int kp_handle_find_coordinator(struct kp_request *rq, kp_error *err);
int kp_handle_join_group(struct kp_request *rq, kp_error *err);
int kp_handle_sync_group(struct kp_request *rq, kp_error *err);
int kp_handle_heartbeat(struct kp_request *rq, kp_error *err);
int kp_handle_leave_group(struct kp_request *rq, kp_error *err);
int kp_handle_offset_commit(struct kp_request *rq, kp_error *err);
int kp_handle_offset_fetch(struct kp_request *rq, kp_error *err);
int kp_handle_offset_delete(struct kp_request *rq, kp_error *err);
int kp_handle_list_groups(struct kp_request *rq, kp_error *err);
int kp_handle_describe_groups(struct kp_request *rq, kp_error *err);
int kp_handle_delete_groups(struct kp_request *rq, kp_error *err);
/* KIP-848's consumer protocol (consumer_group.c). */
int kp_handle_consumer_group_heartbeat(struct kp_request *rq, kp_error *err);
int kp_handle_consumer_group_describe(struct kp_request *rq, kp_error *err);

/*
 * kp_broker_groups_start / kp_broker_groups_free - make the group
 * coordinator (group.* settings, notify waking the group's purgatory
 * key) and its tick timer on b's event loop; free both (NULL-safe
 * fields). Start returns 0, or -1 with KP_ENOMEM / KP_EIO.
 */
int kp_broker_groups_start(struct kp_broker *b, kp_error *err);
void kp_broker_groups_free(struct kp_broker *b);

struct kp_batch_builder;

/*
 * group_log.c / group_load.c - the coordinator's state in __consumer_offsets.
 * kp_group_log_partition_for: the partition of group_id among `partitions`
 * (abs(Java String.hashCode) % partitions, Kafka's partitionFor).
 * kp_group_log_topic: __consumer_offsets, created with
 * offsets.topic.num.partitions when first needed; NULL with *error
 * COORDINATOR_NOT_AVAILABLE when it cannot be.
 * kp_group_log_builder: an empty batch builder (NULL when out of memory).
 * kp_group_log_offset_record: add group_id's offset of topic/partition to bb
 * (o NULL: a tombstone); 0 or -1 with err.
 * kp_group_log_append: append bb's records to group_id's partition, as
 * Kafka's coordinator does with acks=-1: NOT_COORDINATOR when another
 * broker leads it, COORDINATOR_NOT_AVAILABLE when it is offline, its ISR
 * is below min.insync.replicas (NOT_ENOUGH_REPLICAS, nothing written) or
 * the write failed, else NONE; then *w (may be NULL) tells what the
 * answer must wait for (kp_request_respond_replicated), its
 * required_offset 0 when bb was empty.
 * kp_group_log_hooks: set lib/group's store/removed hooks to write records.
 * kp_group_log_load_partition / unload_partition: become / stop being the
 * coordinator of one partition's groups (replay its log / forget them), as
 * this broker gains or loses its leadership. Return 0 or -1 with err.
 */
int32_t kp_group_log_partition_for(const char *group_id, int32_t partitions);
struct kp_topic *kp_group_log_topic(struct kp_broker *b, int16_t *error);
struct kp_batch_builder *kp_group_log_builder(void);
int kp_group_log_offset_record(struct kp_batch_builder *bb, const char *group_id, const char *topic,
			       int32_t partition, const struct kp_group_offset *o, kp_error *err);
/* A write to __consumer_offsets: where it went and where it ends. */
struct kp_group_write {
	kp_uuid topic_id;        /* __consumer_offsets' */
	int32_t partition;
	int32_t leader_epoch;    /* the leader epoch it was appended in */
	int64_t required_offset; /* its last offset + 1: the high watermark must reach it */
};
int16_t kp_group_log_append(struct kp_broker *b, const char *group_id, struct kp_batch_builder *bb,
			    struct kp_group_write *w);
/*
 * kp_group_log_tail - the write a request must wait for whose records
 * lib/group's hooks wrote (SyncGroup's group metadata, KIP-848's group
 * state): group_id's partition up to its log end offset now, which covers
 * them and whatever came before. NONE with *w set, NOT_COORDINATOR when
 * another broker leads the partition, COORDINATOR_NOT_AVAILABLE when
 * __consumer_offsets or the partition is not there (it asks for no topic).
 */
int16_t kp_group_log_tail(struct kp_broker *b, const char *group_id, struct kp_group_write *w);
void kp_group_log_hooks(struct kp_group_config *cfg);

/*
 * kp_replicated_done - the answer of a request whose group write is
 * settled (kp_request_respond_replicated): `error` is NONE when the ISR
 * has the write, else the coordinator error of the failure. It must
 * answer rq (or close its connection and free it); `arg` is the caller's.
 */
typedef void (*kp_replicated_done)(struct kp_request *rq, void *arg, int16_t error);

/*
 * kp_request_respond_replicated - answer rq through `done` once the group
 * write `w` (from kp_group_log_append, copied) is replicated: the high
 * watermark of its __consumer_offsets partition reached its
 * required_offset (Kafka's coordinator writes with acks=-1). `done` gets
 * NONE then, or COORDINATOR_NOT_AVAILABLE when the maximal ISR fell below
 * min.insync.replicas or `timeout_ms` (offsets.commit.timeout.ms) passes
 * first, NOT_COORDINATOR when this broker stops leading the partition (a
 * new leader epoch too) or stops: the errors Kafka 4's
 * GroupCoordinatorService.normalizeException makes of NOT_ENOUGH_REPLICAS,
 * REQUEST_TIMED_OUT and NOT_LEADER_OR_FOLLOWER. Calls `done` before it
 * returns when the write is settled already (one replica), else parks rq
 * in the purgatory on the partition's key. A connection that closes
 * meanwhile frees rq without calling `done`: `arg` must live in rq's
 * arena or be freed with it. Returns 0, or -1 with KP_ENOMEM (rq is then
 * still the caller's).
 */
int kp_request_respond_replicated(struct kp_request *rq, const struct kp_group_write *w,
				  int64_t timeout_ms, kp_replicated_done done, void *arg,
				  kp_error *err);
/*
 * kp_group_log_mark - the log end offset of group_id's __consumer_offsets
 * partition now (kp_group_log_tail), taken before a lib/group call whose
 * store hooks may write; INT64_MAX when this broker does not lead the
 * partition or it is not there (no write can be waited for then).
 */
int64_t kp_group_log_mark(struct kp_broker *b, const char *group_id);
/*
 * kp_group_respond_written - answer rq through `done` once what lib/group's
 * hooks wrote for group_id is replicated: when the partition's log end
 * (kp_group_log_tail) is past `since` (a kp_group_log_mark from before
 * the call; -1 waits for whatever the partition holds, e.g. a write
 * another request made), as kp_request_respond_replicated with
 * offsets.commit.timeout.ms and its errors (COORDINATOR_NOT_AVAILABLE,
 * NOT_COORDINATOR), else at once with NONE; also at once when the
 * partition is not led here (nothing of this broker to wait for), which
 * with one replica is the behaviour without replication. Kafka 4's
 * CoordinatorRuntime completes a group operation once the high watermark
 * passes its records (and those before). `arg` as for
 * kp_request_respond_replicated (in rq's arena). Returns 0, or -1 with
 * KP_ENOMEM (rq is then still the caller's).
 */
int kp_group_respond_written(struct kp_request *rq, const char *group_id, int64_t since,
			     kp_replicated_done done, void *arg, kp_error *err);
/*
 * kp_group_log_record - add one coordinator record to bb: the key (struct
 * of kd at key version kv) and the value (vd at vv; value NULL makes a
 * tombstone), each prefixed by its int16 version. 0 or -1 with err.
 */
int kp_group_log_record(struct kp_batch_builder *bb, const struct kp_msg_desc *kd, int16_t kv,
			const void *key, const struct kp_msg_desc *vd, int16_t vv, const void *value,
			kp_error *err);
/*
 * kp_group_log_consumer_hooks / kp_group_log_replay_consumer - consumer
 * (KIP-848) groups' records (group_log_consumer.c): the cstore and
 * cremoved_member hooks, and the replay of key versions 3-8 (key `kr`
 * after its version, the record r). Replay returns 0, or -1 with err.
 */
void kp_group_log_consumer_hooks(struct kp_group_config *cfg);
int kp_group_log_replay_consumer(struct kp_broker *b, int16_t kv, kp_reader *kr,
				 const struct kp_record *r, kp_arena *a, kp_error *err);
int kp_group_log_load_partition(struct kp_broker *b, int32_t partition, kp_error *err);
void kp_group_log_unload_partition(struct kp_broker *b, int32_t partition);

/* kp_broker_group_now - the coordinator's clock: wall-clock milliseconds (offset timestamps). */
int64_t kp_broker_group_now(void);

/* kp_broker_client_host - "/HOST" of rq's peer, Kafka's client host form, in rq's arena. */
const char *kp_broker_client_host(struct kp_request *rq);

/* kp_api_versions_unsupported - answer an ApiVersions at a version we lack (error 35, v0 body). */
void kp_api_versions_unsupported(struct kp_request *rq);

#endif
