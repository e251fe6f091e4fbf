/*
 * log_config.c - an open log's settings change when its topic's configs
 * do (Kafka's UnifiedLog.updateConfig after a ConfigRecord): the values
 * that belong to the open log itself stay as they were opened.
 */
#include "log/log_internal.h"

#include <string.h>

bool kp_log_set_config(kp_log *log, const struct kp_log_config *cfg)
{
	struct kp_log_config next = *cfg;

	next.flusher = log->cfg.flusher;
	next.producer_state = log->cfg.producer_state;
	next.persist_start = log->cfg.persist_start;
	if (next.segment_bytes == log->cfg.segment_bytes && next.segment_ms == log->cfg.segment_ms &&
	    next.index_interval_bytes == log->cfg.index_interval_bytes &&
	    next.max_index_bytes == log->cfg.max_index_bytes &&
	    next.flush_messages == log->cfg.flush_messages && next.flush_ms == log->cfg.flush_ms &&
	    next.retention_ms == log->cfg.retention_ms &&
	    next.retention_bytes == log->cfg.retention_bytes &&
	    next.cleanup_delete == log->cfg.cleanup_delete &&
	    next.cleanup_compact == log->cfg.cleanup_compact &&
	    next.delete_retention_ms == log->cfg.delete_retention_ms &&
	    next.min_cleanable_dirty_ratio == log->cfg.min_cleanable_dirty_ratio &&
	    next.min_compaction_lag_ms == log->cfg.min_compaction_lag_ms &&
	    next.max_compaction_lag_ms == log->cfg.max_compaction_lag_ms)
		return false;
	log->cfg = next;
	return true;
}

const struct kp_log_config *kp_log_get_config(const kp_log *log)
{
	return &log->cfg;
}
