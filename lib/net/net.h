/*
 * net.h - the broker's network layer: listeners, connections and Kafka
 * request framing on libevent 2.1 bufferevents.
 *
 * Every Kafka request and response travels in a frame (protocol guide,
 * "Network"):
 *
 *   +----------------+-----------------------------------------+
 *   | size (int32 BE)| size bytes: request header + body       |
 *   +----------------+-----------------------------------------+
 *     4 bytes          0 <= size <= socket.request.max.bytes
 *
 * A connection hands the owner one frame at a time and does not read the
 * next one until the owner has finished the current one (kp_conn_reply /
 * kp_conn_done), so requests are processed strictly in order and responses
 * are written in order (Kafka guarantees per-connection ordering; clients
 * such as kafka-python pipeline requests and rely on it). Frames that
 * arrive meanwhile stay buffered in the bufferevent's input buffer.
 *
 * A listener has a security protocol; only PLAINTEXT exists now. SSL and
 * SASL will wrap the bufferevent (bufferevent_openssl) and add a
 * per-connection authentication state before frames reach the owner.
 */
#ifndef KP_NET_NET_H
#define KP_NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/error.h"

struct event_base;

typedef struct kp_net kp_net;
typedef struct kp_conn kp_conn;

enum kp_security_protocol {
	KP_SECURITY_PLAINTEXT = 0,
};

/*
 * The owner's callbacks. on_frame gets a frame body (size prefix removed)
 * it now owns (free() it) and must eventually call kp_conn_reply or
 * kp_conn_done exactly once, now or later, unless it returns -1: then the
 * connection is closed with err's message as the logged reason.
 * on_close (may be NULL) is called once before a connection is freed, so
 * the owner can drop a parked request.
 */
struct kp_net_callbacks {
	int (*on_frame)(kp_conn *conn, uint8_t *frame, size_t len, void *opaque, kp_error *err);
	void (*on_close)(kp_conn *conn, void *opaque);
	void *opaque;
};

struct kp_net_config {
	int64_t max_request_bytes; /* socket.request.max.bytes (default 104857600) */
	int64_t idle_ms;           /* connections.max.idle.ms (default 600000) */
};

/*
 * kp_net_new - a network layer on `base` (borrowed) with `cfg` (copied)
 * and `cb` (copied). Returns NULL when memory runs out.
 */
kp_net *kp_net_new(struct event_base *base, const struct kp_net_config *cfg,
		   const struct kp_net_callbacks *cb);

/*
 * kp_net_listen - start accepting on `host`:`port` ("" or "0.0.0.0" for
 * all interfaces) with `proto`. Returns 0, or -1 with KP_EINVAL
 * (unresolvable host, unsupported protocol) or KP_EIO ("cannot listen on
 * HOST:PORT: Address already in use").
 */
int kp_net_listen(kp_net *n, const char *host, int port, int proto, kp_error *err);

/* kp_net_stop_accepting - close every listener; connections stay open. */
void kp_net_stop_accepting(kp_net *n);

/*
 * kp_net_drain - close every connection once its pending responses are
 * written (or after `timeout_ms`), then call `done(opaque)` once. Used on
 * shutdown after the owner has answered its parked requests.
 */
void kp_net_drain(kp_net *n, int timeout_ms, void (*done)(void *opaque), void *opaque);

/* kp_net_free - close listeners and connections (on_close runs) and free `n` (NULL is fine). */
void kp_net_free(kp_net *n);

/*
 * kp_conn_reply - queue the response frame in `out` (a whole frame with
 * its size prefix; the bytes are copied, `out` stays the caller's) and
 * finish the current request, letting the next buffered one run. `out`
 * may be NULL for a request that gets no response (Produce acks=0).
 */
void kp_conn_reply(kp_conn *c, const kp_buf *out);
/* kp_conn_done - finish the current request without a response. */
static inline void kp_conn_done(kp_conn *c) { kp_conn_reply(c, NULL); }

/* kp_conn_peer - "HOST:PORT" of the client (owned by the connection). */
const char *kp_conn_peer(const kp_conn *c);
/* kp_conn_set_data / kp_conn_data - one owner pointer per connection. */
void kp_conn_set_data(kp_conn *c, void *data);
void *kp_conn_data(const kp_conn *c);

#endif
