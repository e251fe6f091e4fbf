/*
 * file.h - small crash-safe filesystem steps shared by the broker's
 * metadata files (meta.properties, partition.metadata) and its partition
 * directories.
 *
 * "Durable" here means surviving a power loss, not only a process kill:
 * the file's data is fsynced before it is renamed into place, and the
 * directory holding a created, renamed or removed entry is fsynced after.
 */
#ifndef KP_UTIL_FILE_H
#define KP_UTIL_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

/* kp_mkdir_p - create `dir` and missing parents (mode 0755). 0 or -1 (KP_EIO, KP_EINVAL). */
int kp_mkdir_p(const char *dir, kp_error *err);

/* kp_fsync_dir - fsync directory `dir` (its new/renamed entries last). 0 or -1 (KP_EIO). */
int kp_fsync_dir(const char *dir, kp_error *err);

/*
 * kp_write_file_atomic - replace `path` with the NUL-terminated `text`:
 * write PATH.tmp, fsync it, rename it over `path`, fsync the directory.
 * A crash leaves either the old file or the new one (and maybe a stale
 * PATH.tmp, overwritten next time). Returns 0 or -1 (KP_EIO, KP_EINVAL).
 */
int kp_write_file_atomic(const char *path, const char *text, kp_error *err);

/*
 * kp_remove_dir_files - remove every regular file directly in `dir`, then
 * `dir` itself (which must then be empty). Only for directories this
 * process made and filled (an abandoned partition directory). ENOENT for
 * `dir` is success. Returns 0 or -1 (KP_EIO).
 */
int kp_remove_dir_files(const char *dir, kp_error *err);

/*
 * kp_pread_full - read exactly `n` bytes at byte offset `off` of `fd`,
 * retrying short and interrupted reads. `path` only names the file in
 * errors. Returns 0, or -1 with KP_EIO (read failed, with errno text; or
 * the file ends before `n` bytes: "unexpected end of file").
 */
int kp_pread_full(int fd, void *buf, size_t n, int64_t off, const char *path, kp_error *err);
/*
 * kp_pwrite_full - write all `n` bytes at byte offset `off` of `fd`,
 * retrying short and interrupted writes. Returns 0, or -1 with KP_EIO
 * (ENOSPC when the disk takes nothing).
 */
int kp_pwrite_full(int fd, const uint8_t *p, size_t n, int64_t off, const char *path, kp_error *err);

#endif
