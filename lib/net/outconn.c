/*
 * outconn.c - outgoing Kafka client connections on libevent; see outconn.h.
 *
 *   IDLE --send--> CONNECTING --connected--> CONNECTED
 *     ^                |                         |
 *     +--- lost: fail every request, back off ---+
 *
 * Requests in flight form a FIFO list (responses come back in order); one
 * timer per connection fires at the earliest deadline (connect or request).
 */
#include "net/outconn.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "net/transport.h"
#include "protocol/codec.h"
#include "util/clock.h"

enum oc_state { OC_IDLE, OC_CONNECTING, OC_CONNECTED };

struct oc_req {
	int32_t corr;
	int16_t api_key, version;
	int64_t deadline; /* kp_mono_ms */
	kp_outconn_cb cb;
	void *arg;
	struct oc_req *next;
};

struct kp_outconn {
	struct event_base *base;
	struct kp_outconn_config cfg;
	char *client_id;
	char host[256];
	int port;
	char name[300];
	enum oc_state state;
	struct bufferevent *bev;
	unsigned generation;     /* bumped whenever bev is dropped */
	int64_t connect_deadline;
	int64_t backoff_until;   /* no connect before this (kp_mono_ms) */
	int64_t backoff;         /* the next backoff to apply */
	int32_t next_corr;
	struct oc_req *head, *tail;
	int in_flight;
	struct event *timer;
};

void kp_outconn_config_init(struct kp_outconn_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->connect_timeout_ms = 10000;
	cfg->backoff_ms = 50;
	cfg->backoff_max_ms = 1000;
	cfg->max_response_bytes = 100 << 20;
}

static void timer_cb(evutil_socket_t fd, short what, void *arg);
static void fail_all(kp_outconn *c, const kp_error *first, const kp_error *err);

