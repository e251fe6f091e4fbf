/*
 * net.c - listeners and connections on libevent bufferevents; see net.h.
 *
 * Reading a frame:
 *
 *   input evbuffer:  [size][ body ........ ][size][ body ... ]...
 *                     \__ peek 4 bytes: check 0 <= size <= max
 *                          \__ wait until 4 + size bytes are buffered,
 *                              then remove them and hand the body over
 *
 * While the owner works on a frame (`busy`), EV_READ is disabled, so later
 * frames wait in the kernel and the input evbuffer; responses therefore
 * leave in request order. A bad frame closes only its own connection,
 * with a WARN naming the peer.
 */
#include "net/net.h"

#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "util/diag.h"

struct kp_listener {
	struct evconnlistener *lev;
	int proto;
	struct kp_listener *next;
};

struct kp_conn {
	kp_net *net;
	struct bufferevent *bev;
	char peer[96];
	bool busy;        /* the owner holds the current frame */
	bool in_dispatch; /* inside conn_process, to avoid recursion */
	bool closing;     /* close once the output buffer is written */
	void *data;
	struct kp_conn *prev, *next;
};

struct kp_net {
	struct event_base *base;
	struct kp_net_config cfg;
	struct kp_net_callbacks cb;
	struct kp_listener *listeners;
	struct kp_conn *conns;
	bool draining;
	struct event *drain_timer;
	void (*drain_done)(void *);
	void *drain_opaque;
};

static void conn_process(kp_conn *c);

kp_net *kp_net_new(struct event_base *base, const struct kp_net_config *cfg,
		   const struct kp_net_callbacks *cb)
{
	kp_net *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->base = base;
	n->cfg = *cfg;
	n->cb = *cb;
	return n;
}

static void drain_check(kp_net *n)
{
	if (!n->draining || n->conns || !n->drain_done)
		return;
	void (*done)(void *) = n->drain_done;

	n->drain_done = NULL;
	if (n->drain_timer)
		event_del(n->drain_timer);
	done(n->drain_opaque);
}

static void conn_free(kp_conn *c)
{
	kp_net *n = c->net;

	if (n->cb.on_close)
		n->cb.on_close(c, n->cb.opaque);
	if (c->prev)
		c->prev->next = c->next;
	else
		n->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	bufferevent_free(c->bev);
	free(c);
	drain_check(n);
}

/* conn_close_warn - log why at WARN and drop the connection at once. */
static void conn_close_warn(kp_conn *c, const char *why)
{
	kp_diag_warn("closing connection from %s: %s", c->peer, why);
	conn_free(c);
}

void kp_conn_reply(kp_conn *c, const kp_buf *out)
{
	if (out && out->len)
		bufferevent_write(c->bev, out->data, out->len);
	c->busy = false;
	if (!c->in_dispatch)
		conn_process(c);
}

/*
 * conn_next_frame - take one whole frame out of the input buffer. Returns
 * 1 with *frame and *len, 0 when more bytes are needed, -1 (reason in `why`)
 * for a frame that must close the connection.
 */
static int conn_next_frame(kp_conn *c, uint8_t **frame, size_t *len, char *why, size_t whylen)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	uint8_t hdr[4];

	if (evbuffer_get_length(in) < 4)
		return 0;
	evbuffer_copyout(in, hdr, 4);
	int32_t size = (int32_t)kp_load_u32(hdr);

	if (size < 0) {
		snprintf(why, whylen, "negative frame size %d", size);
		return -1;
	}
	if ((int64_t)size > c->net->cfg.max_request_bytes) {
		snprintf(why, whylen, "frame of %d bytes exceeds socket.request.max.bytes (%lld)",
			 size, (long long)c->net->cfg.max_request_bytes);
		return -1;
	}
	if (evbuffer_get_length(in) < 4 + (size_t)size)
		return 0;
	uint8_t *p = malloc(size ? (size_t)size : 1);

	if (!p) {
		snprintf(why, whylen, "out of memory for a frame of %d bytes", size);
		return -1;
	}
	evbuffer_drain(in, 4);
	evbuffer_remove(in, p, (size_t)size);
	*frame = p;
	*len = (size_t)size;
	return 1;
}

