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
 * A connection's state after each event (conn_settle):
 *
 *   owner free, output <= OUTPUT_HIGH   take the next whole frame; read
 *   owner busy (request outstanding)    read ahead up to READ_AHEAD only
 *   output > OUTPUT_HIGH                stop reading; the write callback
 *                                       (low watermark OUTPUT_HIGH) resumes
 *   peer EOF, nothing left to answer    closing: free once output is sent
 *
 * A bad frame closes only its own connection, with a WARN naming the peer.
 */
#include "net/net.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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
	kp_net *net;
	struct evconnlistener *lev;
	struct event *resume; /* re-enables accepting after a failed accept */
	bool failing;         /* the last accept failed: WARN once per episode */
	int proto;
	char name[300];       /* "HOST:PORT", for logs */
	char listener[64];    /* the listener's name, e.g. "PLAINTEXT" */
	struct kp_listener *next;
};

struct kp_net_conn {
	kp_net *net;
	struct bufferevent *bev;
	char peer[96];
	bool busy;        /* the owner holds the current frame */
	bool in_dispatch; /* inside conn_process, to avoid recursion */
	bool peer_eof;    /* the client shut down its sending side */
	bool closing;     /* close once the output buffer is written */
	void *session;    /* the owner's, from on_open */
	struct kp_net_conn *prev, *next;
};

struct kp_net {
	struct event_base *base;
	struct kp_net_config cfg;
	struct kp_net_callbacks cb;
	struct kp_listener *listeners;
	struct kp_net_conn *conns;
	bool draining;
	struct event *drain_timer;
	void (*drain_done)(void *);
	void *drain_opaque;
};

static void conn_process(kp_net_conn *c);

/* libevent_log - libevent's own messages (normally printed on stderr) to kp_diag. */
static void libevent_log(int severity, const char *msg)
{
	int level = severity >= EVENT_LOG_ERR ? KP_DIAG_ERROR
		    : severity == EVENT_LOG_WARN ? KP_DIAG_WARN
		    : severity == EVENT_LOG_MSG ? KP_DIAG_INFO : KP_DIAG_DEBUG;

	kp_diag(level, "libevent: %s", msg);
}

kp_net *kp_net_new(struct event_base *base, const struct kp_net_config *cfg,
		   const struct kp_net_callbacks *cb)
{
	kp_net *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	event_set_log_callback(libevent_log);
	n->base = base;
	n->cfg = *cfg;
	n->cb = *cb;
	return n;
}

static size_t out_len(const kp_net_conn *c)
{
	return evbuffer_get_length(bufferevent_get_output(c->bev));
}

