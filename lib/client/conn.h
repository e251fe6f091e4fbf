/*
 * conn.h - a blocking TCP connection from a client to one Kafka broker.
 *
 * A connection resolves host:port, connects with a timeout, sets
 * TCP_NODELAY and asks the broker which API versions it serves
 * (ApiVersions v3, falling back to v0; KIP-35, KIP-511). Requests are
 * framed and correlated here; responses are read in request order (the
 * protocol guarantees it per connection), so a caller may send several
 * requests before reading their responses.
 *
 * Every blocking call takes a timeout in milliseconds and fails with
 * KP_ETIMEDOUT when it passes; a broken connection fails with KP_ECONN and
 * stays broken (the owner opens a new one).
 */
#ifndef KP_CLIENT_CONN_H
#define KP_CLIENT_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/codec.h" /* enum kp_api_key (generated): KP_API_PRODUCE ... */
#include "util/arena.h"
#include "util/error.h"

typedef struct kp_conn kp_conn;

/*
 * kp_conn_open - connect to `host`:`port` within `timeout_ms` (every
 * address getaddrinfo returns is tried, within the same deadline), then
 * exchange ApiVersions. `client_id` (copied; may be NULL) goes into every
 * request header. Returns the connection, or NULL with KP_ECONN ("cannot
 * connect to HOST:PORT: REASON"), KP_ETIMEDOUT, KP_EPROTO or KP_ENOMEM in
 * `err`. Free with kp_conn_free.
 */
kp_conn *kp_conn_open(const char *host, int port, const char *client_id, int timeout_ms,
		      kp_error *err);

/* kp_conn_free - close and free `c` (NULL is fine). */
void kp_conn_free(kp_conn *c);

/* kp_conn_name - "host:port" as given to kp_conn_open (owned by `c`). */
const char *kp_conn_name(const kp_conn *c);

/* kp_conn_broken - whether an I/O failure has made `c` unusable. */
bool kp_conn_broken(const kp_conn *c);

/*
 * kp_conn_pick_version - the version of `api_key` to use with this broker:
 * min(broker's max, `our_max`), which must be at least `our_min`. Returns
 * the version, or -1 with KP_EPROTO naming the API and both ranges when
 * the ranges do not overlap or the broker does not serve the API.
 */
int kp_conn_pick_version(const kp_conn *c, int16_t api_key, int16_t our_min, int16_t our_max,
			 kp_error *err);

/*
 * kp_conn_send - encode and write one request (`req` is the generated
 * request struct of `api_key`) at `version`. *corr (may be NULL) gets its
 * correlation id for kp_conn_recv. Returns 0 or -1 (KP_EINVAL from the
 * encoder, KP_ECONN, KP_ETIMEDOUT).
 */
int kp_conn_send(kp_conn *c, int16_t api_key, int16_t version, const void *req, int32_t *corr,
		 int timeout_ms, kp_error *err);

/*
 * kp_conn_recv - read the next response frame, check that it answers
 * `corr`, and decode it as `api_key`/`version` into `resp` (the generated
 * response struct). The frame and everything decoded live in `arena`.
 * Returns 0 or -1 (KP_ECONN, KP_ETIMEDOUT, KP_EPROTO).
 */
int kp_conn_recv(kp_conn *c, int16_t api_key, int16_t version, int32_t corr, kp_arena *arena,
		 void *resp, int timeout_ms, kp_error *err);

/*
 * kp_conn_call - kp_conn_send then kp_conn_recv of the same request, within
 * `timeout_ms` each.
 */
int kp_conn_call(kp_conn *c, int16_t api_key, int16_t version, const void *req, kp_arena *arena,
		 void *resp, int timeout_ms, kp_error *err);

/*
 * kp_hostport_parse - split "host:port" (IPv6 as "[::1]:9092") into `host`
 * (NUL-terminated, at most `host_size` bytes) and *port. Returns 0 or -1
 * with KP_EINVAL.
 */
int kp_hostport_parse(const char *s, size_t len, char *host, size_t host_size, int *port,
		      kp_error *err);


#endif
