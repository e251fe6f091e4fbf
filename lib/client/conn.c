/*
 * conn.c - blocking client connection to one broker; see conn.h.
 *
 * Sockets are non-blocking underneath and every wait is a poll(2) with
 * the time left until the call's deadline, so no call blocks longer than
 * its timeout. Frames are a 4-byte big-endian size followed by the body
 * (protocol guide, "Requests and Responses").
 */
#include "client/conn.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "protocol/codec.h"
#include "protocol/errors.h"
#include "util/clock.h"
#include "util/buf.h"

#define MAX_FRAME (256 * 1024 * 1024)

struct api_range {
	int16_t min, max; /* max -1: not served */
};

struct kp_conn {
	int fd;
	bool broken;
	int32_t next_corr;
	char *client_id;
	char name[300];
	kp_buf out;
	struct api_range apis[128];
};

static int ms_left(int64_t deadline)
{
	int64_t left = deadline - kp_mono_ms();

	return left < 0 ? 0 : left > 1000000000 ? 1000000000 : (int)left;
}

int kp_hostport_parse(const char *s, size_t len, char *host, size_t host_size, int *port,
		      kp_error *err)
{
	const char *colon = NULL, *h = s;
	size_t hlen;
	char pbuf[8];
	char *end;
	long p;

	for (size_t i = len; i > 0; i--)
		if (s[i - 1] == ':') {
			colon = s + i - 1;
			break;
		}
	if (!colon || colon == s || (size_t)(s + len - colon - 1) >= sizeof pbuf ||
	    s + len == colon + 1)
		return kp_error_set(err, KP_EINVAL, "bad broker address '%.*s' (want HOST:PORT)",
				    (int)len, s);
	hlen = (size_t)(colon - s);
	if (h[0] == '[' && hlen >= 2 && h[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	memcpy(pbuf, colon + 1, (size_t)(s + len - colon - 1));
	pbuf[s + len - colon - 1] = '\0';
	p = strtol(pbuf, &end, 10);
	if (*end || p < 1 || p > 65535 || hlen == 0 || hlen >= host_size)
		return kp_error_set(err, KP_EINVAL, "bad broker address '%.*s' (want HOST:PORT)",
				    (int)len, s);
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (int)p;
	return 0;
}

/* Connect one address; 0, or -1 with errno set (ETIMEDOUT on timeout). */
static int connect_addr(const struct addrinfo *ai, int64_t deadline)
{
	int fd, soerr = 0, one = 1;
	socklen_t sl = sizeof soerr;
	struct pollfd pfd;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS)
			goto fail;
		pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
		int n;
		while ((n = poll(&pfd, 1, ms_left(deadline))) < 0 && errno == EINTR)
			;
		if (n == 0) {
			errno = ETIMEDOUT;
			goto fail;
		}
		if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			goto fail;
		if (soerr) {
			errno = soerr;
			goto fail;
		}
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
fail:
	soerr = errno;
	close(fd);
	errno = soerr;
	return -1;
}

static int connect_host(kp_conn *c, const char *host, int port, int64_t deadline, kp_error *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_family = AF_UNSPEC }, *res, *ai;
	char pstr[16];
	int rc, e = ECONNREFUSED;

	snprintf(pstr, sizeof pstr, "%d", port);
	rc = getaddrinfo(host, pstr, &hints, &res);
	if (rc)
		return kp_error_set(err, KP_ECONN, "cannot connect to %s: %s", c->name,
				    gai_strerror(rc));
	for (ai = res; ai; ai = ai->ai_next) {
		c->fd = connect_addr(ai, deadline);
		if (c->fd >= 0)
			break;
		e = errno;
		if (ms_left(deadline) == 0)
			break;
	}
	freeaddrinfo(res);
	if (c->fd < 0)
		return kp_error_set(err, e == ETIMEDOUT ? KP_ETIMEDOUT : KP_ECONN,
				    "cannot connect to %s: %s", c->name,
				    e == ETIMEDOUT ? "connection timed out" : strerror(e));
	return 0;
}