static size_t in_len(const kp_net_conn *c)
{
	return evbuffer_get_length(bufferevent_get_input(c->bev));
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

static void conn_free(kp_net_conn *c)
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
static void conn_close_warn(kp_net_conn *c, const char *why)
{
	kp_diag_warn("closing connection from %s: %s", c->peer, why);
	conn_free(c);
}

/* conn_wants_read - whether to read from the socket now (see the table at the top). */
static bool conn_wants_read(const kp_net_conn *c)
{
	if (c->closing || c->peer_eof || c->net->draining || out_len(c) > KP_NET_OUTPUT_HIGH)
		return false;
	return !c->busy || in_len(c) < KP_NET_READ_AHEAD;
}

/* conn_settle - free a closing connection with nothing left to send, else (un)pause reading. */
static void conn_settle(kp_net_conn *c)
{
	if (c->closing && !c->busy && out_len(c) == 0) {
		conn_free(c);
		return;
	}
	if (conn_wants_read(c))
		bufferevent_enable(c->bev, EV_READ);
	else
		bufferevent_disable(c->bev, EV_READ);
}

void kp_net_conn_reply(kp_net_conn *c, const kp_buf *out)
{
	if (out && out->len)
		bufferevent_write(c->bev, out->data, out->len);
	c->busy = false;
	if (!c->in_dispatch)
		conn_process(c);
}

/*
 * add_file - append `len` bytes of `fd` at `pos` to `buf` as a file
 * segment; -1 on failure. The segment reads from its own duplicate of
 * `fd`, closed once the bytes are sent (libevent's CLOSE_ON_FREE): the log
 * may close or delete the segment file meanwhile (DeleteRecords,
 * retention) and the queued response still sends what it named.
 */
static int add_file(struct evbuffer *buf, int fd, int64_t pos, int64_t len)
{
	int own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	struct evbuffer_file_segment *seg;
	int rc;

	if (own < 0)
		return -1;
	seg = evbuffer_file_segment_new(own, pos, len,
					EVBUF_FS_DISABLE_LOCKING | EVBUF_FS_CLOSE_ON_FREE);
	if (!seg) {
		close(own);
		return -1;
	}
	rc = evbuffer_add_file_segment(buf, seg, 0, len);
	evbuffer_file_segment_free(seg); /* the chain keeps its own reference */
	return rc;
}

/* frame_with_files - build the frame of kp_net_conn_reply_files in `buf`; -1 on failure. */
static int frame_with_files(struct evbuffer *buf, const kp_buf *out, const struct kp_net_file_part *parts,
			    size_t n)
{
	size_t done = 0;

	for (size_t i = 0; i < n; i++) {
		if (parts[i].at < done || parts[i].at > out->len)
			return -1;
		if (parts[i].at > done && evbuffer_add(buf, out->data + done, parts[i].at - done) < 0)
			return -1;
		done = parts[i].at;
		if (add_file(buf, parts[i].fd, parts[i].pos, parts[i].len) < 0)
			return -1;
	}
	if (out->len > done && evbuffer_add(buf, out->data + done, out->len - done) < 0)
		return -1;
	return 0;
}

void kp_net_conn_reply_files(kp_net_conn *c, const kp_buf *out, const struct kp_net_file_part *parts,
			     size_t n)
{
	struct evbuffer *buf = evbuffer_new();

	/* without DRAINS_TO_FD libevent would map the file segments into memory */
	if (!buf || evbuffer_set_flags(buf, EVBUFFER_FLAG_DRAINS_TO_FD) < 0 ||
	    frame_with_files(buf, out, parts, n) < 0 ||
	    evbuffer_add_buffer(bufferevent_get_output(c->bev), buf) < 0) {
		if (buf)
			evbuffer_free(buf);
		kp_net_conn_fail(c, "cannot queue a response with file segments");
		return;
	}
	evbuffer_free(buf);
	kp_net_conn_reply(c, NULL);
}

void kp_net_conn_fail(kp_net_conn *c, const char *why)
{
	kp_diag_warn("closing connection from %s: %s", c->peer, why);
	c->closing = true;
	c->busy = false;
	if (!c->in_dispatch)
		conn_process(c);
}

/*
 * conn_next_frame - take one whole frame out of the input buffer. Returns
 * 1 with *frame and *len, 0 when more bytes are needed, -1 (reason in `why`)
 * for a frame that must close the connection.
 */
static int conn_next_frame(kp_net_conn *c, uint8_t **frame, size_t *len, char *why, size_t whylen)
{
	enum kp_frame_error fe;
	int32_t size;
	int rc = kp_transport_take_frame(bufferevent_get_input(c->bev), 0,
					 c->net->cfg.max_request_bytes, frame, len, &size, &fe);

	if (rc >= 0)
		return rc;
	if (fe == KP_FRAME_TOO_SMALL)
		snprintf(why, whylen, "negative frame size %d", size);
	else if (fe == KP_FRAME_TOO_LARGE)
		snprintf(why, whylen, "frame of %d bytes exceeds socket.request.max.bytes (%lld)",
			 size, (long long)c->net->cfg.max_request_bytes);
	else
		snprintf(why, whylen, "out of memory for a frame of %d bytes", size);
	return -1;
}

/*
 * conn_take_frames - hand whole frames to the owner while it is free and
 * the output is not backed up. Returns 0 when no whole frame is left in
 * the input, 1 when it stopped for another reason, -1 when the connection
 * was closed (and freed).
 */
static int conn_take_frames(kp_net_conn *c)
{
	kp_net *n = c->net;
	char why[256];

	while (!c->busy && !c->closing && out_len(c) <= KP_NET_OUTPUT_HIGH) {
		uint8_t *frame = NULL;
		size_t len = 0;
		int rc = conn_next_frame(c, &frame, &len, why, sizeof(why));

		if (rc < 0)
			conn_close_warn(c, why);
		if (rc <= 0)
			return rc;
		kp_error err;

		kp_error_clear(&err);
		c->busy = true;
		if (n->cb.on_frame(c, frame, len, n->cb.opaque, &err) < 0) {
			conn_close_warn(c, err.msg[0] ? err.msg : "bad request");
			return -1;
		}
	}
	return 1;
}

/* conn_process - hand buffered frames to the owner, one at a time, then settle. */
static void conn_process(kp_net_conn *c)
{
	if (c->in_dispatch)
		return;
	c->in_dispatch = true;
	int rc = conn_take_frames(c);

	if (rc < 0)
		return;
	c->in_dispatch = false;
	if (rc == 0 && c->peer_eof && !c->busy)
		c->closing = true; /* everything the client sent is answered */
	conn_settle(c);
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	conn_process(arg);
}

/* conn_write_cb - output fell to OUTPUT_HIGH or below: take more frames, or finish closing. */
static void conn_write_cb(struct bufferevent *bev, void *arg)
{
	kp_net_conn *c = arg;

	if (!c->busy)
		conn_process(c);
}

/* conn_hangup - the client shut down its sending side: answer what it sent, then close. */
static void conn_hangup(kp_net_conn *c)
{
	kp_net *n = c->net;

	kp_diag_debug("connection from %s closed by peer", c->peer);
	c->peer_eof = true;
	if (c->busy && n->cb.on_hangup) {
		c->in_dispatch = true; /* a reply from within on_hangup must not free c */
		n->cb.on_hangup(c, n->cb.opaque);
		c->in_dispatch = false;
	}
	conn_process(c);
}

/* conn_timeout - nothing read (or nothing written) for connections.max.idle.ms. */
static void conn_timeout(kp_net_conn *c, short what)
{
	long long ms = (long long)c->net->cfg.idle_ms;

	if ((what & BEV_EVENT_READING) && (c->busy || out_len(c) > 0)) {
		conn_settle(c); /* waiting on us, not idle: libevent paused reading, resume */
		return;
	}
	if (what & BEV_EVENT_WRITING)
		kp_diag_info("closing connection from %s: it took none of %zu pending response "
			     "bytes for %lld ms (connections.max.idle.ms)", c->peer, out_len(c), ms);
	else
		kp_diag_info("closing idle connection from %s (connections.max.idle.ms %lld)",
			     c->peer, ms);
	conn_free(c);
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	kp_net_conn *c = arg;

	if (what & BEV_EVENT_TIMEOUT) {
		conn_timeout(c, what);
		return;
	}
	if ((what & BEV_EVENT_EOF) && (what & BEV_EVENT_READING) && !(what & BEV_EVENT_ERROR)) {
		conn_hangup(c);
		return;
	}
	if (what & BEV_EVENT_ERROR)
		kp_diag_debug("connection from %s: %s while %s", c->peer,
			      evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()),
			      what & BEV_EVENT_WRITING ? "writing" : "reading");
	else
		kp_diag_debug("connection from %s closed by peer", c->peer);
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

/* conn_new - a connection for socket `fd` accepted with `proto` (closed on failure), or NULL. */
static kp_net_conn *conn_new(kp_net *n, evutil_socket_t fd, int proto, const char *peer)
{
	kp_net_conn *c = calloc(1, sizeof(*c));

	if (!c)
		goto fail;
	c->net = n;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	c->bev = kp_transport_bev_new(n->base, fd, proto, 0);
	if (!c->bev)
		goto fail;
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, KP_NET_OUTPUT_HIGH, 0);
	if (n->cfg.idle_ms > 0) {
		struct timeval tv = { n->cfg.idle_ms / 1000, (n->cfg.idle_ms % 1000) * 1000 };

		bufferevent_set_timeouts(c->bev, &tv, &tv);
	}
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	return c;
fail:
	kp_diag_warn("cannot accept connection from %s: out of memory", peer);
	evutil_closesocket(fd);
	free(c);
	return NULL;
}

