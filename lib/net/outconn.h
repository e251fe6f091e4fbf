/*
 * outconn.h - an outgoing, non-blocking Kafka client connection on a
 * libevent loop: what a broker's follower fetchers and a controller's
 * Raft and controller RPCs use to talk to other nodes (net.h is the
 * accepting side; client/conn.h is the blocking client of the CLI tools).
 *
 *   kp_outconn_new(base, host, port)   nothing happens yet
 *   kp_outconn_send(req, cb)           connects if needed, queues the frame;
 *                                      cb(resp) once: the decoded response,
 *                                      or an error (connect failure, lost
 *                                      connection, request timeout)
 *
 * Requests are framed with a correlation id and written at once (pipelined);
 * responses arrive in request order (Kafka guarantees it per connection)
 * and are matched by correlation id. A request that gets no answer within
 * its timeout fails with KP_ETIMEDOUT and closes the connection, as Kafka's
 * NetworkClient does (a late answer could not be told apart from the next
 * one otherwise); every other request in flight then fails with KP_ECONN.
 * After a failed connect or a lost connection, new sends fail at once with
 * KP_ECONN until the reconnect backoff has passed (reconnect.backoff.ms,
 * doubling up to reconnect.backoff.max.ms, like Kafka's clients); the next
 * send after it reconnects.
 *
 * The host name is resolved with a blocking getaddrinfo (numeric addresses,
 * as in controller.quorum.voters on loopback, never block). The caller picks
 * each request's version; there is no ApiVersions exchange yet. Only
 * PLAINTEXT. Not thread-safe; everything runs on the loop's thread.
 */
#ifndef KP_NET_OUTCONN_H
#define KP_NET_OUTCONN_H

#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"

struct event_base;

typedef struct kp_outconn kp_outconn;

struct kp_outconn_config {
	const char *client_id;      /* request header client id (copied); NULL for none */
	int64_t connect_timeout_ms; /* socket.connection.setup.timeout.ms (10000) */
	int64_t backoff_ms;         /* reconnect.backoff.ms (50) */
	int64_t backoff_max_ms;     /* reconnect.backoff.max.ms (1000) */
	int64_t max_response_bytes; /* larger response frames close the connection (100 MiB) */
	int security_protocol;      /* enum kp_security_protocol (PLAINTEXT), as transport.h */
};

/* kp_outconn_config_init - Kafka's client defaults (in parentheses above). */
void kp_outconn_config_init(struct kp_outconn_config *cfg);

/*
 * A request's completion. On success `resp` is the decoded response struct
 * of the request's API and version (generated type, e.g. struct
 * kp_vote_response) and `err` is NULL; it and everything it points to
 * (including record bytes) are valid only during the call. On failure
 * `resp` is NULL and `err` says why (KP_ECONN, KP_ETIMEDOUT, KP_EPROTO for
 * an undecodable answer). Called exactly once per accepted send, from the
 * event loop, never from within kp_outconn_send. The callback may send on
 * any connection but must not free the connection it was called for.
 */
typedef void (*kp_outconn_cb)(void *arg, const void *resp, const kp_error *err);

/*
 * kp_outconn_new - a connection to `host`:`port` (copied) on `base`
 * (borrowed), with `cfg` (copied; NULL for the defaults). It connects on
 * the first send. Returns NULL with KP_ENOMEM or KP_EINVAL (empty host,
 * port out of range).
 */
kp_outconn *kp_outconn_new(struct event_base *base, const char *host, int port,
			   const struct kp_outconn_config *cfg, kp_error *err);

/*
 * kp_outconn_free - close `c` (NULL is fine). Requests still in flight
 * complete first, from within this call, with KP_ECONN ("connection
 * closed"), so their callbacks can release what they hold.
 */
void kp_outconn_free(kp_outconn *c);

/*
 * kp_outconn_send - encode `req` (the generated request struct of
 * `api_key`, borrowed for the call only) at `version` and queue it;
 * `cb(arg, ...)` follows once within about `timeout_ms` (ms from now; the
 * connect time counts). Connects first when not connected. Returns 0, or
 * -1 without calling cb: KP_ECONN while in reconnect backoff (err says
 * until when), KP_EINVAL from the encoder, KP_ENOMEM.
 */
int kp_outconn_send(kp_outconn *c, int16_t api_key, int16_t version, const void *req,
		    int64_t timeout_ms, kp_outconn_cb cb, void *arg, kp_error *err);

/* kp_outconn_connected - whether the TCP connection is established. */
bool kp_outconn_connected(const kp_outconn *c);

/* kp_outconn_in_flight - requests sent (or queued while connecting) and not yet completed. */
int kp_outconn_in_flight(const kp_outconn *c);

/* kp_outconn_name - "host:port" (owned by `c`). */
const char *kp_outconn_name(const kp_outconn *c);

#endif