static int io_fail(kp_conn *c, int code, const char *what, kp_error *err)
{
	int e = errno;

	c->broken = true;
	if (code == KP_ETIMEDOUT)
		return kp_error_set(err, code, "%s %s timed out", what, c->name);
	return kp_error_set(err, KP_ECONN, "%s %s: %s", what, c->name,
			    e ? strerror(e) : "connection closed by broker");
}

static int write_all(kp_conn *c, const uint8_t *p, size_t n, int64_t deadline, kp_error *err)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLOUT };

	while (n > 0) {
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return io_fail(c, KP_ECONN, "cannot send to", err);
		int r = poll(&pfd, 1, ms_left(deadline));
		if (r == 0) {
			errno = 0;
			return io_fail(c, KP_ETIMEDOUT, "sending to", err);
		}
		if (r < 0 && errno != EINTR)
			return io_fail(c, KP_ECONN, "cannot send to", err);
	}
	return 0;
}

static int read_all(kp_conn *c, uint8_t *p, size_t n, int64_t deadline, kp_error *err)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };

	while (n > 0) {
		ssize_t r = recv(c->fd, p, n, 0);
		if (r > 0) {
			p += r;
			n -= (size_t)r;
			continue;
		}
		if (r == 0) {
			errno = 0;
			return io_fail(c, KP_ECONN, "lost connection to", err);
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return io_fail(c, KP_ECONN, "lost connection to", err);
		int pr = poll(&pfd, 1, ms_left(deadline));
		if (pr == 0) {
			errno = 0;
			return io_fail(c, KP_ETIMEDOUT, "waiting for a response from", err);
		}
		if (pr < 0 && errno != EINTR)
			return io_fail(c, KP_ECONN, "lost connection to", err);
	}
	return 0;
}

int kp_conn_send(kp_conn *c, int16_t api_key, int16_t version, const void *req, int32_t *corr,
		 int timeout_ms, kp_error *err)
{
	int32_t id = c->next_corr;

	if (c->broken)
		return kp_error_set(err, KP_ECONN, "connection to %s is broken", c->name);
	kp_buf_reset(&c->out);
	if (kp_request_encode(api_key, version, id, c->client_id, req, &c->out, err) < 0)
		return -1;
	if (c->out.oom)
		return kp_error_set(err, KP_ENOMEM, "out of memory encoding a request");
	if (write_all(c, c->out.data, c->out.len, kp_mono_ms() + timeout_ms, err) < 0)
		return -1;
	c->next_corr = id == INT32_MAX ? 0 : id + 1;
	if (corr)
		*corr = id;
	return 0;
}

/* Read one frame body into `arena`: *body, *len. */
static int read_frame(kp_conn *c, kp_arena *arena, uint8_t **body, size_t *len, int timeout_ms,
		      kp_error *err)
{
	int64_t deadline = kp_mono_ms() + timeout_ms;
	uint8_t hdr[4];
	uint32_t size;

	if (c->broken)
		return kp_error_set(err, KP_ECONN, "connection to %s is broken", c->name);
	if (read_all(c, hdr, 4, deadline, err) < 0)
		return -1;
	size = kp_load_u32(hdr);
	if (size < 4 || size > MAX_FRAME) {
		c->broken = true;
		return kp_error_set(err, KP_EPROTO, "bad response size %u from %s", size, c->name);
	}
	*body = kp_arena_alloc(arena, size);
	if (!*body)
		return kp_error_set(err, KP_ENOMEM, "out of memory reading a response");
	*len = size;
	return read_all(c, *body, size, deadline, err);
}

int kp_conn_recv(kp_conn *c, int16_t api_key, int16_t version, int32_t corr, kp_arena *arena,
		 void *resp, int timeout_ms, kp_error *err)
{
	uint8_t *body;
	size_t len;
	int32_t got;

	if (read_frame(c, arena, &body, &len, timeout_ms, err) < 0)
		return -1;
	if ((int32_t)kp_load_u32(body) != corr) {
		c->broken = true;
		return kp_error_set(err, KP_EPROTO, "response from %s has correlation id %d, expected %d",
				    c->name, (int)(int32_t)kp_load_u32(body), (int)corr);
	}
	if (kp_response_decode(api_key, version, body, len, arena, &got, resp, err) < 0) {
		c->broken = true;
		return -1;
	}
	return 0;
}

