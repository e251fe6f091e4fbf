/*
 * kgroups - list, describe, reset and delete Kafka consumer groups.
 *
 * USAGE
 *   kgroups list [-b HOST:PORT[,...]] [-s STATE[,...]] [--json]
 *   kgroups describe [--members|--state] [-a | GROUP...]
 *   kgroups reset-offsets (-t TOPIC[:P,...]... | --all-topics) --to-... [--execute] GROUP...
 *   kgroups delete GROUP...
 *   kgroups delete-offsets -t TOPIC[:P,...]... GROUP...
 *   kgroups lag [-w INTERVAL] [-c COUNT] [GROUP...]
 * (every verb also takes -b, -F, -X and --json; `kgroups VERB -h` has its options)
 *
 * One file per verb (kgroups_VERB.c); the shared start-up, scopes and
 * per-group offsets are in kgroups_common.c, kgroups_scope.c,
 * kgroups_group.c and kgroups_time.c; the protocol is
 * lib/client/admin_groups.h.
 *
 * EXIT CODES
 *   0  done
 *   1  failure (no broker, no such group, a group with members for reset-offsets)
 *   2  bad usage
 *   3  of several groups (or partitions) named, some failed and the others were done
 */
#include "kgroups.h"

static const struct kp_verb verbs[] = {
	{ "list", &kg_list_cmd, kg_list },
	{ "describe", &kg_describe_cmd, kg_describe },
	{ "reset-offsets", &kg_reset_cmd, kg_reset },
	{ "delete", &kg_delete_cmd, kg_delete },
	{ "delete-offsets", &kg_delete_offsets_cmd, kg_delete_offsets },
	{ "lag", &kg_lag_cmd, kg_lag },
	{ NULL, NULL, NULL },
};

static const struct kp_prog prog = {
	"kgroups", "list, describe, reset and delete Kafka consumer groups", verbs,
};

int main(int argc, char **argv)
{
	return kp_prog_main(&prog, argc, argv);
}
