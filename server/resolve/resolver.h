/* resolver.h: maps a requested file name to an open file, through an ordered
 * chain of sources (later: generated configs, catalog; now: a serve directory).
 * Never touches a socket; the TFTP engine only ever calls resolver_open(). */
#ifndef LOADSD_RESOLVER_H
#define LOADSD_RESOLVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define RESOLVER_NAME_MAX 255 /* longest normalised name, NUL excluded */

/* Results (0 or negative). tftp_wire_error_for() maps each to a TFTP error
 * (server/tftp/wire_error.c), the HTTP file service to a status. */
enum resolver_result {
    RESOLVER_OK = 0,
    RESOLVER_NOT_FOUND = -1, /* no source has it */
    RESOLVER_BAD_NAME = -2,  /* "..", control characters, empty, too long */
    RESOLVER_DENIED = -3,    /* exists but may not be served (not a regular file, no permission) */
    RESOLVER_UNAVAILABLE = -4, /* exists but is not servable now (e.g. quarantined) */
    RESOLVER_IO = -5,          /* an I/O error while opening */
    RESOLVER_PENDING = -6,     /* being fetched from the upstream: ask again soon */
    RESOLVER_HOLD = -7,        /* the same, and this client asked just now: no answer yet
                                  (a TFTP client resends its request; HTTP: as PENDING) */
};

#define RESOLVER_HEX_LEN 64 /* a SHA-256 in hex */

struct resolver_file {
    int fd;                            /* open read-only; the caller closes it */
    uint64_t size;                     /* bytes */
    const char *source;                /* static string naming the source, for logs */
    char sha256[RESOLVER_HEX_LEN + 1]; /* a catalog blob's verified hash, "" otherwise */
    bool generated;                    /* rendered for this request (a config): never cache */
};

/* One source of files. open() returns RESOLVER_OK and fills out, or
 * RESOLVER_NOT_FOUND to let the next source try, or another result to stop. */
struct resolver_source {
    const char *name;
    int (*open)(void *ctx, const char *name, const struct sockaddr *client,
                struct resolver_file *out);
    void (*destroy)(void *ctx);
    void *ctx;
};

/* Normalises a requested name into out (cap bytes): a leading "/" is dropped,
 * "\" counts as "/", "//" and "." components collapse; "..", control bytes
 * (< 0x20, 0x7f), an empty result or one over RESOLVER_NAME_MAX give
 * RESOLVER_BAD_NAME. */
int resolver_normalize(const char *in, char *out, size_t cap);

/* A resolver is built once, then shared read-only between threads and kept
 * alive by references; a reload builds a new one. */
struct resolver;
struct resolver *resolver_new(void);
/* Adds a source to the end of the chain; the resolver owns it from now on. */
int resolver_add_source(struct resolver *r, const struct resolver_source *src);
/* Adds a classic TFTP root: read-only, case-insensitive, nothing outside it. */
int resolver_add_serve_dir(struct resolver *r, const char *dir);
struct resolver *resolver_ref(struct resolver *r);
void resolver_unref(struct resolver *r);

/* Where resolver_open() notes each name no source has (the table outlives
 * the resolver; NULL: not noted). */
struct missing_table;
void resolver_set_missing(struct resolver *r, struct missing_table *t);

/* Normalises requested and asks each source in turn; a name no source has
 * is noted in the missing-names table. */
int resolver_open(struct resolver *r, const char *requested, const struct sockaddr *client,
                  struct resolver_file *out);

/* Blobs by their hash (the HTTP file service's /blobs/sha256/<hex>): one
 * source may answer them, with the same refusals as by name. */
typedef int (*resolver_blob_fn)(void *ctx, const char *hex, struct resolver_file *out);
void resolver_set_blob_source(struct resolver *r, resolver_blob_fn fn, void *ctx);
/* The blob with this hash (RESOLVER_HEX_LEN lowercase hex digits), checked
 * like a file by name; RESOLVER_NOT_FOUND when no source answers blobs. */
int resolver_open_blob(struct resolver *r, const char *hex, struct resolver_file *out);

/* A transfer of a file ended (both engines, TFTP and HTTP, say so when a
 * transfer of a file they opened through the resolver ends): complete when
 * it went out to its last byte (TFTP: the last block acknowledged; HTTP: the
 * whole body of a 200 sent), else abandoned. One hook (the firmware
 * inventory's: catalog_source); it never blocks on I/O. */
typedef void (*resolver_ended_fn)(void *ctx, const char *name, const struct sockaddr *client,
                                  bool complete);
void resolver_set_ended_hook(struct resolver *r, resolver_ended_fn fn, void *ctx);
/* Tells the hook, if any, that the transfer of name (normalised here; a bad
 * name is dropped) to client ended. */
void resolver_transfer_ended(struct resolver *r, const char *name, const struct sockaddr *client,
                             bool complete);

/* The loads a source offers other servers (the HTTP file service's
 * manifests): facts about the load, never about devices or keys. */
struct resolver_load_file {
    const char *name;                  /* as catalogued */
    uint64_t size;                     /* bytes */
    char sha256[RESOLVER_HEX_LEN + 1]; /* the verified hash of its bytes */
    bool is_loads;                     /* the .loads file itself, not a component */
};
struct resolver_load {
    const char *name;   /* without ".loads" */
    const char *status; /* verified | signed | partial | unsigned | invalid | quarantined */
    bool served;        /* the signature policy now lets phones have it */
    unsigned file_count;
    uint64_t total_bytes;
    /* What another server may fetch: every file of a served load, none of
     * one that is not (n_files 0). */
    const struct resolver_load_file *files;
    size_t n_files;
};
/* Returns 0 to go on, anything else to stop (returned). The load and its
 * strings are valid only inside the call. */
typedef int (*resolver_load_cb)(void *arg, const struct resolver_load *l);
/* name NULL: every load in name order; otherwise that one load (any case,
 * ".loads" optional), RESOLVER_NOT_FOUND when there is none. */
typedef int (*resolver_loads_fn)(void *ctx, const char *name, resolver_load_cb cb, void *arg);
void resolver_set_loads_source(struct resolver *r, resolver_loads_fn fn, void *ctx);
/* Walks the loads (resolver_loads_fn); RESOLVER_NOT_FOUND for a name when no
 * source answers loads, 0 and no call for the list. */
int resolver_loads_each(struct resolver *r, const char *name, resolver_load_cb cb, void *arg);
#endif
