/*
 * diag.h - the library's only way to say something. The library never
 * writes to a stream itself: it hands each message to a sink that the
 * program installs (cmd/ prints them on stderr); without a sink, messages
 * are dropped.
 */
#ifndef KP_UTIL_DIAG_H
#define KP_UTIL_DIAG_H

enum kp_diag_level {
	KP_DIAG_ERROR = 0,
	KP_DIAG_WARN,
	KP_DIAG_INFO,
	KP_DIAG_DEBUG,
};

/* A sink gets the level and one formatted line without a trailing newline. */
typedef void (*kp_diag_sink)(int level, const char *line, void *opaque);

/* kp_diag_set_sink - install `sink` (NULL to drop messages) with its `opaque`. */
void kp_diag_set_sink(kp_diag_sink sink, void *opaque);
/* kp_diag_set_level - drop messages less severe than `level` (default INFO). */
void kp_diag_set_level(int level);
/* kp_diag_enabled - whether a message at `level` would reach the sink. */
int kp_diag_enabled(int level);
/* kp_diag_level_parse - "error","warn","info","debug" to a level; -1 if unknown. */
int kp_diag_level_parse(const char *name);
/* kp_diag_level_name - the lowercase name of `level`. */
const char *kp_diag_level_name(int level);
/* kp_diag - format and hand one message to the sink. */
void kp_diag(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define kp_diag_error(...) kp_diag(KP_DIAG_ERROR, __VA_ARGS__)
#define kp_diag_warn(...) kp_diag(KP_DIAG_WARN, __VA_ARGS__)
#define kp_diag_info(...) kp_diag(KP_DIAG_INFO, __VA_ARGS__)
#define kp_diag_debug(...) kp_diag(KP_DIAG_DEBUG, __VA_ARGS__)

#endif
