/*
 * kproduce_input.c - records from standard input; see kproduce_input.h.
 */
#include "kproduce_input.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

void kp_input_init(struct kp_input *in, int fd, const uint8_t *delim, size_t dlen)
{
	*in = (struct kp_input){ .fd = fd, .delim = delim, .dlen = dlen };
}

void kp_input_free(struct kp_input *in)
{
	free(in->buf);
	in->buf = NULL;
}

/*
 * Wait until the input is readable. When nothing arrives within
 * linger.ms, first flush `p`, then wait without a limit. Returns 0, or -1
 * with the flush failure in `err`.
 */
static int input_wait(struct kp_input *in, kp_producer *p, kp_error *err)
{
	struct pollfd pfd = { .fd = in->fd, .events = POLLIN };

	if (poll(&pfd, 1, kp_producer_linger_ms(p)) != 0)
		return 0;
	if (kp_producer_flush(p, err) < 0)
		return -1;
	poll(&pfd, 1, -1);
	return 0;
}

/* Make room for at least 64 KiB more input, keeping the unread bytes. */
static void input_room(struct kp_input *in)
{
	if (in->start > 0) {
		memmove(in->buf, in->buf + in->start, in->end - in->start);
		in->end -= in->start;
		in->scanned -= in->start;
		in->start = 0;
	}
	if (in->cap - in->end < 65536) {
		size_t ncap = in->cap ? in->cap * 2 : 1 << 20;
		uint8_t *nb = realloc(in->buf, ncap);
		if (!nb)
			kp_die("out of memory for a record of %zu bytes", in->end);
		in->buf = nb;
		in->cap = ncap;
	}
}

/* The next delimiter in the unread bytes, or NULL; remembers how far it looked. */
static uint8_t *find_delim(struct kp_input *in)
{
	size_t from = in->scanned > in->start ? in->scanned : in->start;
	uint8_t *d;

	if (!in->buf || in->end - from < in->dlen)
		return NULL;
	d = in->dlen == 1 ? memchr(in->buf + from, in->delim[0], in->end - from)
			  : memmem(in->buf + from, in->end - from, in->delim, in->dlen);
	if (!d)
		in->scanned = in->end - (in->dlen - 1);
	return d;
}

int kp_input_next(struct kp_input *in, kp_producer *p, uint8_t **rec, size_t *len, kp_error *err)
{
	for (;;) {
		uint8_t *d = find_delim(in);
		if (d || (in->eof && in->start < in->end)) {
			*rec = in->buf + in->start;
			*len = d ? (size_t)(d - *rec) : in->end - in->start;
			in->start += *len + (d ? in->dlen : 0);
			in->scanned = in->start;
			return 1;
		}
		if (in->eof)
			return 0;
		input_room(in);
		if (input_wait(in, p, err) < 0)
			return -2;
		ssize_t n = read(in->fd, in->buf + in->end, in->cap - in->end);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			in->eof = true;
		in->end += (size_t)n;
	}
}
