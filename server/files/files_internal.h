/* files_internal.h: what the file service's parts share: the connection
 * (files_server.c keeps the list, the caps and the log line), the answer to
 * one request (files_respond.c) and the manifests' bodies (files_manifest.c).
 * Not for use outside server/files/. */
#ifndef LOADSD_FILES_INTERNAL_H
#define LOADSD_FILES_INTERNAL_H

#include <microhttpd.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/log.h"
#include "server/resolve/resolver.h"

struct files_server;
struct peer_count;

struct files_conn {
    struct files_conn *prev, *next; /* the server's list, under its lock */
    struct files_server *srv;
    struct peer_count *pc; /* this client's slot; NULL when over its cap */
    bool over;             /* past a connection cap: every request gets 503 */
    bool shut;             /* the watchdog shut it down */
    int fd;
    struct sockaddr_storage addr;
    char peer[64];
    atomic_int_fast64_t waiting_since_ms; /* > 0: waiting for a request head since then */
    /* The request in progress; the listed fields change under the lock. */
    char method[8];
    char name[LOG_CLEAN_MAX]; /* the decoded path, cleaned */
    char reason[48];          /* for the log line: why refused, "" when served */
    unsigned status;
    bool head;        /* HEAD: no body goes out */
    bool body_active; /* listed as a transfer */
    bool by_name;     /* a file by name went out (the transfer-ended hook's) */
    uint64_t body_len;
    uint64_t head_len; /* an estimate of the header bytes before the body */
    int64_t started_ms;
    uint64_t acked_base; /* TCP bytes acknowledged when the request came */
};

uint64_t files_conn_acked(const struct files_conn *c);
/* A reference to the resolver now in use (the caller unrefs it). */
struct resolver *files_server_resolver(struct files_server *srv);
/* The response about to be queued has a body worth listing. */
void files_conn_body_begin(struct files_conn *c);
void files_conn_refused_busy(struct files_conn *c);

/* files_manifest.c: the JSON of the list of loads (name NULL) or of one
 * load's manifest in *body (free() it), *len bytes: RESOLVER_OK,
 * RESOLVER_NOT_FOUND for an unknown load, RESOLVER_IO. */
int files_manifest_body(struct resolver *r, const char *name, char **body, size_t *len);
/* The strong entity tag of a body, "\"sha256-<hex of its SHA-256>\"", in
 * out (FILES_ETAG_LEN + 1 bytes): 0, or -1 when the digest failed. */
int files_manifest_etag(const char *body, size_t len, char *out, size_t cap);

/* Answers one request on c: queues a response, sets c->status, body_len,
 * reason. MHD_YES, or MHD_NO to drop the connection. */
enum MHD_Result files_respond(struct files_conn *c, struct MHD_Connection *mc, const char *method,
                              const char *path);

#endif
