/* http.h: the admin interface's HTTP(S) server inside loadsd: libmicrohttpd
 * with a small thread pool, the JSON API under /api/v1/, /metrics and the
 * static web page. Never serves firmware; never blocks the TFTP workers. */
#ifndef LOADSD_HTTP_H
#define LOADSD_HTTP_H

#include <stdbool.h>

struct tftp_server;
struct files_server;
struct pull_engine;
struct fleet_reporter;
struct missing_table;
struct admin_http;

struct inventory;
struct genwatch;

struct admin_http_params {
    const char *listen;    /* "ADDR:PORT", "[V6]:PORT" or "*:PORT" */
    const char *cert_path; /* PEM; with key_path: HTTPS. "" or NULL: plain HTTP */
    const char *key_path;
    bool insecure_http;   /* allow plain HTTP on a non-loopback address */
    const char *web_root; /* "" or NULL: the installed web/, else the source tree's */
    const char *data_dir;
    struct tftp_server *tftp;        /* for /metrics and stats; may be NULL */
    struct files_server *files;      /* the HTTP file service, likewise; may be NULL */
    struct pull_engine *pull;        /* the upstream's pulls (stage); NULL: no upstream */
    struct fleet_reporter *reporter; /* reports to the central (stage); NULL: none */
    struct missing_table *missing;   /* names asked for and not found; NULL: none kept */
    unsigned upload_max_mb;          /* largest uploaded bundle; 0 = 2048 */
    unsigned inventory_stuck_s;      /* the firmware inventory's stuck threshold; 0 = 1800 */
    struct inventory *inventory;     /* takes the phones of branches' reports; NULL: none */
    struct genwatch *watch;          /* writes are answered once it synced; NULL: at once */
};

/* Opens the data directory, creates the first admin on a first run
 * (printing its password once on stderr), binds and starts the threads.
 * 0; 1 when plain HTTP on a non-loopback address is refused (logged: the
 * admin interface stays off, the rest of loadsd runs); -1 on an error. */
int admin_http_start(const struct admin_http_params *p, struct admin_http **out);
void admin_http_stop(struct admin_http *h);

/* True for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
struct sockaddr;
bool admin_http_is_loopback(const struct sockaddr *sa);

#endif
