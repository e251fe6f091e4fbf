/*
 * config_cleaner.c - the log cleaner's broker settings, under Kafka's
 * names with Kafka's defaults (CleanerConfig, KafkaConfig's
 * log.cleaner.*); see config.h. The per-log settings a topic can
 * override (log.cleaner.delete.retention.ms, .min.cleanable.ratio,
 * .min.compaction.lag.ms, .max.compaction.lag.ms) are log configs,
 * parsed with the others in log_config.c.
 *
 *   log.cleaner.enable              true      run the cleaner at all
 *   log.cleaner.threads             1         0: no cleaning; kbroker runs at most one
 *   log.cleaner.dedupe.buffer.size  134217728 bytes of offset map (24 a key), all threads
 *   log.cleaner.backoff.ms          15000     sleep when no log needs cleaning
 */
#include <string.h>

#include "broker/config.h"

static const char *const keys[] = {
	"log.cleaner.enable", "log.cleaner.threads", "log.cleaner.dedupe.buffer.size",
	"log.cleaner.backoff.ms", NULL,
};

bool kp_cleaner_config_key(const char *key)
{
	for (int i = 0; keys[i]; i++)
		if (strcmp(keys[i], key) == 0)
			return true;
	return false;
}

int kp_cleaner_config_parse(const kp_config *c, struct kp_cleaner_config *o, kp_error *err)
{
	int64_t threads;

	memset(o, 0, sizeof(*o));
	if (kp_config_get_bool(c, "log.cleaner.enable", true, &o->enable, err) < 0 ||
	    kp_config_get_int64(c, "log.cleaner.threads", 1, 0, INT32_MAX, &threads, err) < 0 ||
	    kp_config_get_int64(c, "log.cleaner.dedupe.buffer.size", 134217728, 1024, INT64_MAX,
				&o->dedupe_buffer_bytes, err) < 0 ||
	    kp_config_get_int64(c, "log.cleaner.backoff.ms", 15000, 0, INT32_MAX, &o->backoff_ms,
				err) < 0)
		return -1;
	o->threads = (int32_t)threads;
	return 0;
}
