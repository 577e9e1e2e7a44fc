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

/* The answer: {"branch", "want": [...], "report_every_s", "max_age_s"}.
 * NULL when out of memory. */
json_t *fleet_answer_json(const char *branch, const struct fleet_want *want, int64_t report_every_s,
                          int64_t max_age_s);

#endif
