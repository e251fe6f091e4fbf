/*
 * controller_channel.c - requests to the active controller; see
 * controller_channel.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/controller_channel.h"
#include "controller/raft_node.h"

struct kp_controller_channel {
	struct event_base *base;
	struct kp_broker_quorum_config q;
	struct kp_raft_node *raft;
	kp_outconn *conns[KP_BROKER_MAX_VOTERS]; /* per voter index, made on first use */
	int next;                                /* voter index to try while no leader is known */
	char client_id[64];
};

kp_controller_channel *kp_controller_channel_new(struct event_base *base,
						 const struct kp_broker_quorum_config *q,
						 struct kp_raft_node *raft, int32_t node_id,
						 kp_error *err)
{
	kp_controller_channel *ch;

	if (q->n_voters < 1) {
		kp_error_set(err, KP_EINVAL, "no controller.quorum.voters to reach the controller");
		return NULL;
	}
	ch = calloc(1, sizeof(*ch));
	if (!ch) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		return NULL;
	}
	ch->base = base;
	ch->q = *q;
	ch->raft = raft;
	snprintf(ch->client_id, sizeof(ch->client_id), "broker-%d-to-controller", (int)node_id);
	return ch;
}

void kp_controller_channel_free(kp_controller_channel *ch)
{
	if (!ch)
		return;
	for (int i = 0; i < KP_BROKER_MAX_VOTERS; i++)
		kp_outconn_free(ch->conns[i]);
	free(ch);
}

/* voter_index - the index of voter `id`, -1 if none. */
static int voter_index(const kp_controller_channel *ch, int32_t id)
{
	for (int i = 0; i < ch->q.n_voters; i++)
		if (ch->q.voters[i].id == id)
			return i;
	return -1;
}

/* target_index - the Raft leader's voter index when known, else the next voter in turn. */
static int target_index(const kp_controller_channel *ch)
{
	int i = ch->raft ? voter_index(ch, kp_raft_node_leader(ch->raft)) : -1;

	return i >= 0 ? i : ch->next % ch->q.n_voters;
}

/* conn_for - voter i's connection, made on first use. */
static kp_outconn *conn_for(kp_controller_channel *ch, int i, kp_error *err)
{
	struct kp_outconn_config cfg;

	if (ch->conns[i])
		return ch->conns[i];
	kp_outconn_config_init(&cfg);
	cfg.client_id = ch->client_id;
	cfg.backoff_max_ms = 1000;
	ch->conns[i] = kp_outconn_new(ch->base, ch->q.voters[i].host, ch->q.voters[i].port, &cfg, err);
	return ch->conns[i];
}

int kp_controller_channel_send(kp_controller_channel *ch, int16_t api_key, int16_t version,
			       const void *req, int64_t timeout_ms, kp_outconn_cb cb, void *arg,
			       int32_t *target, kp_error *err)
{
	int i = target_index(ch);
	kp_outconn *c = conn_for(ch, i, err);

	if (target)
		*target = ch->q.voters[i].id;
	if (!c)
		return -1;
	return kp_outconn_send(c, api_key, version, req, timeout_ms, cb, arg, err);
}

void kp_controller_channel_failed(kp_controller_channel *ch, int32_t target)
{
	int i = voter_index(ch, target);

	if (i >= 0 && i == ch->next % ch->q.n_voters)
		ch->next = (i + 1) % ch->q.n_voters;
}
