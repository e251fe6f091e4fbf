/*
 * fuzz.h - what the libFuzzer targets in tests/fuzz share: FUZZ_CHECK, an
 * assertion that is never compiled out and aborts (which libFuzzer reports
 * as a crash and saves the input for) with the failed condition; and
 * fuzz_fix_crcs, so that mutated record batches get past their CRC check.
 */
#ifndef KP_TESTS_FUZZ_H
#define KP_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>

#include "record/batch.h"
#include "util/buf.h"

#define FUZZ_CHECK(cond)                                                                 \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                  \
			abort();                                                         \
		}                                                                        \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * fuzz_fix_crcs - recompute in place the CRC of each complete top-level
 * entry of `len` bytes at `p`: CRC-32C of a v2 batch (magic 2, at least a
 * header long), zlib CRC-32 of a legacy magic 0/1 message. Stops at the
 * first entry whose size does not fit.
 */
static inline void fuzz_fix_crcs(uint8_t *p, size_t len)
{
	size_t pos = 0, total;
	int32_t size;

	while (len - pos >= 17) {
		size = (int32_t)kp_load_u32(p + pos + 8);
		if (size < 5 || (size_t)size > len - pos - 12)
			return;
		total = 12 + (size_t)size;
		if (p[pos + 16] == 2 && total >= KP_BATCH_HEADER_SIZE)
			kp_store_u32(p + pos + 17, kp_crc32c(0, p + pos + 21, total - 21));
		else if (p[pos + 16] <= 1)
			kp_store_u32(p + pos + 12, (uint32_t)crc32(0, p + pos + 16, (uInt)(total - 16)));
		pos += total;
	}
}

#endif
