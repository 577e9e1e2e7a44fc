/* api.h: what the admin API's resource files (api_*.c) share with the
 * router in http.c: the request, the response, route tables and JSON helpers.
 * A resource is one api_X.c with a route table, listed once in http.c. */
#ifndef LOADSD_API_H
#define LOADSD_API_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "admin/auth.h"
#include "db/datadir.h"

#define API_BODY_MAX       (1024 * 1024) /* JSON request bodies */
#define API_ARGS_MAX       4             /* {} segments in a route pattern */
#define API_PATH_MAX       1024
#define API_DETAIL_MAX     512
#define API_CSV_MAX        (32 * 1024 * 1024) /* text/csv bodies (API_BODY_CSV) */
#define API_BODY_LARGE_MAX (4 * 1024 * 1024)  /* a branch's report (API_BODY_LARGE) */

struct tftp_server;
struct files_server;
struct pull_engine;
struct fleet_reporter;
struct fleet_view;
struct missing_table;
struct jobs;

/* Refused fleet calls, for the audit trail: one row per address (an IPv6
 * /64) per API_REFUSED_EVERY seconds saying how many came since its last
 * row, and at most API_REFUSED_ROWS rows a minute in all, so a flood of
 * forged reports cannot fill the audit table. */
#define API_REFUSED_SLOTS 64
#define API_REFUSED_EVERY 60
#define API_REFUSED_ROWS  60
struct api_refused {
    struct {
        char key[AUTH_IP_MAX + 8]; /* auth_addr_key; "" = free */
        int64_t logged_at;         /* its latest audit row */
        uint64_t pending;          /* refusals since */
    } slot[API_REFUSED_SLOTS];
    int64_t minute;   /* the start of the current minute's count */
    unsigned rows;    /* audit rows written in it */
    uint64_t dropped; /* refusals of addresses pushed out of the table */
};

/* Shared by every request; the database is used only under db_lock (the
 * router takes it around authentication and each handler). */
struct api_context {
    struct datadir dd;
    pthread_mutex_t db_lock;
    struct tftp_server *tftp;        /* for stats; may be NULL */
    struct files_server *files;      /* the HTTP file service, for stats; may be NULL */
    struct pull_engine *pull;        /* the upstream's pulls (api_stage.c); NULL: no upstream */
    struct fleet_reporter *reporter; /* reports to the central (api_stage.c); NULL: none */
    struct missing_table *missing;   /* names asked for and not found (api_stats.c); may be NULL */
    bool tls;
    char cookie_name[32]; /* "__Host-loadsd_session" under TLS */
    int64_t started;
    struct jobs *jobs;           /* background imports (uploads) */
    uint64_t upload_max;         /* bytes of one uploaded bundle */
    struct api_refused refused;  /* forged fleet calls (api_fleet.c) */
    int64_t inventory_stuck_s;   /* the firmware inventory's stuck threshold (api_inventory.c) */
    struct inventory *inventory; /* branches' phones merged in (api_fleet.c); NULL: none */
};

/* The calls a streaming route (API_STREAM) gets: BEGIN once authorised,
 * before any body byte; DATA per piece of the body (no database lock held);
 * END when the body is complete; CLEANUP always last, also when the client
 * went away. A response set in BEGIN or DATA ends the request early. */
enum api_stage {
    API_STAGE_WHOLE = 0, /* an ordinary route: the buffered body */
    API_STAGE_BEGIN,
    API_STAGE_DATA,
    API_STAGE_END,
    API_STAGE_CLEANUP,
};

struct api_request {
    struct api_context *ctx;
    struct MHD_Connection *conn;
    const char *method;
    const char *args[API_ARGS_MAX]; /* the {} segments, decoded */
    unsigned nargs;
    char ip[AUTH_IP_MAX];
    struct auth_principal who; /* valid unless the route is public */
    bool authenticated;
    const char *session_id; /* the cookie, when the request came with one */
    const char *body;       /* NUL-terminated, body_len bytes, or NULL */
    size_t body_len;
    int64_t now;
    enum api_stage stage; /* API_STREAM routes */
    const char *chunk;    /* API_STAGE_DATA: this piece of the body */
    size_t chunk_len;
    void *stream; /* the streaming handler's own state */
};

