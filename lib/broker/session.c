/*
 * session.c - the per-connection session (see session.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/session.h"

struct kp_session *kp_session_new(kp_net_conn *conn, const char *listener, int proto)
{
	struct kp_session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->conn = conn;
	snprintf(s->listener, sizeof(s->listener), "%s", listener ? listener : "");
	s->security_protocol = proto;
	snprintf(s->principal, sizeof(s->principal), "%s", KP_PRINCIPAL_ANONYMOUS);
	return s;
}

void kp_session_free(struct kp_session *s)
{
	if (!s)
		return;
	free(s->client_software_name);
	free(s->client_software_version);
	free(s);
}

int kp_session_set_client_software(struct kp_session *s, const char *name, const char *version)
{
	char *n = name ? strdup(name) : NULL;
	char *v = version ? strdup(version) : NULL;

	if ((name && !n) || (version && !v)) {
		free(n);
		free(v);
		return -1;
	}
	free(s->client_software_name);
	free(s->client_software_version);
	s->client_software_name = n;
	s->client_software_version = v;
	return 0;
}
