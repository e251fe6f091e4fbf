/*
 * timestamp.h - record timestamps written by people: milliseconds since
 * the Unix epoch, or an ISO 8601 date and time, for the tools' options
 * (kproduce --timestamp, kconsume -o @TIMESTAMP) and the JSON record lines.
 */
#ifndef KP_CLIENT_TIMESTAMP_H
#define KP_CLIENT_TIMESTAMP_H

#include <stdint.h>

#include "util/error.h"

/*
 * kp_timestamp_parse - the time `s` names, in milliseconds since the Unix
 * epoch, into *ms. `s` is either a whole number of milliseconds (>= 0) or
 * an ISO 8601 date with an optional time:
 *
 *   2024-05-01                       midnight UTC
 *   2024-05-01T12:30                 (a space may stand for the T)
 *   2024-05-01T12:30:05.250Z         fractions of a second to milliseconds
 *   2024-05-01T14:30:05+02:00        a zone offset, +HH:MM, +HHMM or +HH
 *
 * A time without a zone is UTC. Returns 0, or -1 with KP_EINVAL when `s`
 * is neither (the message quotes it).
 */
int kp_timestamp_parse(const char *s, int64_t *ms, kp_error *err);

#endif
