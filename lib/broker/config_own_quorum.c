/*
 * config_own_quorum.c - kbroker's single node as a cluster of one: a
 * broker that names no controller quorum runs in combined mode
 * (process.roles=broker,controller) as the only voter of its own
 * metadata quorum, so that one node and a cluster are the same code.
 *
 * The settings it adds are the ones an operator would write by hand:
 *
 *   node.id=<node.id or broker.id, default 1>
 *   process.roles=broker,controller
 *   controller.listener.names=CONTROLLER           (unless set)
 *   listeners=<listeners>,CONTROLLER://127.0.0.1:P (unless the named
 *                                                   controller listener is there)
 *   controller.quorum.voters=<node.id>@HOST:P      (the controller listener)
 *
 * P is a free loopback port picked at start when the controller listener
 * is not configured: only this process talks to it (its broker half
 * registers, heartbeats and forwards admin requests there), and a quorum
 * of one reaches its voter at whatever address it has today.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker/config.h"

/* free_loopback_port - a TCP port on 127.0.0.1 free right now; -1 with KP_EIO. */
static int free_loopback_port(kp_error *err)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd < 0)
		goto out;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
out:
	if (port < 0)
		kp_error_set(err, KP_EIO, "no free loopback port for the controller listener");
	return port;
}

/*
 * find_listener - the "HOST:PORT" of listener `name` in `ls` ("NAME://HOST:PORT,...")
 * into out[0..size); false when `ls` has none of that name.
 */
static bool find_listener(const char *ls, const char *name, char *out, size_t size)
{
	size_t n = strlen(name);

	for (const char *p = ls; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
		while (*p == ' ')
			p++;
		if (strncasecmp(p, name, n) != 0 || strncmp(p + n, "://", 3) != 0)
			continue;
		p += n + 3;
		size_t len = strcspn(p, ", ");

		if (len == 0 || len >= size)
			return false;
		memcpy(out, p, len);
		out[len] = '\0';
		return true;
	}
	return false;
}

/* own_quorum_wanted - no quorum named, and process.roles unset or broker,controller. */
static bool own_quorum_wanted(const kp_config *c)
{
	const char *roles = kp_config_get(c, "process.roles");

	if (kp_config_get(c, "controller.quorum.voters") ||
	    kp_config_get(c, "controller.quorum.bootstrap.servers"))
		return false;
	if (!roles)
		return KP_BROKER_OWN_QUORUM_BY_DEFAULT;
	return strcmp(roles, "broker,controller") == 0 || strcmp(roles, "controller,broker") == 0;
}

int kp_broker_config_own_quorum(kp_config *c, kp_error *err)
{
	const char *names = kp_config_get_str(c, "controller.listener.names", "CONTROLLER");
	const char *ls = kp_config_get_str(c, "listeners", KP_BROKER_DEFAULT_LISTENERS);
	const char *id = kp_config_get(c, "node.id") ? kp_config_get(c, "node.id")
						     : kp_config_get_str(c, "broker.id", "1");
	char name[64], addr[300], buf[1024];
	size_t n = strcspn(names, ", \t");

	if (!own_quorum_wanted(c))
		return 0;
	if (n == 0 || n >= sizeof(name))
		return kp_error_set(err, KP_EINVAL, "controller.listener.names: '%s' is not a name", names);
	memcpy(name, names, n);
	name[n] = '\0';
	if (!find_listener(ls, name, addr, sizeof(addr))) {
		int port = free_loopback_port(err);

		if (port < 0)
			return -1;
		snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
		if ((size_t)snprintf(buf, sizeof(buf), "%s,%s://%s", ls, name, addr) >= sizeof(buf))
			return kp_error_set(err, KP_EINVAL, "listeners: '%s' is too long", ls);
		if (kp_config_set(c, "listeners", buf, err) < 0)
			return -1;
	}
	snprintf(buf, sizeof(buf), "%s@%s", id, addr);
	if (kp_config_set(c, "node.id", id, err) < 0 ||
	    kp_config_set(c, "process.roles", "broker,controller", err) < 0 ||
	    kp_config_set(c, "controller.listener.names", names, err) < 0 ||
	    kp_config_set(c, "controller.quorum.voters", buf, err) < 0)
		return -1;
	return 1;
}

int kp_broker_config_combined(kp_config *c, const struct kp_broker_config *cfg, kp_error *err)
{
	if (!cfg->quorum.combined || kp_config_get(c, "metadata.log.dir"))
		return 0;
	return kp_config_set(c, "metadata.log.dir", cfg->quorum.metadata_log_dir, err);
}