struct api_response {
    unsigned status;
    json_t *json; /* the body (released by the router) */
    char *text;   /* or a malloc'd text body */
    size_t text_len;
    const char *content_type; /* for text */
    char set_cookie[256];
    int64_t retry_after; /* > 0: a Retry-After header */
    char etag[48];       /* "": none; else the ETag header, quoted. A 304 has no body */
};

typedef int (*api_handler_fn)(struct api_request *rq, struct api_response *rs);

enum api_route_flag {
    API_PUBLIC = 1 << 0,     /* no authentication (login) */
    API_ADMIN_ONLY = 1 << 1, /* even reading needs the admin role */
    API_ANY_ROLE = 1 << 2,   /* a viewer may change this too (logout) */
    API_BODY_CSV = 1 << 3,   /* the body is text/csv, buffered, up to API_CSV_MAX */
    API_STREAM = 1 << 4,     /* any body, any size, handed over as it arrives */
    API_BRANCH = 1 << 5,     /* a fleet call: a branch's token only (docs/FLEET.md) */
    API_BODY_LARGE = 1 << 6, /* a JSON body up to API_BODY_LARGE_MAX */
};

/* pattern: "/api/v1/loads/{}": literal segments and {} for one segment. */
struct api_route {
    const char *method;
    const char *pattern;
    unsigned flags;
    api_handler_fn fn;
};

extern const struct api_route api_session_routes[];
extern const struct api_route api_users_routes[];
extern const struct api_route api_tokens_routes[];
extern const struct api_route api_loads_routes[];
extern const struct api_route api_trust_routes[];
extern const struct api_route api_audit_routes[];
extern const struct api_route api_stats_routes[];
extern const struct api_route api_uploads_routes[];
extern const struct api_route api_jobs_routes[];
extern const struct api_route api_provision_routes[];
extern const struct api_route api_inventory_routes[];
extern const struct api_route api_devices_routes[];
extern const struct api_route api_transfers_routes[];
extern const struct api_route api_stage_routes[];
extern const struct api_route api_fleet_routes[];

/* A fleet call refused for its token, from ip: audited as
 * "fleet.report.refused", rate-limited by ctx->refused. Under db_lock. */
void api_fleet_refused(struct api_context *ctx, const char *ip, int64_t now);
extern const struct api_route api_probe_routes[];

/* Matches path against pattern, filling args (pointers into buf, cap bytes,
 * a copy of path). 0 on a match, -1 otherwise. Pure. */
int api_route_match(const char *pattern, const char *path, char *buf, size_t cap, const char **args,
                    unsigned *nargs);

/* The response helpers return 0 so handlers can "return api_error(...)". */
int api_error(struct api_response *rs, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* 400 {"error": "invalid", "field": FIELD, "detail": ...} */
int api_error_field(struct api_response *rs, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int api_json(struct api_response *rs, unsigned status, json_t *body);
/* Maps an auth_result or db_result to an error response. */
int api_error_auth(struct api_response *rs, int rc, const char *what);
int api_error_db(struct api_response *rs, int rc, const char *what);

/* The body as a JSON object; NULL with a 400 already in rs. */
json_t *api_body_object(struct api_request *rq, struct api_response *rs);
/* A string member: NULL with a 400 naming it when missing (required), not a
 * string, or longer than max bytes. *ok false on error. */
const char *api_member_string(json_t *obj, const char *key, bool required, size_t max,
                              struct api_response *rs, bool *ok);
/* A query argument (decoded), or NULL. */
const char *api_query(struct api_request *rq, const char *key);
/* A request header's value, or NULL. */
const char *api_header(struct api_request *rq, const char *name);
/* A number from the query (absent: def); false with a 400 when malformed. */
bool api_query_u64(struct api_request *rq, struct api_response *rs, const char *key, uint64_t min,
                   uint64_t max, uint64_t def, uint64_t *out);
/* The user acting, for the audit trail. */
const char *api_actor(const struct api_request *rq);

#endif