kp_outconn *kp_outconn_new(struct event_base *base, const char *host, int port,
			   const struct kp_outconn_config *cfg, kp_error *err)
{
	kp_outconn *c;

	if (!host || !*host || strlen(host) >= sizeof(c->host) || port <= 0 || port > 65535) {
		kp_error_set(err, KP_EINVAL, "bad address %s:%d", host ? host : "", port);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		goto oom;
	c->base = base;
	if (cfg)
		c->cfg = *cfg;
	else
		kp_outconn_config_init(&c->cfg);
	c->cfg.client_id = NULL;
	if (cfg && cfg->client_id && !(c->client_id = strdup(cfg->client_id)))
		goto oom;
	snprintf(c->host, sizeof(c->host), "%s", host);
	c->port = port;
	snprintf(c->name, sizeof(c->name), strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
	c->backoff = c->cfg.backoff_ms;
	c->timer = event_new(base, -1, 0, timer_cb, c);
	if (!c->timer)
		goto oom;
	return c;
oom:
	kp_outconn_free(c);
	kp_error_set(err, KP_ENOMEM, "out of memory");
	return NULL;
}

/* drop_bev - close the socket (if any) and forget it. */
static void drop_bev(kp_outconn *c)
{
	if (c->bev)
		bufferevent_free(c->bev);
	c->bev = NULL;
	c->generation++;
	c->state = OC_IDLE;
}

void kp_outconn_free(kp_outconn *c)
{
	kp_error err;

	if (!c)
		return;
	drop_bev(c);
	kp_error_set(&err, KP_ECONN, "%s: connection closed", c->name);
	fail_all(c, NULL, &err);
	if (c->timer)
		event_free(c->timer);
	free(c->client_id);
	free(c);
}

/* rearm - point the timer at the earliest connect or request deadline. */
static void rearm(kp_outconn *c)
{
	int64_t at = INT64_MAX, now = kp_mono_ms();
	struct timeval tv;

	if (c->state == OC_CONNECTING)
		at = c->connect_deadline;
	for (const struct oc_req *r = c->head; r; r = r->next)
		if (r->deadline < at)
			at = r->deadline;
	if (at == INT64_MAX) {
		event_del(c->timer);
		return;
	}
	at = at > now ? at - now : 0;
	tv.tv_sec = (time_t)(at / 1000);
	tv.tv_usec = (suseconds_t)(at % 1000 * 1000);
	event_add(c->timer, &tv);
}

/* fail_all - complete every request in flight with `err`, first one with `first` if set. */
static void fail_all(kp_outconn *c, const kp_error *first, const kp_error *err)
{
	struct oc_req *r = c->head;

	c->head = c->tail = NULL;
	c->in_flight = 0;
	for (struct oc_req *next; r; r = next) {
		next = r->next;
		r->cb(r->arg, NULL, first ? first : err);
		first = NULL;
		free(r);
	}
}

/*
 * conn_lost - the connection is unusable: close it, start the backoff, and
 * fail what was in flight (`first` for the oldest request, e.g. the one
 * that timed out; `code`/`why` for the rest).
 */
static void conn_lost(kp_outconn *c, const kp_error *first, int code, const char *why)
{
	kp_error err;

	kp_error_set(&err, code, "%s: %s", c->name, why);
	drop_bev(c);
	c->backoff_until = kp_mono_ms() + c->backoff;
	c->backoff = c->backoff * 2 > c->cfg.backoff_max_ms ? c->cfg.backoff_max_ms : c->backoff * 2;
	event_del(c->timer);
	fail_all(c, first, &err);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	kp_outconn *c = arg;
	int64_t now = kp_mono_ms();
	kp_error first;

	if (c->state == OC_CONNECTING && now >= c->connect_deadline) {
		conn_lost(c, NULL, KP_ETIMEDOUT, "connect timed out");
		return;
	}
	for (struct oc_req *r = c->head; r; r = r->next) {
		if (r->deadline > now)
			continue;
		/* the oldest request is the one to blame in the first callback */
		kp_error_set(&first, KP_ETIMEDOUT, "%s: request (api %d) timed out", c->name,
			     r->api_key);
		conn_lost(c, &first, KP_ECONN, "connection closed after a request timed out");
		return;
	}
	rearm(c);
}

/* complete_head - decode the frame `body` for the oldest request and call its callback. */
static void complete_head(kp_outconn *c, const uint8_t *body, size_t len)
{
	struct oc_req *r = c->head;
	const struct kp_api_info *info = kp_api_lookup(r->api_key);
	kp_arena arena;
	kp_error err;
	int32_t corr = 0;
	void *resp;

	c->head = r->next;
	if (!c->head)
		c->tail = NULL;
	c->in_flight--;
	kp_arena_init(&arena);
	resp = kp_arena_alloc(&arena, kp_msg_size(info->response));
	if (!resp)
		kp_error_set(&err, KP_ENOMEM, "out of memory");
	else if (kp_response_decode(r->api_key, r->version, body, len, &arena, &corr, resp, &err) < 0)
		resp = NULL;
	r->cb(r->arg, resp, resp ? NULL : &err);
	kp_arena_free(&arena);
	free(r);
}

/*
 * next_frame - take one whole response frame from the input into *body
 * (malloc'd). 1: got one; 0: need more bytes; -1: bad frame (why filled).
 */
static int next_frame(kp_outconn *c, uint8_t **body, size_t *len, char *why, size_t n)
{
	enum kp_frame_error fe;
	int32_t size;
	int rc = kp_transport_take_frame(bufferevent_get_input(c->bev), 4,
					 c->cfg.max_response_bytes, body, len, &size, &fe);

	if (rc >= 0)
		return rc;
	if (fe == KP_FRAME_NO_MEMORY)
		snprintf(why, n, "out of memory for a %d-byte response", size);
	else
		snprintf(why, n, "bad response frame size %d", size);
	return -1;
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	kp_outconn *c = arg;
	unsigned gen = c->generation;
	char why[128];

	while (c->generation == gen) {
		uint8_t *body = NULL;
		size_t len = 0;
		int rc = next_frame(c, &body, &len, why, sizeof(why));

		if (rc == 0)
			break;
		if (rc > 0 && (!c->head || (int32_t)kp_load_u32(body) != c->head->corr)) {
			snprintf(why, sizeof(why), "response with unexpected correlation id %d",
				 (int32_t)kp_load_u32(body));
			rc = -1;
		}
		if (rc < 0) {
			free(body);
			conn_lost(c, NULL, KP_EPROTO, why);
			return;
		}
		complete_head(c, body, len);
		free(body);
	}
	if (c->generation == gen)
		rearm(c);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	kp_outconn *c = arg;
	char why[160];

	if (what & BEV_EVENT_CONNECTED) {
		int one = 1;

		setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->state = OC_CONNECTED;
		c->backoff = c->cfg.backoff_ms;
		rearm(c);
		return;
	}
	if (what & BEV_EVENT_ERROR)
		snprintf(why, sizeof(why), "%s",
			 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	else
		snprintf(why, sizeof(why), "connection closed by peer");
	conn_lost(c, NULL, KP_ECONN, why);
}

/* start_connect - a new socket connecting to host:port; -1 with err when it cannot start. */
static int start_connect(kp_outconn *c, kp_error *err)
{
	/* deferred callbacks: a connect that fails at once reports from the loop, not from here */
	c->bev = kp_transport_bev_new(c->base, -1, c->cfg.security_protocol, 1);
	if (!c->bev)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	bufferevent_setcb(c->bev, read_cb, NULL, event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->state = OC_CONNECTING;
	c->connect_deadline = kp_mono_ms() + c->cfg.connect_timeout_ms;
	/* NULL dns base: blocking getaddrinfo, immediate for numeric hosts */
	if (bufferevent_socket_connect_hostname(c->bev, NULL, AF_UNSPEC, c->host, c->port) < 0) {
		drop_bev(c);
		c->backoff_until = kp_mono_ms() + c->backoff;
		return kp_error_set(err, KP_ECONN, "cannot connect to %s", c->name);
	}
	return 0;
}

/* enqueue - a request record at the tail; NULL when out of memory. */
static struct oc_req *enqueue(kp_outconn *c, int16_t api_key, int16_t version, int64_t timeout_ms,
			      kp_outconn_cb cb, void *arg)
{
	struct oc_req *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->corr = c->next_corr++;
	if (c->next_corr < 0)
		c->next_corr = 0;
	r->api_key = api_key;
	r->version = version;
	r->deadline = kp_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	r->cb = cb;
	r->arg = arg;
	return r;
}

int kp_outconn_send(kp_outconn *c, int16_t api_key, int16_t version, const void *req,
		    int64_t timeout_ms, kp_outconn_cb cb, void *arg, kp_error *err)
{
	int64_t now = kp_mono_ms();
	struct oc_req *r;
	kp_buf out;
	int rc = -1;

	if (!kp_api_lookup(api_key))
		return kp_error_set(err, KP_EINVAL, "unknown api key %d", api_key);
	if (c->state == OC_IDLE && now < c->backoff_until)
		return kp_error_set(err, KP_ECONN, "%s: reconnect backoff for %lld more ms", c->name,
				    (long long)(c->backoff_until - now));
	kp_buf_init(&out);
	if (!(r = enqueue(c, api_key, version, timeout_ms, cb, arg))) {
		kp_error_set(err, KP_ENOMEM, "out of memory");
		goto out;
	}
	if (kp_request_encode(api_key, version, r->corr, c->client_id, req, &out, err) < 0 ||
	    (c->state == OC_IDLE && start_connect(c, err) < 0)) {
		free(r);
		goto out;
	}
	if (bufferevent_write(c->bev, out.data, out.len) < 0) {
		free(r);
		kp_error_set(err, KP_ENOMEM, "out of memory");
		goto out;
	}
	if (c->tail)
		c->tail->next = r;
	else
		c->head = r;
	c->tail = r;
	c->in_flight++;
	rearm(c);
	rc = 0;
out:
	kp_buf_free(&out);
	return rc;
}

bool kp_outconn_connected(const kp_outconn *c)
{
	return c->state == OC_CONNECTED;
}

int kp_outconn_in_flight(const kp_outconn *c)
{
	return c->in_flight;
}

const char *kp_outconn_name(const kp_outconn *c)
{
	return c->name;
}
