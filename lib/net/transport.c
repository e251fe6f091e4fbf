/*
 * transport.c - the bufferevent and frame reading shared by accepted and
 * outgoing connections; see transport.h.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "net/transport.h"
#include "util/buf.h"

struct bufferevent *kp_transport_bev_new(struct event_base *base, int fd, int proto,
					 int deferred)
{
	int one = 1;

	if (proto != KP_SECURITY_PLAINTEXT)
		return NULL;
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return bufferevent_socket_new(base, fd,
				      BEV_OPT_CLOSE_ON_FREE | (deferred ? BEV_OPT_DEFER_CALLBACKS : 0));
}

int kp_transport_take_frame(struct evbuffer *in, int32_t min, int64_t max, uint8_t **frame,
			    size_t *len, int32_t *size, enum kp_frame_error *why)
{
	uint8_t hdr[4];
	uint8_t *p;

	if (evbuffer_get_length(in) < 4)
		return 0;
	evbuffer_copyout(in, hdr, 4);
	*size = (int32_t)kp_load_u32(hdr);
	if (*size < min) {
		*why = KP_FRAME_TOO_SMALL;
		return -1;
	}
	if ((int64_t)*size > max) {
		*why = KP_FRAME_TOO_LARGE;
		return -1;
	}
	if (evbuffer_get_length(in) < 4 + (size_t)*size)
		return 0;
	if (!(p = malloc(*size ? (size_t)*size : 1))) {
		*why = KP_FRAME_NO_MEMORY;
		return -1;
	}
	evbuffer_drain(in, 4);
	evbuffer_remove(in, p, (size_t)*size);
	*frame = p;
	*len = (size_t)*size;
	*why = KP_FRAME_OK;
	return 1;
}
