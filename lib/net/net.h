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
 * A connection hands the owner one frame at a time and does not hand over
 * the next one until the owner has finished the current one
 * (kp_net_conn_reply / kp_net_conn_done), so requests are processed
 * strictly in order and responses are written in order (Kafka guarantees
 * per-connection ordering; clients such as kafka-python pipeline requests
 * and rely on it).
 *
 * Flow control, so that memory per connection stays bounded whatever the
 * client does:
 *   - no new frame is handed over while more than KP_NET_OUTPUT_HIGH bytes
 *     of responses are unsent, and the socket is not read meanwhile (a
 *     client that pipelines requests and never reads its responses stalls
 *     in TCP flow control, like Kafka's muted channels);
 *   - while a request is outstanding (a parked Fetch) the socket is read
 *     ahead by at most KP_NET_READ_AHEAD bytes, enough to notice that the
 *     client hung up.
 * A client that shuts down its sending side (half-close, EOF) still gets
 * the answers to every whole request it sent; the owner's on_hangup lets
 * it answer a parked request at once. The connection closes when they
 * are written.
 *
 * connections.max.idle.ms closes a connection that sent nothing for that
 * long while no request of it was outstanding and no response unsent, and
 * one that has not taken any of its pending response bytes for that long.
 *
 * A failed accept(2) (EMFILE, ENFILE, ENOBUFS...) pauses that listener for
 * KP_NET_ACCEPT_BACKOFF_MS instead of retrying in a busy loop, with one
 * WARN per episode.
 *
 * A listener has a security protocol; only PLAINTEXT exists now. The
 * bufferevent and the frame reading are transport.h's, shared with the
 * outgoing connections (outconn.h): SSL and SASL go there, once for both.
 */
#ifndef KP_NET_NET_H
#define KP_NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/transport.h"
#include "util/buf.h"
#include "util/error.h"

struct event_base;

typedef struct kp_net kp_net;
typedef struct kp_net_conn kp_net_conn;

#define KP_NET_OUTPUT_HIGH ((size_t)1 << 20) /* unsent response bytes that pause a connection */
#define KP_NET_READ_AHEAD ((size_t)64 << 10) /* input read while a request is outstanding */
#define KP_NET_ACCEPT_BACKOFF_MS 100         /* pause after a failed accept(2) */

/*
 * The owner's callbacks.
 *
 * on_frame gets a frame body (size prefix removed) that it now owns
 * (free() it) and must eventually call kp_net_conn_reply or
 * kp_net_conn_done exactly once, now or later, unless it returns -1: then
 * the connection is closed with err's message as the logged reason.
 *
 * on_hangup (may be NULL) is called when the client shut down its sending
 * side while a request of it is outstanding: a parked request should be
 * answered soon (not from within the callback: the connection finishes
 * the request later, from the event loop).
 *
 * on_close (may be NULL) is called once before a connection is freed, so
 * the owner can drop a request it still holds for it (and must not reply
 * to it afterwards) and free its session.
 *
 * on_open (may be NULL) is called for each accepted connection before any
 * frame, with the listener's name (as given to kp_net_listen) and security
 * protocol; what it returns is the connection's session
 * (kp_net_conn_session), owned by the owner. NULL refuses the connection
 * (it is closed at once, without on_close).
 */
struct kp_net_callbacks {
	void *(*on_open)(kp_net_conn *conn, const char *listener, int proto, void *opaque);
	int (*on_frame)(kp_net_conn *conn, uint8_t *frame, size_t len, void *opaque, kp_error *err);
	void (*on_hangup)(kp_net_conn *conn, void *opaque);
	void (*on_close)(kp_net_conn *conn, void *opaque);
	void *opaque;
};

struct kp_net_config {
	int64_t max_request_bytes; /* socket.request.max.bytes (default 104857600) */
	int64_t idle_ms;           /* connections.max.idle.ms (default 600000; <= 0: never) */
};

/*
 * kp_net_new - a network layer on `base` (borrowed) with `cfg` (copied)
 * and `cb` (copied). Also routes libevent's own log messages to kp_diag.
 * Returns NULL when memory runs out.
 */
kp_net *kp_net_new(struct event_base *base, const struct kp_net_config *cfg,
		   const struct kp_net_callbacks *cb);

/*
 * kp_net_listen - start accepting on `host`:`port` ("" or "0.0.0.0" for
 * all interfaces) with `proto`; `listener` (copied) names the listener
 * ("PLAINTEXT", Kafka's listener name) for on_open. Returns 0, or -1 with KP_EINVAL
 * (unresolvable host, unsupported protocol), KP_ENOMEM, or KP_EIO
 * ("cannot listen on HOST:PORT: Address already in use").
 */
int kp_net_listen(kp_net *n, const char *listener, const char *host, int port, int proto,
		  kp_error *err);

/* kp_net_stop_accepting - close every listener; connections stay open. */
void kp_net_stop_accepting(kp_net *n);

/*
 * kp_net_drain - stop reading, close every connection once its pending
 * responses are written (or after `timeout_ms`), then call `done(opaque)`
 * once. Used on shutdown after the owner has answered its parked requests.
 */
void kp_net_drain(kp_net *n, int timeout_ms, void (*done)(void *opaque), void *opaque);

/* kp_net_free - close listeners and connections (on_close runs) and free `n` (NULL is fine). */
void kp_net_free(kp_net *n);

/*
 * kp_net_conn_reply - queue the response frame in `out` (a whole frame
 * with its size prefix; the bytes are copied, `out` stays the caller's)
 * and finish the current request, letting the next buffered one run.
 * `out` may be NULL for a request that gets no response (Produce acks=0).
 * Called outside on_frame (a parked request), it may close and free `c`:
 * do not use `c` afterwards.
 */
void kp_net_conn_reply(kp_net_conn *c, const kp_buf *out);
/* File bytes spliced into a response (kp_net_conn_reply_files). */
struct kp_net_file_part {
	size_t at;   /* position in the response kp_buf the bytes go before */
	int fd;      /* borrowed for the call: the connection sends from its own duplicate */
	int64_t pos; /* file position */
	int64_t len; /* bytes, > 0 */
};

/*
 * kp_net_conn_reply_files - kp_net_conn_reply for a response whose frame
 * is the bytes of `out` with parts[0..n) inserted (their `at` in
 * nondecreasing order, at most out->len). The file bytes are not read
 * into memory: they go to the socket with sendfile(2) (libevent file
 * segments) and count as unsent output for flow control. Each part's fd is
 * duplicated, and the duplicate closed once its bytes are sent, so the
 * caller's fds may be closed (the segment file even deleted) at once. When a file segment cannot be set up, nothing
 * is queued and the connection fails (as kp_net_conn_fail). May free `c`.
 */
void kp_net_conn_reply_files(kp_net_conn *c, const kp_buf *out, const struct kp_net_file_part *parts,
			     size_t n);
/*
 * kp_net_conn_fail - finish the current request without a response and
 * close `c` once the responses already queued are written, logging `why`
 * at WARN with the peer's address (a response that cannot be produced must
 * not leave the client waiting). Like kp_net_conn_reply it may free `c`.
 */
void kp_net_conn_fail(kp_net_conn *c, const char *why);
/* kp_net_conn_done - finish the current request without a response (as kp_net_conn_reply). */
static inline void kp_net_conn_done(kp_net_conn *c) { kp_net_conn_reply(c, NULL); }

/* kp_net_conn_peer - "HOST:PORT" of the client (owned by the connection). */
const char *kp_net_conn_peer(const kp_net_conn *c);

/* kp_net_conn_session - what on_open returned for `c` (NULL without on_open). */
void *kp_net_conn_session(const kp_net_conn *c);

#endif
