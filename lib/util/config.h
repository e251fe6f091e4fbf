/*
 * config.h - Kafka-style configuration: `key=value` properties files and
 * `KEY=VALUE` overrides from the command line. Later settings replace
 * earlier ones. Keys are Kafka's names (log.dirs, num.partitions, ...).
 *
 * Properties files follow java.util.Properties.load: '#' and '!' start
 * comment lines (which never continue); a line ending in an odd number of
 * backslashes continues on the next one, whose leading whitespace is
 * skipped; the key ends at the first unescaped '=', ':' or whitespace
 * (whitespace may surround the separator); escapes \t \n \r \f,
 * \uXXXX (written as UTF-8) and backslash before any other character (that
 * character: "\=", "\:", "\ ", "\\") are decoded in keys and values.
 * Unlike Java, trailing whitespace of a value is dropped and a line with
 * neither separator nor whitespace after its key is an error, not a key
 * with an empty value.
 *
 * A kp_config owns copies of all its keys and values.
 */
#ifndef KP_UTIL_CONFIG_H
#define KP_UTIL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

typedef struct kp_config kp_config;

/* kp_config_new - an empty configuration; NULL when memory runs out. */
kp_config *kp_config_new(void);
/* kp_config_free - free `c` and every string it holds (NULL is fine). */
void kp_config_free(kp_config *c);
/* kp_config_dup - a copy of `c` (the caller frees it); NULL with KP_ENOMEM. */
kp_config *kp_config_dup(const kp_config *c, kp_error *err);

/*
 * kp_config_set - set `key` to `value` (both copied). Returns 0 or -1
 * (KP_ENOMEM, or KP_EINVAL for an empty key).
 */
int kp_config_set(kp_config *c, const char *key, const char *value, kp_error *err);
/*
 * kp_config_set_pair - set from "KEY=VALUE" text as given to -o: split at
 * the first '=', whitespace around key and value dropped, no escapes.
 * Returns 0 or -1 with KP_EINVAL when there is no '=' or the key is empty.
 */
int kp_config_set_pair(kp_config *c, const char *pair, kp_error *err);
/*
 * kp_config_load - read a properties file at `path` into `c` (syntax
 * above). Returns 0 or -1 with KP_EIO (cannot read; message names the
 * file), KP_EINVAL (a line without a separator; message gives "path:line"
 * of the line's last physical line) or KP_ENOMEM.
 */
int kp_config_load(kp_config *c, const char *path, kp_error *err);

/* kp_config_get - the value of `key` (owned by `c`), or NULL when unset. */
const char *kp_config_get(const kp_config *c, const char *key);
/* kp_config_get_str - the value of `key`, or `def` when unset. */
const char *kp_config_get_str(const kp_config *c, const char *key, const char *def);
/*
 * kp_config_get_int64 - the value of `key` as a whole number in
 * [min, max], or `def` when unset. Returns 0 or -1 with KP_EINVAL naming
 * the key when the value is not a number in range.
 */
int kp_config_get_int64(const kp_config *c, const char *key, int64_t def, int64_t min,
			int64_t max, int64_t *out, kp_error *err);
/*
 * kp_config_get_bool - "true"/"false" (any case) or `def` when unset.
 * Returns 0 or -1 with KP_EINVAL naming the key.
 */
int kp_config_get_bool(const kp_config *c, const char *key, bool def, bool *out, kp_error *err);

/* kp_config_count / kp_config_key - iterate keys in insertion order (values: kp_config_get). */
size_t kp_config_count(const kp_config *c);
const char *kp_config_key(const kp_config *c, size_t i);

#endif