static void accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct kp_listener *l = arg;
	kp_net *n = l->net;
	char peer[96];

	if (l->failing)
		kp_diag_info("accepting connections on %s again", l->name);
	l->failing = false;
	format_peer(sa, (socklen_t)salen, peer, sizeof(peer));
	kp_net_conn *c = conn_new(n, fd, l->proto, peer);

	if (!c)
		return;
	if (n->cb.on_open && !(c->session = n->cb.on_open(c, l->listener, l->proto, n->cb.opaque))) {
		kp_diag_warn("connection from %s on %s refused", c->peer, l->name);
		bufferevent_free(c->bev);
		free(c);
		return;
	}
	c->next = n->conns;
	if (n->conns)
		n->conns->prev = c;
	n->conns = c;
	kp_diag_debug("accepted connection from %s", c->peer);
}

/* accept_error_cb - accept(2) failed (EMFILE...): pause this listener instead of spinning. */
static void accept_error_cb(struct evconnlistener *lev, void *arg)
{
	struct kp_listener *l = arg;
	int e = EVUTIL_SOCKET_ERROR();
	struct timeval tv = { 0, KP_NET_ACCEPT_BACKOFF_MS * 1000 };

	if (!l->failing)
		kp_diag_warn("cannot accept connections on %s: %s; retrying every %d ms", l->name,
			     evutil_socket_error_to_string(e), KP_NET_ACCEPT_BACKOFF_MS);
	l->failing = true;
	evconnlistener_disable(lev);
	evtimer_add(l->resume, &tv);
}