int kp_conn_call(kp_conn *c, int16_t api_key, int16_t version, const void *req, kp_arena *arena,
		 void *resp, int timeout_ms, kp_error *err)
{
	int32_t corr;

	if (kp_conn_send(c, api_key, version, req, &corr, timeout_ms, err) < 0)
		return -1;
	return kp_conn_recv(c, api_key, version, corr, arena, resp, timeout_ms, err);
}

/* ApiVersions at `version`; 1 if the broker says UNSUPPORTED_VERSION. */
static int api_versions_try(kp_conn *c, int16_t version, int timeout_ms, kp_error *err)
{
	struct kp_api_versions_request req;
	struct kp_api_versions_response resp;
	kp_arena arena;
	uint8_t *body;
	size_t len;
	int32_t corr, got;
	int rc = -1;

	kp_msg_init(&kp_api_versions_request_desc, &req);
	req.client_software_name = "kpipe";
	req.client_software_version = "0.1.0";
	kp_arena_init(&arena);
	if (kp_conn_send(c, KP_API_API_VERSIONS, version, &req, &corr, timeout_ms, err) < 0 ||
	    read_frame(c, &arena, &body, &len, timeout_ms, err) < 0)
		goto out;
	/* header v0 (correlation id), then error_code first in every version */
	if (len >= 6 && (int16_t)kp_load_u16(body + 4) == KP_ERR_UNSUPPORTED_VERSION && version > 0) {
		rc = 1;
		goto out;
	}
	if (kp_response_decode(KP_API_API_VERSIONS, version, body, len, &arena, &got, &resp, err) < 0)
		goto out;
	if (resp.error_code) {
		kp_error_kafka(err, resp.error_code, "ApiVersions from %s failed", c->name);
		goto out;
	}
	for (int32_t i = 0; i < resp.api_keys_count; i++) {
		const struct kp_api_versions_response_api_version *a = &resp.api_keys[i];
		if (a->api_key >= 0 && a->api_key < 128)
			c->apis[a->api_key] = (struct api_range){ a->min_version, a->max_version };
	}
	rc = 0;
out:
	kp_arena_free(&arena);
	return rc;
}

kp_conn *kp_conn_open(const char *host, int port, const char *client_id, int timeout_ms,
		      kp_error *err)
{
	int64_t deadline = kp_mono_ms() + timeout_ms;
	kp_conn *c = calloc(1, sizeof *c);
	int rc;

	if (!c) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		return NULL;
	}
	c->fd = -1;
	kp_buf_init(&c->out);
	for (size_t i = 0; i < 128; i++)
		c->apis[i] = (struct api_range){ -1, -1 };
	snprintf(c->name, sizeof c->name, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
	if (client_id && !(c->client_id = strdup(client_id))) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		goto fail;
	}
	if (connect_host(c, host, port, deadline, err) < 0)
		goto fail;
	rc = api_versions_try(c, 3, ms_left(deadline) + 1, err);
	if (rc == 1)
		rc = api_versions_try(c, 0, ms_left(deadline) + 1, err);
	if (rc != 0)
		goto fail;
	return c;
fail:
	kp_conn_free(c);
	return NULL;
}

void kp_conn_free(kp_conn *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	kp_buf_free(&c->out);
	free(c->client_id);
	free(c);
}

const char *kp_conn_name(const kp_conn *c)
{
	return c->name;
}

bool kp_conn_broken(const kp_conn *c)
{
	return c->broken;
}

int kp_conn_pick_version(const kp_conn *c, int16_t api_key, int16_t our_min, int16_t our_max,
			 kp_error *err)
{
	const struct kp_api_info *info = kp_api_lookup(api_key);
	const char *name = info ? info->name : "?";
	struct api_range r = api_key >= 0 && api_key < 128 ? c->apis[api_key]
							 : (struct api_range){ -1, -1 };
	int16_t v;

	if (r.max < 0)
		return kp_error_set(err, KP_EPROTO, "broker %s does not serve the %s API", c->name, name);
	v = r.max < our_max ? r.max : our_max;
	if (v < our_min || v < r.min)
		return kp_error_set(err, KP_EPROTO,
				    "broker %s serves %s versions %d-%d, this client needs %d-%d",
				    c->name, name, r.min, r.max, our_min, our_max);
	return v;
}
