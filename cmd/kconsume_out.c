/*
 * kconsume_out.c - records as text and group mode's output buffer; see
 * kconsume_out.h.
 */
#include "kconsume_out.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/record_json.h"
#include "common.h"

void kc_render(const struct kc_style *st, const char *topic, int32_t partition,
	       const struct kp_record *rec, kp_buf *out)
{
	kp_error err;

	if (st->json) {
		if (kp_record_json_encode(topic, partition, rec, out, &err) < 0)
			kp_die("%s", err.msg);
	} else if (st->fmt) {
		kp_record_format_render(st->fmt, topic, partition, rec, out);
	} else {
		if (st->kdelim) {
			if (rec->key_len > 0)
				kp_buf_append(out, rec->key, (size_t)rec->key_len);
			kp_buf_append(out, st->kdelim, strlen(st->kdelim));
		}
		if (rec->value_len > 0)
			kp_buf_append(out, rec->value, (size_t)rec->value_len);
	}
	if (!st->fmt) {
		if (st->rdelim.len && !st->json)
			kp_buf_append(out, st->rdelim.data, st->rdelim.len);
		else
			kp_buf_append(out, "\n", 1);
	}
	if (out->oom)
		kp_die("out of memory");
}

int kc_exit_status = KP_EXIT_OK;

void kc_check_output(void)
{
	if (!ferror(stdout))
		return;
	if (errno == EPIPE)
		_Exit(kc_exit_status);
	kp_die("cannot write to standard output: %s", strerror(errno));
}

void kc_check_reader(void)
{
	struct pollfd pfd = { .fd = STDOUT_FILENO, .events = 0 };

	if (poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLERR | POLLHUP)))
		_Exit(kc_exit_status);
}

void kc_out_check_reader(struct kc_out *o)
{
	struct pollfd pfd = { .fd = STDOUT_FILENO, .events = 0 };

	if (poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLERR | POLLHUP)))
		o->dead = true;
}

/* Wait until stdout can take more, sending heartbeats meanwhile; false when it cannot. */
static bool out_wait(struct kc_out *o)
{
	struct pollfd pfd = { .fd = STDOUT_FILENO, .events = POLLOUT };
	kp_error err;
	int n;

	for (;;) {
		if (kp_member_tick(o->group, &err) < 0)
			kp_die("%s", err.msg);
		n = poll(&pfd, 1, 100);
		if (n > 0)
			return !(pfd.revents & (POLLERR | POLLHUP)) || (pfd.revents & POLLOUT);
		if (n < 0 && errno != EINTR)
			return false;
		if (*o->stop > 1) /* a second signal: give up the unwritten lines (not committed) */
			return false;
	}
}

int kc_out_flush(void *opaque)
{
	struct kc_out *o = opaque;
	size_t done = 0;

	if (o->buf.len == 0)
		return o->dead ? -1 : 0;
	while (done < o->buf.len && !o->dead) {
		size_t n = o->buf.len - done;
		if (o->chunked) {
			if (!out_wait(o)) {
				o->dead = true;
				break;
			}
			n = n > PIPE_BUF ? PIPE_BUF : n;
		}
		ssize_t w = write(STDOUT_FILENO, o->buf.data + done, n);
		if (w > 0)
			done += (size_t)w;
		else if (w < 0 && errno == EPIPE)
			o->dead = true;
		else if (w < 0 && errno != EINTR && errno != EAGAIN)
			kp_die("cannot write to standard output: %s", strerror(errno));
	}
	memmove(o->buf.data, o->buf.data + done, o->buf.len - done);
	o->buf.len -= done;
	return o->dead ? -1 : 0;
}
