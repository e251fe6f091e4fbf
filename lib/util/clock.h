/*
 * clock.h - the library's clocks, in milliseconds: wall time for what is
 * stored or compared with record timestamps (roll times, flush times,
 * record timestamps), monotonic time for deadlines and timeouts, and a
 * sleep for back-offs in the blocking client.
 */
#ifndef KP_UTIL_CLOCK_H
#define KP_UTIL_CLOCK_H

#include <stdint.h>

/* kp_wall_ms - CLOCK_REALTIME in milliseconds since the Unix epoch. */
int64_t kp_wall_ms(void);
/* kp_mono_ms - CLOCK_MONOTONIC in milliseconds (arbitrary origin), for deadlines. */
int64_t kp_mono_ms(void);
/* kp_sleep_ms - sleep `ms` milliseconds (nothing for ms <= 0); a signal may cut it short. */
void kp_sleep_ms(int64_t ms);

#endif
