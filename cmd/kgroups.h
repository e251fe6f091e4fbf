/*
 * kgroups.h - what the files of kgroups (cmd/kgroups*.c) share: each verb's
 * entry point and option table, the start-up common to all verbs, a
 * group's offsets joined with its members and log end offsets (for
 * describe and lag), topic scopes (-t TOPIC[:P,...]) and time values.
 */
#ifndef KP_CMD_KGROUPS_H
#define KP_CMD_KGROUPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/admin_groups.h"
#include "common.h"
#include "common_client.h"

/* The verbs (kgroups_VERB.c): option table and entry point. */
extern const struct kp_cmd kg_list_cmd, kg_describe_cmd, kg_reset_cmd, kg_delete_cmd,
	kg_delete_offsets_cmd, kg_lag_cmd;
int kg_list(int argc, char **argv);
int kg_describe(int argc, char **argv);
int kg_reset(int argc, char **argv);
int kg_delete(int argc, char **argv);
int kg_delete_offsets(int argc, char **argv);
int kg_lag(int argc, char **argv);

/*
 * kg_args_init - kp_client_args_init, and allow.auto.create.topics=false
 * (looking up a group's topics must not create them; -X may still set it).
 */
void kg_args_init(struct kp_client_args *a);

/* kg_connect - kp_client_connect_any, then frees a->cfg (read by then). */
kp_cluster *kg_connect(struct kp_client_args *a);



/* kg_i64 - `v` in decimal in `buf` (24 bytes), or NULL (none: "-") when v < 0 and !neg_ok. */
const char *kg_i64(char *buf, int64_t v, bool neg_ok);

/* kg_error_name - Kafka's name for error `code` ("NON_EMPTY_GROUP"), or "OK" for 0. */
const char *kg_error_name(int code);

/* kg_result - the RESULT cell for a kp_error: Kafka's error name, else "FAILED". */
const char *kg_result(const kp_error *e);

/* One -t value: a topic and its partitions (none listed: all of them). */
struct kg_topic_arg {
	char *topic;
	int32_t *partitions;
	size_t npartitions;
};

struct kg_scope {
	struct kg_topic_arg *topics;
	size_t n;
};

/* kg_scope_add - parse "TOPIC" or "TOPIC:P[,P...]" into `s` (exits 2 when malformed). */
void kg_scope_add(struct kg_scope *s, const char *arg);

/* kg_scope_free - free what `s` holds. */
void kg_scope_free(struct kg_scope *s);

/*
 * kg_scope_partitions - the partitions `s` names: listed ones, else every
 * partition of the topic in the metadata, plus (with `committed`, may be
 * NULL) the group's committed partitions of the topic. Appends to *tps
 * (topics borrowed from `s` or `committed`), *n of them. Returns 0, or
 * -1 with the metadata error in `err` (e.g. KP_ENOTFOUND).
 */
int kg_scope_partitions(kp_cluster *c, const struct kg_scope *s,
			const struct kp_groups_offset *committed, size_t ncommitted,
			struct kp_tp **tps, size_t *n, kp_error *err);

/* A partition of a group as describe and lag show it. */
struct kg_row {
	const char *topic;                     /* borrowed from the group */
	int32_t partition;
	int64_t committed;                     /* -1: none */
	int64_t end;                           /* log end offset, -1 when unknown */
	const struct kp_groups_member *member; /* the member it is assigned to, or NULL */
};

/* A group with its committed offsets, members and each partition's lag. */
struct kg_group {
	struct kp_groups_desc desc;
	struct kp_groups_offset *offsets;
	size_t noffsets;
	struct kg_row *rows;   /* committed or assigned partitions, sorted by topic, partition */
	size_t nrows;
	int64_t total_lag;     /* sum of the known lags */
};

/*
 * kg_group_load - describe `group`, fetch its committed offsets and the
 * log end offsets of its partitions into *g (kg_group_free it, also after
 * a failure). Returns 0 or -1 with the error in `err`.
 */
int kg_group_load(kp_cluster *c, const char *group, struct kg_group *g, kp_error *err);

/* kg_group_free - free what `g` holds. */
void kg_group_free(struct kg_group *g);

/* kg_row_lag - a row's lag (log end offset - committed offset) in *lag; false when unknown. */
bool kg_row_lag(const struct kg_row *r, int64_t *lag);

/* kg_assignment - m's assignment as "topic:0,1;other:2", as Kafka's tool (malloc'd). */
char *kg_assignment(const struct kp_groups_member *m);

/* reset-offsets: where to (--to-*, --shift-by, --by-duration, --from-file). */
enum kg_to {
	KG_TO_NONE,
	KG_TO_EARLIEST,
	KG_TO_LATEST,
	KG_TO_OFFSET,   /* value: the offset */
	KG_TO_DATETIME, /* value: milliseconds since the epoch */
	KG_TO_SHIFT,    /* value: added to the committed offset */
	KG_TO_DURATION, /* value: milliseconds before now */
	KG_TO_FILE,     /* the offsets of a CSV plan */
};

/* One line of a CSV plan: [GROUP,]TOPIC,PARTITION,OFFSET. */
struct kg_csv_row {
	char *group; /* NULL: every group named */
	char *topic;
	int32_t partition;
	int64_t offset;
};

/* What reset-offsets was asked to do. */
struct kg_reset {
	int to;                  /* enum kg_to */
	int64_t value;
	struct kg_scope scope;   /* -t */
	bool all_topics;
	struct kg_csv_row *csv;  /* --from-file */
	size_t ncsv;
	const char *file;
};

/* A group's reset plan: for each partition the committed and the new offset. */
struct kg_plan {
	struct kp_tp *tps;        /* topics owned by the plan */
	int64_t *current;         /* -1: none committed */
	int64_t *target;
	size_t n;
};

/* kg_csv_read - read the CSV plan FILE into r->csv (exits 1 when unreadable or malformed). */
void kg_csv_read(struct kg_reset *r, const char *file);

/*
 * kg_plan_group - the plan for `group`: its partitions (from -t, or its committed ones with
 * --all-topics, or the CSV plan's) and their new offsets, as kafka-consumer-groups.sh
 * --reset-offsets computes them (absolute offsets are clamped into the log's offsets, with a
 * warning; a timestamp with no record after it gives the log end offset). Returns 0, or -1
 * with the error in `err` (*p kg_plan_free'd either way by the caller).
 */
int kg_plan_group(kp_cluster *c, const char *group, const struct kg_reset *r, struct kg_plan *p,
		  kp_error *err);

/* kg_plan_free - free what `p` holds. */
void kg_plan_free(struct kg_plan *p);

/*
 * Time values. kg_parse_datetime: "YYYY-MM-DDTHH:MM:SS[.sss][Z|+HH[:MM]|-HH[:MM]]" (no zone:
 * UTC, as Kafka's tools) into milliseconds since the epoch. kg_parse_duration: an ISO-8601
 * duration "PnDTnHnMn.nS" (java.time.Duration's form) into milliseconds. kg_parse_interval:
 * "N", "N.N", with an optional unit ms, s, m or h (default s) into milliseconds. Each returns
 * 0, or -1 when `s` is malformed.
 */
int kg_parse_datetime(const char *s, int64_t *ms);
int kg_parse_duration(const char *s, int64_t *ms);
int kg_parse_interval(const char *s, int64_t *ms);

/* kg_format_time - `ms` since the epoch as "YYYY-MM-DDTHH:MM:SSZ" in buf (32 bytes). */
const char *kg_format_time(int64_t ms, char *buf);

#endif
