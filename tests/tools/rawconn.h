/*
 * rawconn.h - a blocking plain-socket Kafka connection for the test tools
 * (kpwire, version_sweep), which must send what a client never would
 * (unknown versions, corrupt batches) and see exactly what comes back, so
 * they do not use lib/client. Header-only: each tool is one binary.
 *
 * Every function returns 0, or -1 with c->why set; a read or write that
 * finds the connection closed by the broker returns -2.
 */
#ifndef KP_TESTS_RAWCONN_H
#define KP_TESTS_RAWCONN_H

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "util/arena.h"
#include "util/buf.h"

#define RAW_IO_TIMEOUT_S 30
#define RAW_MAX_FRAME (64 * 1024 * 1024)

struct raw_conn {
	char host[256];
	int port;
	int fd;        /* -1 when closed */
	char why[512]; /* the last error */
};

__attribute__((format(printf, 2, 3), unused))
static int raw_fail(struct raw_conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, sizeof c->why, fmt, ap);
	va_end(ap);
	return -1;
}

__attribute__((unused))
static void raw_close(struct raw_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* raw_open - (re)connect to c->host:c->port with RAW_IO_TIMEOUT_S send and receive timeouts. */
__attribute__((unused))
static int raw_open(struct raw_conn *c)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	struct timeval tv = { RAW_IO_TIMEOUT_S, 0 };
	char port[16];
	int rc;

	raw_close(c);
	snprintf(port, sizeof port, "%d", c->port);
	if ((rc = getaddrinfo(c->host, port, &hints, &res)) != 0)
		return raw_fail(c, "cannot resolve %s: %s", c->host, gai_strerror(rc));
	for (ai = res; ai && c->fd < 0; ai = ai->ai_next) {
		c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (c->fd >= 0 && connect(c->fd, ai->ai_addr, ai->ai_addrlen) < 0)
			raw_close(c);
	}
	freeaddrinfo(res);
	if (c->fd < 0)
		return raw_fail(c, "cannot connect to %s:%d: %s", c->host, c->port, strerror(errno));
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	return 0;
}

static int raw_io_error(struct raw_conn *c, const char *what, ssize_t n)
{
	if (n == 0 || errno == ECONNRESET || errno == EPIPE)
		return raw_fail(c, "%s: connection closed by the broker", what), -2;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return raw_fail(c, "%s: no answer within %d s", what, RAW_IO_TIMEOUT_S);
	return raw_fail(c, "%s: %s", what, strerror(errno));
}

__attribute__((unused))
static int raw_write_all(struct raw_conn *c, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = send(c->fd, p, n, MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return raw_io_error(c, "sending", k);
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int raw_read_all(struct raw_conn *c, uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = recv(c->fd, p, n, 0);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return raw_io_error(c, "reading a response", k);
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* raw_read_frame - the next frame's body (size prefix removed), allocated in `arena`. */
__attribute__((unused))
static int raw_read_frame(struct raw_conn *c, kp_arena *arena, uint8_t **body, size_t *len)
{
	uint8_t hdr[4];
	uint32_t size;
	int rc;

	if ((rc = raw_read_all(c, hdr, 4)) < 0)
		return rc;
	size = kp_load_u32(hdr);
	if (size < 4 || size > RAW_MAX_FRAME)
		return raw_fail(c, "bad response size %u", size);
	if (!(*body = kp_arena_alloc(arena, size)))
		return raw_fail(c, "out of memory");
	*len = size;
	return raw_read_all(c, *body, size);
}

#endif
