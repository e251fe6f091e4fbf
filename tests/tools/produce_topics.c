/*
 * produce_topics.c - drive kp_producer with two topics, switching to the
 * second while a Produce request for the first is in flight (kproduce only
 * ever uses one topic).
 *
 *   produce_topics HOST:PORT TOPIC_A TOPIC_B
 *
 * Sends "a-0".."a-49" to TOPIC_A in 200-byte batches, then "b-0".."b-9" to
 * TOPIC_B (whose metadata is fetched at that moment, over the connection
 * the request in flight uses), then "a-50".."a-99" to TOPIC_A, and flushes.
 * Exit status 0 when every record was acknowledged, 1 with a message on
 * stderr otherwise, 2 on bad usage.
 */
#include <stdio.h>
#include <string.h>

#include "client/cluster.h"
#include "client/producer.h"
#include "util/config.h"

static int send_range(kp_producer *p, const char *topic, const char *prefix, int from, int to,
		      kp_error *err)
{
	char value[32];

	for (int i = from; i < to; i++) {
		struct kp_record rec = { .key_len = -1, .value = (const uint8_t *)value };
		rec.value_len = snprintf(value, sizeof value, "%s-%d", prefix, i);
		if (kp_producer_send(p, topic, -1, &rec, i, err) < 0)
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	kp_config *cfg = kp_config_new();
	kp_cluster *cluster = NULL;
	kp_producer *p = NULL;
	kp_error err;
	int rc = 1;

	if (argc != 4 || !cfg) {
		fprintf(stderr, "usage: produce_topics HOST:PORT TOPIC_A TOPIC_B\n");
		return 2;
	}
	kp_config_set(cfg, "batch.size", "200", NULL);
	if (!(cluster = kp_cluster_new(argv[1], cfg, &err)) || !(p = kp_producer_new(cluster, cfg, &err)) ||
	    send_range(p, argv[2], "a", 0, 50, &err) < 0 || send_range(p, argv[3], "b", 0, 10, &err) < 0 ||
	    send_range(p, argv[2], "a", 50, 100, &err) < 0 || kp_producer_flush(p, &err) < 0)
		fprintf(stderr, "produce_topics: %s\n", err.msg);
	else
		rc = 0;
	kp_producer_free(p);
	kp_cluster_free(cluster);
	kp_config_free(cfg);
	return rc;
}
