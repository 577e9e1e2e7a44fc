/* fleet_json.h: a branch's report to the central (POST /api/v1/fleet/report)
 * parsed with hard limits, and the central's answer built; the contract is
 * docs/FLEET.md. Pure: no database, no socket, no clock. */
#ifndef LOADSD_FLEET_JSON_H
#define LOADSD_FLEET_JSON_H

#include <jansson.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/model/fleet.h"

#define FLEET_REPORT_BODY_MAX   (4u * 1024 * 1024) /* bytes of JSON */
#define FLEET_REPORT_LOADS_MAX  4096
#define FLEET_REPORT_PHONES_MAX 100000
#define FLEET_WHY_MAX           160

enum fleet_json_result {
    FLEET_JSON_OK = 0,
    FLEET_JSON_MALFORMED = -1, /* not JSON, or not an object */
    FLEET_JSON_INVALID = -2,   /* a member is missing, of the wrong type or out of range */
    FLEET_JSON_TOO_LARGE = -3, /* over a limit: the body's size, loads or phones */
};

/* One phone's fetch as the branch saw it (for the firmware inventory). */
struct fleet_report_phone {
    char addr[INET6_ADDRSTRLEN]; /* normalised by inet_ntop */
    const char *load;            /* into the parsed tree */
    uint64_t files_done, files_total;
    int64_t at;
};

/* A report as parsed: what db/fleet.h's struct fleet_report stores, and the
 * phones. */
struct fleet_report_doc {
    json_t *root; /* owns the phones' load names; fleet_report_doc_free releases it */
    char version[FLEET_VERSION_MAX];
    int64_t time;        /* the branch's clock: shown, never trusted */
    uint64_t free_bytes; /* 0 when not reported */
    struct fleet_holding *loads;
    size_t n_loads;
    struct fleet_report_phone *phones;
    size_t n_phones;
};

/* Parses len bytes of a report. Unknown members are ignored; a duplicate
 * member, a load named twice (any case), a count over FLEET_COUNT_MAX,
 * have > total, a bad name or address are refused. On error *out is left empty and why
 * (FLEET_WHY_MAX bytes is enough) names the member, e.g.
 * "loads[3].name: not a load name". 0 or a negative fleet_json_result. */
int fleet_report_parse(const char *buf, size_t len, struct fleet_report_doc *out, char *why,
                       size_t why_cap);
void fleet_report_doc_free(struct fleet_report_doc *r);

/* The want list's tag (its ETag, quotes excluded): the first 128 bits of
 * the SHA-256 of each load name (the list is sorted) followed by a newline,
 * in lower-case hex. Moves when, and only when, the list does. 0 or -1. */
#define FLEET_WANT_TAG_LEN 32
#define FLEET_WANT_TAG_BUF (FLEET_WANT_TAG_LEN + 1)
int fleet_want_tag(const struct fleet_want *want, char out[FLEET_WANT_TAG_BUF]);

/* Whether an If-None-Match value (RFC 9110 section 13.1.2: "*" or a comma
 * list of entity tags, W/ allowed: the weak comparison) names tag. A value
 * over FLEET_INM_MAX bytes or malformed from some point on matches only by
 * the tags before that point. Pure. */
#define FLEET_INM_MAX 1024
bool fleet_etag_matches(const char *value, const char *tag);

/* The answer: {"branch", "want": [...], "want_tag", "report_every_s",
 * "want_poll_s", "max_age_s"}; want_tag and want_poll_s are left out when
 * want_tag is NULL. NULL when out of memory. */
struct fleet_answer {
    const char *branch;
    const struct fleet_want *want;
    const char *want_tag; /* fleet_want_tag's, or NULL */
    int64_t report_every_s, want_poll_s, max_age_s;
};
json_t *fleet_answer_json(const struct fleet_answer *a);

#endif
