/* The tar writer (see include/ctxd/pack.h), on libarchive's pax-restricted
 * format: plain USTAR headers unless a path, link target, size or mtime
 * needs a PAX record, which is what Go's archive/tar does for Docker. */
#include "ctxd/pack.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_CHUNK (1u << 20)
/* Output is held until this much is ready (or ctxd_pack_flush): big writes
 * for throughput, but never more than one buffer behind the reads. */
#define OUT_CHUNK (256u << 10)

struct ctxd_pack {
	struct archive *a;
	struct archive_entry *ae;
	int rootfd;
	const char *root;
	ctxd_pack_write_fn write;
	void *ud;
	struct ctxd_error werr; /* the writer's error, kept across libarchive */
	bool wfailed;
	bool finished; /* a clean end was written; otherwise nothing more may be */
	char *buf;
	char *out; /* OUT_CHUNK bytes, out_len of them not yet written */
	size_t out_len;
	char *name; /* path with '/' for directories */
	size_t name_cap;
	struct ctxd_pack_stats stats;
};

/* Hands buf to the writer; the stats say what it has been given. */
static int emit(struct ctxd_pack *pk, const void *buf, size_t len)
{
	/* filter 0 is the compressor (or the plain writer): what went into it */
	pk->stats.tar_bytes = (uint64_t)archive_filter_bytes(pk->a, 0);
	if (pk->write(pk->ud, buf, len, &pk->werr) < 0) {
		pk->wfailed = true;
		return -1;
	}
	pk->stats.stream_bytes += len;
	return 0;
}

static int drain(struct ctxd_pack *pk)
{
	if (pk->wfailed)
		return -1;
	if (!pk->out_len)
		return 0;
	if (emit(pk, pk->out, pk->out_len) < 0)
		return -1;
	pk->out_len = 0;
	return 0;
}

static la_ssize_t on_write(struct archive *a, void *ud, const void *buf, size_t len)
{
	struct ctxd_pack *pk = ud;

	(void)a;
	if (!pk->write) /* destroyed mid-stream: never pad out a broken entry */
		return -1;
	if (pk->out_len + len > OUT_CHUNK && drain(pk) < 0)
		return -1;
	if (len >= OUT_CHUNK) {
		if (emit(pk, buf, len) < 0)
			return -1;
	} else {
		memcpy(pk->out + pk->out_len, buf, len);
		pk->out_len += len;
	}
	return (la_ssize_t)len;
}

static void archive_fail(struct ctxd_pack *pk, struct ctxd_error *err, const char *what)
{
	if (pk->wfailed)
		*err = pk->werr;
	else
		ctxd_error_set(err, "%s: %s", what, archive_error_string(pk->a));
}

struct ctxd_pack *ctxd_pack_create(int rootfd, const char *root, enum ctxd_compress compress,
				   ctxd_pack_write_fn write, void *ud, struct ctxd_error *err)
{
	struct ctxd_pack *pk = calloc(1, sizeof *pk);
	int rc = ARCHIVE_OK;

	if (!pk || !(pk->buf = malloc(READ_CHUNK)) || !(pk->out = malloc(OUT_CHUNK)) ||
	    !(pk->a = archive_write_new()) ||
	    !(pk->ae = archive_entry_new())) {
		ctxd_error_set(err, "out of memory");
		ctxd_pack_destroy(pk);
		return NULL;
	}
	pk->rootfd = rootfd;
	pk->root = root;
	pk->write = write;
	pk->ud = ud;
	switch (compress) {
	case CTXD_COMPRESS_NONE: rc = archive_write_add_filter_none(pk->a); break;
	case CTXD_COMPRESS_GZIP: rc = archive_write_add_filter_gzip(pk->a); break;
	case CTXD_COMPRESS_XZ: rc = archive_write_add_filter_xz(pk->a); break;
	case CTXD_COMPRESS_BZIP2: rc = archive_write_add_filter_bzip2(pk->a); break;
	}
	if (rc == ARCHIVE_OK)
		rc = archive_write_set_format_pax_restricted(pk->a);
	if (rc == ARCHIVE_OK && compress == CTXD_COMPRESS_GZIP)
		rc = archive_write_set_filter_option(pk->a, "gzip", "timestamp", NULL);
	/* no blocking (on_write buffers), so no padding after the
	 * end-of-archive blocks either */
	if (rc == ARCHIVE_OK)
		rc = archive_write_set_bytes_per_block(pk->a, 0);
	if (rc == ARCHIVE_OK)
		rc = archive_write_open2(pk->a, pk, NULL, on_write, NULL, NULL);
	if (rc != ARCHIVE_OK) {
		archive_fail(pk, err, "cannot start the tar stream");
		ctxd_pack_destroy(pk);
		return NULL;
	}
	return pk;
}