/* conn_process - hand buffered frames to the owner, one at a time. */
static void conn_process(kp_conn *c)
{
	kp_net *n = c->net;
	char why[256];

	if (c->in_dispatch)
		return;
	c->in_dispatch = true;
	while (!c->busy && !c->closing) {
		uint8_t *frame = NULL;
		size_t len = 0;
		int rc = conn_next_frame(c, &frame, &len, why, sizeof(why));

		if (rc < 0) {
			conn_close_warn(c, why);
			return;
		}
		if (rc == 0)
			break;
		kp_error err;

		kp_error_clear(&err);
		c->busy = true;
		if (n->cb.on_frame(c, frame, len, n->cb.opaque, &err) < 0) {
			conn_close_warn(c, err.msg[0] ? err.msg : "bad request");
			return;
		}
	}
	c->in_dispatch = false;
	if (c->closing)
		return;
	if (c->busy)
		bufferevent_disable(c->bev, EV_READ);
	else if (!n->draining)
		bufferevent_enable(c->bev, EV_READ);
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	conn_process(arg);
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
	kp_conn *c = arg;

	if (c->closing && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		conn_free(c);
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	kp_conn *c = arg;

	if (what & BEV_EVENT_TIMEOUT) {
		kp_diag_info("closing idle connection from %s (connections.max.idle.ms %lld)",
			     c->peer, (long long)c->net->cfg.idle_ms);
	} else if (what & BEV_EVENT_ERROR) {
		kp_diag_debug("connection from %s: %s", c->peer,
			      evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	} else {
		kp_diag_debug("connection from %s closed by peer", c->peer);
	}
	conn_free(c);
}

static void format_peer(const struct sockaddr *sa, socklen_t salen, char *out, size_t outlen)
{
	char host[64] = "?", port[16] = "?";

	getnameinfo(sa, salen, host, sizeof(host), port, sizeof(port),
		    NI_NUMERICHOST | NI_NUMERICSERV);
	if (sa->sa_family == AF_INET6)
		snprintf(out, outlen, "[%s]:%s", host, port);
	else
		snprintf(out, outlen, "%s:%s", host, port);
}

static void accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	kp_net *n = arg;
	kp_conn *c = calloc(1, sizeof(*c));

	if (!c) {
		evutil_closesocket(fd);
		return;
	}
	c->net = n;
	format_peer(sa, (socklen_t)salen, c->peer, sizeof(c->peer));
	c->bev = bufferevent_socket_new(n->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev) {
		evutil_closesocket(fd);
		free(c);
		return;
	}
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	if (n->cfg.idle_ms > 0) {
		struct timeval tv = { n->cfg.idle_ms / 1000, (n->cfg.idle_ms % 1000) * 1000 };

		bufferevent_set_timeouts(c->bev, &tv, NULL);
	}
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->next = n->conns;
	if (n->conns)
		n->conns->prev = c;
	n->conns = c;
	kp_diag_debug("accepted connection from %s", c->peer);
}

/* bind_socket - a listening, non-blocking socket for host:port, or -1 with err. */
static int bind_socket(const char *host, int port, kp_error *err)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE };
	struct addrinfo *res = NULL;
	char portstr[16];
	int fd = -1, rc;

	snprintf(portstr, sizeof(portstr), "%d", port);
	rc = getaddrinfo(host && *host ? host : NULL, portstr, &hints, &res);
	if (rc != 0)
		return kp_error_set(err, KP_EINVAL, "cannot listen on %s:%d: %s", host, port,
				    gai_strerror(rc));
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	int one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 128) < 0)
		goto fail;
	freeaddrinfo(res);
	return fd;
fail:
	kp_error_errno(err, "cannot listen on %s:%d", host, port);
	if (fd >= 0)
		close(fd);
	freeaddrinfo(res);
	return -1;
}

int kp_net_listen(kp_net *n, const char *host, int port, int proto, kp_error *err)
{
	if (proto != KP_SECURITY_PLAINTEXT)
		return kp_error_set(err, KP_EINVAL, "unsupported security protocol");
	int fd = bind_socket(host, port, err);

	if (fd < 0)
		return -1;
	struct kp_listener *l = calloc(1, sizeof(*l));

	if (!l) {
		close(fd);
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	}
	l->lev = evconnlistener_new(n->base, accept_cb, n, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (!l->lev) {
		close(fd);
		free(l);
		return kp_error_set(err, KP_EIO, "cannot listen on %s:%d", host, port);
	}
	l->proto = proto;
	l->next = n->listeners;
	n->listeners = l;
	return 0;
}

void kp_net_stop_accepting(kp_net *n)
{
	while (n->listeners) {
		struct kp_listener *l = n->listeners;

		n->listeners = l->next;
		evconnlistener_free(l->lev);
		free(l);
	}
}

static void drain_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	kp_net *n = arg;

	while (n->conns)
		conn_free(n->conns);
}

void kp_net_drain(kp_net *n, int timeout_ms, void (*done)(void *opaque), void *opaque)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

	n->draining = true;
	n->drain_done = done;
	n->drain_opaque = opaque;
	n->drain_timer = evtimer_new(n->base, drain_timeout_cb, n);
	if (n->drain_timer)
		evtimer_add(n->drain_timer, &tv);
	kp_conn *c = n->conns;

	while (c) {
		kp_conn *next = c->next;

		bufferevent_disable(c->bev, EV_READ);
		c->closing = true;
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
			conn_free(c);
		c = next;
	}
	drain_check(n);
}

void kp_net_free(kp_net *n)
{
	if (!n)
		return;
	kp_net_stop_accepting(n);
	n->drain_done = NULL;
	while (n->conns)
		conn_free(n->conns);
	if (n->drain_timer)
		event_free(n->drain_timer);
	free(n);
}

const char *kp_conn_peer(const kp_conn *c)
{
	return c->peer;
}

void kp_conn_set_data(kp_conn *c, void *data)
{
	c->data = data;
}

void *kp_conn_data(const kp_conn *c)
{
	return c->data;
}
