/*
 * session.h - the broker's state of one client connection.
 *
 * A session is made when a connection is accepted (net's on_open) and
 * freed when it closes (on_close), after everything that waited for the
 * connection was told (the purgatory's KP_OP_CLOSED). It carries what
 * belongs to the connection and not to any one request: the listener it
 * came in on and that listener's security protocol, the authenticated
 * principal ("User:ANONYMOUS" until SASL and TLS authentication exist),
 * and the client software name and version from ApiVersions v3+
 * (KIP-511). Group membership does not live here: a member outlives its
 * connection; closing a session only wakes what was parked on it.
 */
#ifndef KP_BROKER_SESSION_H
#define KP_BROKER_SESSION_H

#include "net/net.h"

#define KP_PRINCIPAL_ANONYMOUS "User:ANONYMOUS"

struct kp_session {
	kp_net_conn *conn;              /* borrowed: the connection owns the session's life */
	char listener[32];              /* the listener's name, e.g. "PLAINTEXT" */
	int security_protocol;          /* enum kp_security_protocol */
	char principal[256];            /* "User:NAME"; KP_PRINCIPAL_ANONYMOUS */
	char *client_software_name;     /* owned; NULL until ApiVersions v3+ names it */
	char *client_software_version;  /* owned; NULL likewise */
};

/*
 * kp_session_new - a session for `conn` accepted on listener `listener`
 * (copied, truncated to 31 bytes) with security protocol `proto`, as the
 * anonymous principal. Returns NULL when memory runs out. Free with
 * kp_session_free.
 */
struct kp_session *kp_session_new(kp_net_conn *conn, const char *listener, int proto);

/* kp_session_free - free `s` and what it owns (NULL is fine). */
void kp_session_free(struct kp_session *s);

/*
 * kp_session_set_client_software - remember the client's software name and
 * version (copied; either may be NULL). Returns 0, or -1 when memory runs
 * out (the old values are kept).
 */
int kp_session_set_client_software(struct kp_session *s, const char *name, const char *version);

#endif