static int set_name(struct ctxd_pack *pk, const struct ctxd_entry *e)
{
	size_t need = e->path_len + 2;

	if (need > pk->name_cap) {
		char *n = realloc(pk->name, need);

		if (!n)
			return -1;
		pk->name = n;
		pk->name_cap = need;
	}
	memcpy(pk->name, e->path, e->path_len);
	pk->name[e->path_len] = '\0';
	if (e->type == CTXD_ENTRY_DIR) {
		pk->name[e->path_len] = '/';
		pk->name[e->path_len + 1] = '\0';
	}
	return 0;
}

static int open_content(struct ctxd_pack *pk, const struct ctxd_entry *e)
{
	int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;

	if (e->dirfd >= 0)
		return openat(e->dirfd, e->name, flags);
	return openat(pk->rootfd, e->path, flags);
}

static bool same_key(const struct stat *st, const struct ctxd_hash_key *key)
{
	struct ctxd_hash_key now;

	ctxd_hash_key_from_stat(st, &now);
	return ctxd_hash_key_equal(&now, key);
}

static void changed_after_compare(struct ctxd_pack *pk, const struct ctxd_entry *e,
				  struct ctxd_error *err)
{
	ctxd_error_set(err, "%s/%s: changed after it was compared with its duplicates; "
		       "the stream was aborted", pk->root, e->path);
}

static int copy_content(struct ctxd_pack *pk, const struct ctxd_entry *e, int fd,
			uint64_t size, struct ctxd_error *err)
{
	uint64_t left = size;

	while (left > 0) {
		size_t want = left < READ_CHUNK ? (size_t)left : READ_CHUNK;
		ssize_t n = read(fd, pk->buf, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ctxd_error_set(err, "%s/%s: read failed: %s", pk->root, e->path, strerror(errno));
			return -1;
		}
		if (n == 0) {
			ctxd_error_set(err, "%s/%s: file shrank while being packed (%llu of %llu bytes); "
				       "the stream was aborted", pk->root, e->path,
				       (unsigned long long)(size - left), (unsigned long long)size);
			return -1;
		}
		if (archive_write_data(pk->a, pk->buf, (size_t)n) < 0) {
			archive_fail(pk, err, "tar stream");
			return -1;
		}
		left -= (uint64_t)n;
	}
	/* one more byte means the file grew after its header was written */
	for (;;) {
		ssize_t n = read(fd, pk->buf, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n > 0) {
			ctxd_error_set(err, "%s/%s: file grew while being packed (more than %llu bytes); "
				       "the stream was aborted", pk->root, e->path, (unsigned long long)size);
			return -1;
		}
		break;
	}
	pk->stats.files++;
	pk->stats.content_bytes += size;
	return 0;
}

/* key: the stat key the file must keep while it is read (NULL: only its
 * inode and size are checked). link: write a FILE entry as a hard link. */