static void accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kp_listener *l = arg;

	evconnlistener_enable(l->lev);
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

static void listener_free(struct kp_listener *l)
{
	if (l->lev)
		evconnlistener_free(l->lev);
	if (l->resume)
		event_free(l->resume);
	free(l);
}

int kp_net_listen(kp_net *n, const char *listener, const char *host, int port, int proto,
		  kp_error *err)
{
	if (proto != KP_SECURITY_PLAINTEXT)
		return kp_error_set(err, KP_EINVAL, "unsupported security protocol");
	int fd = bind_socket(host, port, err);

	if (fd < 0)
		return -1;
	struct kp_listener *l = calloc(1, sizeof(*l));

	if (!l || !(l->resume = evtimer_new(n->base, accept_resume_cb, l))) {
		close(fd);
		free(l);
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	}
	l->net = n;
	l->proto = proto;
	snprintf(l->name, sizeof(l->name), "%s:%d", host && *host ? host : "*", port);
	snprintf(l->listener, sizeof(l->listener), "%s", listener ? listener : "");
	l->lev = evconnlistener_new(n->base, accept_cb, l, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (!l->lev) {
		close(fd);
		listener_free(l);
		return kp_error_set(err, KP_EIO, "cannot listen on %s:%d", host, port);
	}
	evconnlistener_set_error_cb(l->lev, accept_error_cb);
	l->next = n->listeners;
	n->listeners = l;
	return 0;
}

void kp_net_stop_accepting(kp_net *n)
{
	while (n->listeners) {
		struct kp_listener *l = n->listeners;

		n->listeners = l->next;
		listener_free(l);
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
	kp_net_conn *c = n->conns;

	while (c) {
		kp_net_conn *next = c->next;

		c->closing = true;
		conn_settle(c); /* frees c when nothing is left to send */
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

void *kp_net_conn_session(const kp_net_conn *c)
{
	return c->session;
}

const char *kp_net_conn_peer(const kp_net_conn *c)
{
	return c->peer;
}
