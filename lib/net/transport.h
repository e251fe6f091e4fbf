/*
 * transport.h - what every Kafka connection shares, accepted (net.h) or
 * outgoing (outconn.h): the bufferevent under it and the reading of
 * size-prefixed frames. It is the one place a security protocol will
 * wrap the socket (bufferevent_openssl for SSL, a SASL exchange before
 * frames reach the owner), for both directions at once. Not installed.
 *
 *   +----------------+-----------------------------------------+
 *   | size (int32 BE)| size bytes: header + body               |
 *   +----------------+-----------------------------------------+
 */
#ifndef KP_NET_TRANSPORT_H
#define KP_NET_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct bufferevent;
struct evbuffer;

/* The security protocols of a listener or connection (Kafka's SecurityProtocol ids). */
enum kp_security_protocol {
	KP_SECURITY_PLAINTEXT = 0,
};

/*
 * kp_transport_bev_new - the bufferevent of a connection on `base`: over
 * accepted socket `fd`, or (fd -1) one to be connected with
 * bufferevent_socket_connect*, for security protocol `proto` (only
 * PLAINTEXT today), TCP_NODELAY set on an accepted socket (responses go
 * out as soon as they are ready, as Kafka's SocketServer does; outgoing
 * ones set it once connected), closing the socket when freed. `deferred`
 * defers its callbacks to the loop (a connect that fails at once then
 * reports from the loop, not from within the call). Returns NULL when
 * memory runs out or `proto` is unknown; the caller owns the result (and,
 * on failure, still owns `fd`).
 */
struct bufferevent *kp_transport_bev_new(struct event_base *base, int fd, int proto,
					 int deferred);

/* Why kp_transport_take_frame refused a frame. */
enum kp_frame_error {
	KP_FRAME_OK = 0,
	KP_FRAME_TOO_SMALL, /* a size below the caller's minimum (negative, for requests) */
	KP_FRAME_TOO_LARGE, /* a size above the caller's maximum */
	KP_FRAME_NO_MEMORY,
};

/*
 * kp_transport_take_frame - take one whole frame out of `in`: its body
 * (malloc'd, the caller frees it) to *frame and its size in bytes to
 * *len. Returns 1 for a frame, 0 when more bytes are needed (nothing
 * taken), -1 with *why set when the frame's size is outside [min, max]
 * bytes or no memory holds it; such a frame must close the connection
 * (*size gets the size read, for the message).
 */
int kp_transport_take_frame(struct evbuffer *in, int32_t min, int64_t max, uint8_t **frame,
			    size_t *len, int32_t *size, enum kp_frame_error *why);

#endif
