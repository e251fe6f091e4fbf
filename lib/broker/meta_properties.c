/*
 * meta_properties.c - the log dir's identity file, as Kafka (KRaft mode)
 * writes it in every log dir (KIP-631):
 *
 *   version=1
 *   node.id=1
 *   cluster.id=<22-char base64url uuid>
 *
 * The cluster id is generated once, on first start, and reused after.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/meta_properties.h"
#include "broker/uuid.h"
#include "util/file.h"

/* read_meta - node.id and cluster.id from an existing file; 1 if read, 0 if absent, -1 on error. */
static int read_meta(const char *path, int32_t *node_id, char *cluster_id, size_t len, kp_error *err)
{
	kp_config *c;
	int64_t id;

	if (access(path, F_OK) < 0)
		return 0;
	c = kp_config_new();
	if (!c)
		return kp_error_set(err, KP_ENOMEM, "out of memory");
	if (kp_config_load(c, path, err) < 0)
		goto fail;
	const char *cid = kp_config_get(c, "cluster.id");

	if (!cid || !*cid || strlen(cid) >= len) {
		kp_error_set(err, KP_ECORRUPT, "%s: missing or bad cluster.id", path);
		goto fail;
	}
	if (kp_config_get_int64(c, "node.id", -1, -1, INT32_MAX, &id, err) < 0)
		goto fail;
	if (id < 0 && kp_config_get_int64(c, "broker.id", -1, -1, INT32_MAX, &id, err) < 0)
		goto fail;
	snprintf(cluster_id, len, "%s", cid);
	*node_id = (int32_t)id;
	kp_config_free(c);
	return 1;
fail:
	kp_config_free(c);
	return -1;
}

/* write_meta - DIR/meta.properties, atomically (kp_write_file_atomic). */
static int write_meta(const char *path, int32_t node_id, const char *cluster_id, kp_error *err)
{
	char text[256];

	snprintf(text, sizeof(text), "#\n#written by kbroker\nnode.id=%d\nversion=1\ncluster.id=%s\n",
		 node_id, cluster_id);
	return kp_write_file_atomic(path, text, err);
}

int kp_meta_properties_ensure(const char *dir, int32_t node_id, char *cluster_id, size_t len,
			      kp_error *err)
{
	char path[PATH_MAX];
	int32_t found_node = -1;
	char found[64];

	snprintf(path, sizeof(path), "%s/meta.properties", dir);
	int rc = read_meta(path, &found_node, found, sizeof(found), err);

	if (rc < 0)
		return -1;
	if (rc == 1) {
		if (found_node != node_id)
			return kp_error_set(err, KP_EINVAL,
					    "%s has node.id %d but the configured node.id is %d", path,
					    found_node, node_id);
		if (cluster_id[0] && strcmp(cluster_id, found) != 0)
			return kp_error_set(err, KP_EINVAL, "%s has cluster.id %s, another log dir has %s",
					    path, found, cluster_id);
		snprintf(cluster_id, len, "%s", found);
		return 0;
	}
	if (!cluster_id[0]) {
		kp_uuid u;

		if (kp_uuid_random(&u, err) < 0)
			return -1;
		kp_uuid_format(&u, cluster_id);
	}
	return write_meta(path, node_id, cluster_id, err);
}
