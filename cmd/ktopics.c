/*
 * ktopics - create, list, describe, alter and delete Kafka topics, and
 * delete records from them.
 *
 * USAGE
 *   ktopics create [-p COUNT] [-r COUNT | -a ASSIGNMENT] [-c KEY=VALUE]...
 *                  [--if-not-exists] [--validate-only] TOPIC...
 *   ktopics list [--internal] [PATTERN]...
 *   ktopics describe [--internal] [--configs] [TOPIC]...
 *   ktopics alter [-p COUNT] [-c KEY=VALUE]... [-d KEY]... [--validate-only] TOPIC...
 *   ktopics delete [--if-exists] TOPIC...
 *   ktopics delete-records --before=OFFSET [-p PARTITION] TOPIC...
 * (every verb also takes -b, -F, -X and --json; `ktopics VERB -h` has its options)
 *
 * One file per verb (ktopics_VERB.c); the shared start-up and reporting
 * are in ktopics_common.c; the protocol is lib/client/admin_topics.h.
 *
 * EXIT CODES
 *   0  done
 *   1  failure (no broker, no such topic, the broker refused)
 *   2  bad usage
 *   3  of several topics (or partitions) named, some failed and the others were done
 */
#include "ktopics.h"

static const struct kp_verb verbs[] = {
	{ "create", &kt_create_cmd, kt_create },
	{ "list", &kt_list_cmd, kt_list },
	{ "describe", &kt_describe_cmd, kt_describe },
	{ "alter", &kt_alter_cmd, kt_alter },
	{ "delete", &kt_delete_cmd, kt_delete },
	{ "delete-records", &kt_delete_records_cmd, kt_delete_records },
	{ NULL, NULL, NULL },
};

static const struct kp_prog prog = {
	"ktopics", "create, list, describe, alter and delete Kafka topics", verbs,
};

int main(int argc, char **argv)
{
	return kp_prog_main(&prog, argc, argv);
}
