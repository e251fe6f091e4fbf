/*
 * topic_config.h - Kafka's topic-level configs (LogConfig): which names
 * exist and which values they take.
 */
#ifndef KP_METADATA_TOPIC_CONFIG_H
#define KP_METADATA_TOPIC_CONFIG_H

#include <stddef.h>
#include <stdint.h>

/*
 * kp_topic_config_check - whether `value` (may be NULL) is valid for the
 * topic config `name`, by Kafka's names, types and ranges (LogConfig;
 * values trimmed, booleans in any case). Returns KP_ERR_NONE, or
 * KP_ERR_INVALID_CONFIG with Kafka's message ("Unknown topic config name:
 * X", "Invalid value V for configuration X: why") in msg[0..size).
 */
int16_t kp_topic_config_check(const char *name, const char *value, char *msg, size_t size);

#endif
