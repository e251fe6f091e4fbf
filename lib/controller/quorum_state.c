/*
 * quorum_state.c - the quorum-state file (Kafka's FileQuorumStateStore
 * and QuorumStateDataJsonConverter); see quorum_state.h.
 */
#include "controller/quorum_state.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <jansson.h>

#include "util/file.h"

/* get_int - an integer member of `o`, or `def` when absent; false when present but not a number. */
static bool get_int(json_t *o, const char *key, int64_t def, int64_t *out)
{
	json_t *v = json_object_get(o, key);

	if (!v) {
		*out = def;
		return true;
	}
	if (!json_is_integer(v))
		return false;
	*out = json_integer_value(v);
	return true;
}

int kp_quorum_state_read(const char *dir, struct kp_raft_quorum_state *st, kp_error *err)
{
	char path[PATH_MAX];
	json_error_t jerr;
	int64_t version, epoch, leader, voted;
	json_t *o;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/%s", dir, KP_QUORUM_STATE_FILE);
	if (access(path, F_OK) < 0)
		return errno == ENOENT ? 0 : kp_error_errno(err, "cannot read %s", path);
	/* Kafka reads the first line only; the file is one line */
	o = json_load_file(path, JSON_DISABLE_EOF_CHECK, &jerr);
	if (!o)
		return kp_error_set(err, KP_ECORRUPT, "%s: %s", path, jerr.text);
	if (!json_is_object(o) || !json_object_get(o, "data_version") ||
	    !get_int(o, "data_version", -1, &version) || version < 0 || version > 1) {
		kp_error_set(err, KP_ECORRUPT, "%s: missing or unsupported data_version", path);
		goto out;
	}
	if (!get_int(o, "leaderEpoch", -1, &epoch) || !get_int(o, "leaderId", -1, &leader) ||
	    !get_int(o, "votedId", -1, &voted) || epoch > INT32_MAX || leader > INT32_MAX ||
	    voted > INT32_MAX) {
		kp_error_set(err, KP_ECORRUPT, "%s: bad leaderEpoch, leaderId or votedId", path);
		goto out;
	}
	st->epoch = epoch < 0 ? 0 : (int32_t)epoch;
	st->leader_id = leader < 0 ? KP_RAFT_NO_ID : (int32_t)leader;
	st->voted_id = voted < 0 ? KP_RAFT_NO_ID : (int32_t)voted;
	rc = 1;
out:
	json_decref(o);
	return rc;
}

/* state_json - the data_version 0 object for `st`; NULL when out of memory. */
static json_t *state_json(const struct kp_raft_quorum_state *st, const int32_t *voters, int n)
{
	json_t *o = json_object(), *list = json_array();

	if (!o || !list)
		goto fail;
	for (int i = 0; i < n; i++)
		if (json_array_append_new(list, json_pack("{s:i}", "voterId", (json_int_t)voters[i])) < 0)
			goto fail;
	/* key order as Kafka's converter writes them */
	if (json_object_set_new(o, "clusterId", json_string("")) < 0 ||
	    json_object_set_new(o, "leaderId", json_integer(st->leader_id)) < 0 ||
	    json_object_set_new(o, "leaderEpoch", json_integer(st->epoch)) < 0 ||
	    json_object_set_new(o, "votedId", json_integer(st->voted_id)) < 0 ||
	    json_object_set_new(o, "appliedOffset", json_integer(0)) < 0 ||
	    json_object_set(o, "currentVoters", list) < 0 ||
	    json_object_set_new(o, "data_version", json_integer(0)) < 0)
		goto fail;
	json_decref(list);
	return o;
fail:
	json_decref(list);
	json_decref(o);
	return NULL;
}

int kp_quorum_state_write(const char *dir, const struct kp_raft_quorum_state *st,
			  const int32_t *voters, int n, kp_error *err)
{
	char path[PATH_MAX];
	json_t *o = state_json(st, voters, n);
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	int rc;

	json_decref(o);
	if (!text)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	snprintf(path, sizeof(path), "%s/%s", dir, KP_QUORUM_STATE_FILE);
	rc = kp_write_file_atomic(path, text, err);
	free(text);
	return rc;
}
