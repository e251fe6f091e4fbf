/*
 * clock.c - millisecond clocks and sleep; see clock.h.
 */
#include "util/clock.h"

#include <time.h>

static int64_t clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t kp_wall_ms(void) { return clock_ms(CLOCK_REALTIME); }

int64_t kp_mono_ms(void) { return clock_ms(CLOCK_MONOTONIC); }

void kp_sleep_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };

	if (ms > 0)
		nanosleep(&ts, NULL);
}
