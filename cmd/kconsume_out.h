/*
 * kconsume_out.h - how kconsume writes records: the record as text (the
 * value, key DELIM value, a kcat -f format, or a JSON record) and, for
 * group mode, the output buffer that is written out between polls and
 * before every commit.
 */
#ifndef KP_CMD_KCONSUME_OUT_H
#define KP_CMD_KCONSUME_OUT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "client/group.h"
#include "client/record_format.h"
#include "record/records.h"
#include "util/buf.h"

/* How a record is written. */
struct kc_style {
	bool json;               /* -J: one JSON record a line */
	kp_record_format *fmt;   /* -f FORMAT, or NULL */
	const char *kdelim;      /* -k DELIM: key DELIM value, or NULL */
	kp_buf rdelim;           /* -D / -0: after each record; empty: "\n" */
};

/*
 * kc_render - append `rec` of `topic` partition `partition` to `out` as
 * `st` says. Exits 1 when memory runs out.
 */
void kc_render(const struct kc_style *st, const char *topic, int32_t partition,
	       const struct kp_record *rec, kp_buf *out);

/*
 * Group mode's output: a buffer written out between polls and before
 * every commit. When standard output is a pipe or socket it is written
 * with poll(2) in PIPE_BUF pieces, so that heartbeats (kp_member_tick)
 * keep flowing while the reader is slow.
 */
struct kc_out {
	kp_buf buf;
	bool chunked;                 /* stdout is a pipe or socket */
	bool dead;                    /* the reader went away */
	kp_member *group;
	volatile sig_atomic_t *stop;  /* 2: a second signal, give up unwritten output */
};

/*
 * kc_out_flush - write the whole buffer of `opaque` (a struct kc_out) to
 * standard output: the group's flush callback. Returns 0, or -1 when the
 * reader went away (->dead) or the writer gave up, so nothing is
 * committed. Exits 1 on other write errors.
 */
int kc_out_flush(void *opaque);

/* kc_out_check_reader - note (->dead) that standard output's reader has gone. */
void kc_out_check_reader(struct kc_out *o);

/*
 * kc_exit_status - what kconsume exits with when it ends well (done,
 * interrupted, or its reader gone): KP_EXIT_OK, or KP_EXIT_PARTIAL once
 * some -t topic was left out.
 */
extern int kc_exit_status;

/*
 * kc_check_output / kc_check_reader - for stdio output outside group
 * mode: exit quietly (kc_exit_status) when the reader has gone (EPIPE, or
 * poll(2) says so), exit 1 on other write errors.
 */
void kc_check_output(void);
void kc_check_reader(void);

#endif