static int add(struct ctxd_pack *pk, const struct ctxd_entry *e, const struct ctxd_hash_key *key,
	       const char *link, struct ctxd_error *err)
{
	struct archive_entry *ae = pk->ae;
	uint64_t size = e->size;
	int fd = -1, rc = -1;

	if (e->excluded || e->type == CTXD_ENTRY_SOCKET)
		return 0;
	if (set_name(pk, e) < 0) {
		ctxd_error_set(err, "out of memory");
		return -1;
	}
	if (e->type == CTXD_ENTRY_FILE && !e->data && size > 0 && !link) {
		struct stat st;

		fd = open_content(pk, e);
		if (fd < 0) {
			ctxd_error_set(err, "%s/%s: cannot read: %s", pk->root, e->path, strerror(errno));
			return -1;
		}
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_ino != e->ino) {
			ctxd_error_set(err, "%s/%s: replaced while being packed; the stream was aborted",
				       pk->root, e->path);
			goto out;
		}
		if ((uint64_t)st.st_size != size) {
			ctxd_error_set(err, "%s/%s: %s while being packed (%llu bytes when scanned, %llu now); "
				       "the stream was aborted", pk->root, e->path,
				       (uint64_t)st.st_size < size ? "shrank" : "grew",
				       (unsigned long long)size, (unsigned long long)st.st_size);
			goto out;
		}
		if (key && !same_key(&st, key)) {
			changed_after_compare(pk, e, err);
			goto out;
		}
	}
	archive_entry_clear(ae);
	archive_entry_copy_pathname(ae, pk->name);
	archive_entry_set_perm(ae, e->mode & 07777);
	archive_entry_set_uid(ae, 0);
	archive_entry_set_gid(ae, 0);
	archive_entry_set_mtime(ae, e->mtime, 0);
	switch (link ? CTXD_ENTRY_HARDLINK : e->type) {
	case CTXD_ENTRY_FILE:
		archive_entry_set_filetype(ae, AE_IFREG);
		archive_entry_set_size(ae, (la_int64_t)size);
		break;
	case CTXD_ENTRY_HARDLINK:
		archive_entry_set_filetype(ae, AE_IFREG);
		archive_entry_copy_hardlink(ae, link ? link : e->link);
		archive_entry_set_size(ae, 0);
		break;
	case CTXD_ENTRY_DIR:
		archive_entry_set_filetype(ae, AE_IFDIR);
		break;
	case CTXD_ENTRY_SYMLINK:
		archive_entry_set_filetype(ae, AE_IFLNK);
		archive_entry_copy_symlink(ae, e->link);
		break;
	case CTXD_ENTRY_FIFO:
		archive_entry_set_filetype(ae, AE_IFIFO);
		break;
	case CTXD_ENTRY_CHAR:
	case CTXD_ENTRY_BLOCK:
		archive_entry_set_filetype(ae, e->type == CTXD_ENTRY_CHAR ? AE_IFCHR : AE_IFBLK);
		archive_entry_set_rdevmajor(ae, e->rdev_major);
		archive_entry_set_rdevminor(ae, e->rdev_minor);
		break;
	case CTXD_ENTRY_SOCKET:
		break;
	}
	if (archive_write_header(pk->a, ae) < ARCHIVE_WARN) {
		archive_fail(pk, err, "tar stream");
		goto out;
	}
	pk->stats.entries++;
	if (!link && e->type == CTXD_ENTRY_FILE && e->data) {
		if (size && archive_write_data(pk->a, e->data, (size_t)size) < 0) {
			archive_fail(pk, err, "tar stream");
			goto out;
		}
		pk->stats.files++;
		pk->stats.content_bytes += size;
	} else if (fd >= 0) {
		struct stat st;

		if (copy_content(pk, e, fd, size, err) < 0)
			goto out;
		if (key && (fstat(fd, &st) < 0 || !same_key(&st, key))) {
			changed_after_compare(pk, e, err);
			goto out;
		}
	}
	/* the reader sees the stream start without waiting for a full buffer */
	if (pk->stats.entries == 1 && drain(pk) < 0) {
		archive_fail(pk, err, "tar stream");
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

int ctxd_pack_add(struct ctxd_pack *pk, const struct ctxd_entry *e, struct ctxd_error *err)
{
	return add(pk, e, NULL, NULL, err);
}

int ctxd_pack_add_verified(struct ctxd_pack *pk, const struct ctxd_entry *e,
			   const struct ctxd_hash_key *key, struct ctxd_error *err)
{
	return add(pk, e, key, NULL, err);
}

int ctxd_pack_add_link(struct ctxd_pack *pk, const struct ctxd_entry *e, const char *target,
		       struct ctxd_error *err)
{
	if (e->type != CTXD_ENTRY_FILE) {
		ctxd_error_set(err, "%s/%s: only a regular file can be sent as a link", pk->root, e->path);
		return -1;
	}
	return add(pk, e, NULL, target, err);
}

int ctxd_pack_visit(void *ud, const struct ctxd_entry *e, struct ctxd_error *err)
{
	return ctxd_pack_add(ud, e, err);
}

int ctxd_pack_flush(struct ctxd_pack *pk, struct ctxd_error *err)
{
	if (drain(pk) < 0) {
		archive_fail(pk, err, "tar stream");
		return -1;
	}
	return 0;
}

int ctxd_pack_finish(struct ctxd_pack *pk, struct ctxd_error *err)
{
	if (archive_write_close(pk->a) != ARCHIVE_OK) {
		archive_fail(pk, err, "cannot finish the tar stream");
		return -1;
	}
	if (drain(pk) < 0) {
		archive_fail(pk, err, "cannot finish the tar stream");
		return -1;
	}
	pk->stats.tar_bytes = (uint64_t)archive_filter_bytes(pk->a, 0);
	pk->finished = true;
	return 0;
}

const struct ctxd_pack_stats *ctxd_pack_stats(const struct ctxd_pack *pk)
{
	return &pk->stats;
}

void ctxd_pack_destroy(struct ctxd_pack *pk)
{
	if (!pk)
		return;
	if (!pk->finished)
		pk->write = NULL;
	if (pk->a)
		archive_write_free(pk->a);
	if (pk->ae)
		archive_entry_free(pk->ae);
	free(pk->buf);
	free(pk->out);
	free(pk->name);
	free(pk);
}
