/*
 * file.c - crash-safe filesystem steps; see file.h.
 */
#include "util/file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int kp_mkdir_p(const char *dir, kp_error *err)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return kp_error_set(err, KP_EINVAL, "path too long: %s", dir);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return kp_error_errno(err, "cannot create %s", path);
		*p = '/';
	}
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return kp_error_errno(err, "cannot create %s", path);
	return 0;
}

int kp_fsync_dir(const char *dir, kp_error *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0 || fsync(fd) < 0)
		rc = kp_error_errno(err, "cannot sync directory %s", dir);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* parent_dir - the directory part of `path` ("." when none) into `out`. */
static void parent_dir(const char *path, char *out, size_t outlen)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(out, outlen, ".");
	else if (slash == path)
		snprintf(out, outlen, "/");
	else
		snprintf(out, outlen, "%.*s", (int)(slash - path), path);
}

int kp_write_file_atomic(const char *path, const char *text, kp_error *err)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	size_t len = strlen(text);
	int fd = -1;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return kp_error_set(err, KP_EINVAL, "path too long: %s", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return kp_error_errno(err, "cannot write %s", tmp);
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		return kp_error_errno(err, "cannot rename %s to %s", tmp, path);
	parent_dir(path, dir, sizeof(dir));
	return kp_fsync_dir(dir, err);
fail:
	kp_error_errno(err, "cannot write %s", tmp);
	if (fd >= 0)
		close(fd);
	return -1;
}

int kp_remove_dir_files(const char *dir, kp_error *err)
{
	DIR *dh = opendir(dir);
	struct dirent *de;
	char path[PATH_MAX];
	int rc = 0;

	if (!dh)
		return errno == ENOENT ? 0 : kp_error_errno(err, "cannot read %s", dir);
	while ((de = readdir(dh))) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && unlink(path) < 0 && rc == 0)
			rc = kp_error_errno(err, "cannot remove %s", path);
	}
	closedir(dh);
	if (rc == 0 && rmdir(dir) < 0)
		rc = kp_error_errno(err, "cannot remove %s", dir);
	return rc;
}

int kp_pread_full(int fd, void *buf, size_t n, int64_t off, const char *path, kp_error *err)
{
	uint8_t *p = buf;
	ssize_t got;

	while (n > 0) {
		got = pread(fd, p, n, (off_t)off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return kp_error_errno(err, "%s: read at %" PRId64, path, off);
		if (got == 0)
			return kp_error_set(err, KP_EIO, "%s: unexpected end of file at %" PRId64, path, off);
		p += got;
		off += got;
		n -= (size_t)got;
	}
	return 0;
}

int kp_pwrite_full(int fd, const uint8_t *p, size_t n, int64_t off, const char *path, kp_error *err)
{
	ssize_t put;

	while (n > 0) {
		put = pwrite(fd, p, n, (off_t)off);
		if (put < 0 && errno == EINTR)
			continue;
		if (put <= 0) {
			if (put == 0)
				errno = ENOSPC;
			return kp_error_errno(err, "%s: write at %" PRId64, path, off);
		}
		p += put;
		off += put;
		n -= (size_t)put;
	}
	return 0;
}
