/*
 * group_coord.c - the broker's glue to lib/group: the coordinator object,
 * its tick timer, and waking the purgatory key of a group whose parked
 * JoinGroup/SyncGroup requests were completed.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "broker/internal.h"
#include "util/clock.h"

int64_t kp_broker_group_now(void)
{
	return kp_wall_ms();
}

/* notify - the coordinator completed operations of group_id: wake what waits on it. */
static void notify(void *arg, const char *group_id)
{
	struct kp_broker *b = arg;
	struct kp_watch_key k;

	kp_watch_key_group(&k, group_id);
	kp_purgatory_wake(b->purgatory, &k);
}

/* topic_partitions / topics_each - the metadata lib/group's server-side assignors read. */
static int32_t topic_partitions(void *arg, const char *topic)
{
	struct kp_broker *b = arg;
	struct kp_topic *t = kp_topics_find(b->topics, topic);

	return t ? t->partition_count : -1;
}

static void topics_each(void *arg, void (*fn)(void *fn_arg, const char *topic), void *fn_arg)
{
	struct kp_broker *b = arg;

	for (size_t i = 0; i < kp_topics_count(b->topics); i++)
		fn(fn_arg, kp_topics_at(b->topics, i)->name);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kp_broker *b = arg;

	kp_group_tick(b->groups, kp_broker_group_now());
}

/* seed - member ids must differ across restarts: mix time and pid. */
static uint64_t seed(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000000007ULL) ^ ((uint64_t)ts.tv_nsec << 20) ^
	       (uint64_t)getpid();
}

int kp_broker_groups_start(struct kp_broker *b, kp_error *err)
{
	struct kp_group_config cfg = b->cfg.group;
	struct timeval tv = { 0, KP_GROUP_TICK_MS * 1000 };

	cfg.notify = notify;
	cfg.notify_arg = b;
	cfg.metadata_arg = b;
	cfg.topic_partitions = topic_partitions;
	cfg.topics_each = topics_each;
	cfg.seed = seed();
	kp_group_log_hooks(&cfg);
	if (!(b->groups = kp_group_coord_new(&cfg)))
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	b->group_tick = event_new(b->base, -1, EV_PERSIST, tick_cb, b);
	if (!b->group_tick || event_add(b->group_tick, &tv) < 0)
		return kp_error_set(err, KP_EIO, "cannot start the group coordinator's timer");
	return 0;
}

void kp_broker_groups_free(struct kp_broker *b)
{
	if (b->group_tick)
		event_free(b->group_tick);
	b->group_tick = NULL;
	kp_group_coord_free(b->groups);
	b->groups = NULL;
}

const char *kp_broker_client_host(struct kp_request *rq)
{
	const char *peer = kp_net_conn_peer(rq->conn);
	const char *colon = strrchr(peer, ':');
	size_t n = colon ? (size_t)(colon - peer) : strlen(peer);
	char *out = kp_request_alloc(rq, n + 2);

	if (!out)
		return "";
	out[0] = '/';
	memcpy(out + 1, peer, n);
	out[n + 1] = '\0';
	return out;
}
