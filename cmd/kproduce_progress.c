/*
 * kproduce_progress.c - the progress line on a terminal; see
 * kproduce_progress.h.
 */
#include "kproduce_progress.h"

#include <stdio.h>
#include <unistd.h>

#include "common.h"
#include "util/clock.h"

#define REDRAW_MS 250

void kp_progress_init(struct kp_progress *pr)
{
	/* not while someone types the input: the line would get in the way */
	*pr = (struct kp_progress){ .on = isatty(STDERR_FILENO) == 1 && isatty(STDIN_FILENO) != 1 };
	pr->start_ms = kp_mono_ms();
	pr->next_ms = pr->start_ms + REDRAW_MS;
}

/* `v` bytes as "123.4 MB" (decimal units) into buf. */
static void human(double v, char *buf, size_t size)
{
	static const char *const unit[] = { "B", "kB", "MB", "GB", "TB" };
	int u = 0;

	while (v >= 1000 && u < 4) {
		v /= 1000;
		u++;
	}
	snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

static void draw(struct kp_progress *pr, int64_t now)
{
	double s = (double)(now - pr->start_ms) / 1000;
	char bytes[32], rate[32];

	if (s < 0.001)
		s = 0.001;
	human((double)pr->bytes, bytes, sizeof bytes);
	human((double)pr->bytes / s, rate, sizeof rate);
	fprintf(stderr, "\r%s: %llu records, %s, %.0f records/s, %s/s\033[K", kp_progname,
		(unsigned long long)pr->records, bytes, (double)pr->records / s, rate);
	fflush(stderr);
	pr->drawn = true;
}

void kp_progress_add(struct kp_progress *pr, size_t bytes)
{
	int64_t now;

	pr->records++;
	pr->bytes += bytes;
	if (!pr->on || (pr->records & 15) != 0)
		return;
	if ((now = kp_mono_ms()) < pr->next_ms)
		return;
	pr->next_ms = now + REDRAW_MS;
	draw(pr, now);
}

void kp_progress_done(struct kp_progress *pr)
{
	if (!pr->on || pr->records == 0)
		return;
	draw(pr, kp_mono_ms());
	fputc('\n', stderr);
}
