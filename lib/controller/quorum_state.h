/*
 * quorum_state.h - the `quorum-state` file in the metadata log dir: the
 * Raft epoch, the known leader and the vote cast, as Kafka's
 * FileQuorumStateStore writes it (QuorumStateData as one line of JSON
 * plus "data_version"). We write data_version 0, the static-quorum
 * format (controller.quorum.voters), for example
 *
 *   {"clusterId":"","leaderId":1,"leaderEpoch":2,"votedId":-1,
 *    "appliedOffset":0,"currentVoters":[{"voterId":1},{"voterId":2}],"data_version":0}
 *
 * and read versions 0 and 1 (KIP-853's, with votedDirectoryId).
 */
#ifndef KP_CONTROLLER_QUORUM_STATE_H
#define KP_CONTROLLER_QUORUM_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "raft/raft.h"
#include "util/error.h"

#define KP_QUORUM_STATE_FILE "quorum-state"

/*
 * kp_quorum_state_read - read DIR/quorum-state into `st`. Returns 1 when
 * read, 0 when there is no file (st untouched), -1 with KP_EIO or
 * KP_ECORRUPT (not JSON, no data_version, a version other than 0 or 1).
 */
int kp_quorum_state_read(const char *dir, struct kp_raft_quorum_state *st, kp_error *err);

/*
 * kp_quorum_state_write - replace DIR/quorum-state with `st` and the
 * voters (`n` ids) durably: DIR/quorum-state.tmp written, fsynced and
 * renamed over it, then DIR fsynced. Returns 0 or -1 (KP_EIO, KP_ENOMEM).
 */
int kp_quorum_state_write(const char *dir, const struct kp_raft_quorum_state *st,
			  const int32_t *voters, int n, kp_error *err);

#endif
