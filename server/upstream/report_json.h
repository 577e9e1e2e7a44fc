/* report_json.h: a branch's fleet report to its central as JSON (docs/FLEET.md)
 * built from plain structs, and the central's answer parsed within hard limits.
 * Pure: no I/O, no logging, no clock; error texts carry no byte of the input. */
#ifndef LOADSD_UPSTREAM_REPORT_JSON_H
#define LOADSD_UPSTREAM_REPORT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/model/fleet.h"
#include "server/resolve/inventory.h"
#include "server/resolve/resolver.h"

#define REPORT_ANSWER_MAX      (1024 * 1024) /* bytes of the central's answer */
#define REPORT_WANT_MAX        4096          /* loads one answer may want */
#define REPORT_BRANCH_NAME_MAX 63            /* bytes of the branch's name, NUL excluded */
#define REPORT_EVERY_MIN_S     10            /* report_every_s accepted */
#define REPORT_EVERY_MAX_S     3600
#define REPORT_MAX_AGE_MAX_S   604800 /* max_age_s accepted: 1 s .. a week */
#define REPORT_PHONES_MAX      100000 /* phones one report carries (the contract's limit) */
#define REPORT_WANT_TAG_MAX    64     /* bytes of want_tag, NUL excluded */
#define REPORT_WANT_POLL_MIN_S 1      /* want_poll_s accepted */
#define REPORT_WANT_POLL_MAX_S 3600
#define REPORT_WANT_POLL_DEF_S 5 /* a want_tag without want_poll_s */

struct report_doc {
    const char *version;
    int64_t time; /* the branch's clock, Unix seconds */
    uint64_t free_bytes;
    const struct fleet_holding *loads; /* what it holds (db/model/fleet.h) */
    size_t n_loads;
    const struct inventory_addr_row
        *phones; /* what its phones fetched (at most REPORT_PHONES_MAX) */
    size_t n_phones;
};

/* The report as JSON text (malloc'd, NUL-terminated; *len without the NUL).
 * A phone whose load is not a load name, or whose counts are out of range
 * (no files, more done than there are), is left out. 0, or -1 (out of
 * memory, more than REPORT_PHONES_MAX phones, a count over 2^53, a held
 * load's name that is not a load name). */
int report_json_build(const struct report_doc *r, char **out, size_t *len);

/* The central's answer: {"branch","want","report_every_s","max_age_s"},
 * and from a central that can be polled "want_tag" and "want_poll_s". */
struct report_answer {
    char branch[REPORT_BRANCH_NAME_MAX + 1];
    char (*want)[RESOLVER_NAME_MAX + 1]; /* n_want load names (pull_load_name_ok) */
    size_t n_want;
    unsigned report_every_s; /* REPORT_EVERY_MIN_S..REPORT_EVERY_MAX_S */
    unsigned max_age_s;      /* 1..REPORT_MAX_AGE_MAX_S */
    /* 1..REPORT_WANT_TAG_MAX bytes of [0-9A-Za-z._:+/=-] (safe in a
     * quoted header); "": the central offers no polling */
    char want_tag[REPORT_WANT_TAG_MAX + 1];
    unsigned want_poll_s; /* REPORT_WANT_POLL_MIN_S..MAX_S; 0 without a tag */
};

/* Parses len bytes (at most REPORT_ANSWER_MAX; unknown members ignored;
 * duplicates in want dropped; want_poll_s without want_tag ignored). 0, or
 * -1 with a reason in err and *a empty. */
int report_answer_parse(const char *buf, size_t len, struct report_answer *a, char *err,
                        size_t cap);
void report_answer_free(struct report_answer *a);

/* Sorts holdings by name (the report's order, and what _changed compares). */
void report_holdings_sort(struct fleet_holding *v, size_t n);

/* Whether b (sorted) says something a (sorted) did not: a load added or
 * gone, another state or total, or its bytes moved by a tenth of the whole
 * or more (staging progress of at least 10 %). */
bool report_holdings_changed(const struct fleet_holding *a, size_t na,
                             const struct fleet_holding *b, size_t nb);

#endif
