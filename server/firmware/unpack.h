/* unpack.h: walks the files of a firmware bundle (zip, tar, tar.gz, .cop.sgn
 * with an optional inner tar, or a loose file) through libarchive, streaming
 * each regular file to a callback. Refuses unsafe entries; enforces limits.
 * Never writes anything itself. */
#ifndef LOADSD_UNPACK_H
#define LOADSD_UNPACK_H

#include <stddef.h>
#include <stdint.h>

#define UNPACK_ENTRIES_MAX 10000
#define UNPACK_ENTRY_MAX   (UINT64_C(4) << 30)  /* 4 GiB: far past any firmware file */
#define UNPACK_TOTAL_MAX   (UINT64_C(16) << 30) /* 16 GiB unpacked per bundle */
#define UNPACK_RATIO_MAX   100                  /* unpacked : packed, past the floor below */
#define UNPACK_RATIO_FLOOR (UINT64_C(64) << 20) /* small bundles may compress well */
#define UNPACK_DEPTH_MAX   2                    /* a tar inside the bundle, no deeper */
#define UNPACK_WHY_MAX     320

enum unpack_result {
    UNPACK_OK = 0,
    UNPACK_UNSAFE = -1,   /* absolute path, "..", a link, a device, a bad name */
    UNPACK_LIMIT = -2,    /* too many entries, too big, compression ratio */
    UNPACK_CORRUPT = -3,  /* libarchive could not read it */
    UNPACK_IO = -4,       /* reading the input failed */
    UNPACK_CALLBACK = -5, /* the callback refused (its message is in why) */
};

struct unpack_entry {
    const char *name; /* the last path component: the TFTP namespace is flat */
    const char *path; /* as stored in the bundle, for reports */
};

/* Reads the current entry's next bytes: count (0 at its end) or a negative
 * unpack_result, with limits applied as the bytes arrive. */
struct unpack_stream;
long unpack_stream_read(struct unpack_stream *s, void *buf, size_t cap);

/* Called once per regular file; returns 0 to go on, or a negative value to
 * stop (the walk then returns UNPACK_CALLBACK; put the reason in why). */
typedef int (*unpack_entry_fn)(void *arg, const struct unpack_entry *e, struct unpack_stream *s,
                               char *why, size_t why_cap);

/* Walks path. Its kind comes from its name: .zip, .tar, .tar.gz, .tgz,
 * .cop.sgn (signed header stripped first), anything else is a loose file
 * (its entry's name and path are path's last component).
 * On error why (at least UNPACK_WHY_MAX bytes) names the entry inside the
 * bundle and the reason; never path itself (the caller knows which bundle
 * it is, and a server path is nobody's business in a report). */
int unpack_walk(const char *path, unpack_entry_fn cb, void *arg, char *why, size_t why_cap);

/* The .cop.sgn header size of path (0 when it has none), for callers that
 * check the bundle's own signature. Negative unpack_result on error. */
long unpack_cop_header_len(const char *path);

#endif
