/* api_stage.c: /api/v1/stage: pull a load from the upstream ahead of time
 * (a branch's pre-staging) and watch the pulls' progress. The daemon's pull
 * engine does the work; this file only asks it and reports. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "admin/api.h"
#include "admin/catalog_json.h"
#include "db/catalog.h"
#include "server/upstream/pull.h"
#include "server/upstream/report.h"
#include "server/upstream/window.h"

#define STAGE_SUFFIX ".loads"

/* "central: URL, last report 12 s ago, ok" or "..., failing since TIME (why)". */
static void central_summary(const struct fleet_reporter_status *st, int64_t now, char *out,
                            size_t cap)
{
    char when[48], since[32]; /* "last report " and 20 digits fit */
    time_t t = (time_t)st->failing_since;
    struct tm tm;

    if (st->last_sent == 0)
        snprintf(when, sizeof(when), "no report yet");
    else
        snprintf(when, sizeof(when), "last report %lld s ago",
                 (long long)(now > st->last_sent ? now - st->last_sent : 0));
    if (st->failing_since == 0 && st->last_ok != 0) {
        snprintf(out, cap, "central: %s, %s, ok", st->central, when);
        return;
    }
    if (st->failing_since == 0) {
        snprintf(out, cap, "central: %s, %s", st->central, when);
        return;
    }
    gmtime_r(&t, &tm);
    strftime(since, sizeof(since), "%Y-%m-%d %H:%M:%S UTC", &tm);
    snprintf(out, cap, "central: %s, %s, failing since %s (%s)", st->central, when, since, st->why);
}

/* How reporting to the central stands; null without --central. */
static json_t *central_json(struct fleet_reporter *r)
{
    struct fleet_reporter_status st;
    int64_t now = (int64_t)time(NULL);
    char summary[UPSTREAM_BASE_MAX + REPORT_WHY_MAX + 128];

    if (r == NULL)
        return json_null();
    fleet_reporter_get(r, &st);
    central_summary(&st, now, summary, sizeof(summary));
    return json_pack(
        "{s:s, s:s, s:b, s:o, s:o, s:o, s:s, s:I, s:I, s:I, s:I, s:s}", "url", st.central, "branch",
        st.branch, "ok", st.last_ok != 0 && st.failing_since == 0, "last_report_at",
        st.last_sent ? json_integer(st.last_sent) : json_null(), "last_ok_at",
        st.last_ok ? json_integer(st.last_ok) : json_null(), "failing_since",
        st.failing_since ? json_integer(st.failing_since) : json_null(), "why", st.why,
        "report_every_s", (json_int_t)st.report_every_s, "want_poll_s", (json_int_t)st.want_poll_s,
        "held", (json_int_t)st.held, "wanted", (json_int_t)st.wanted, "summary", summary);
}

static int stage_list(struct api_request *rq, struct api_response *rs)
{
    struct pull_engine *e = rq->ctx->pull;
    struct pull_entry *v = NULL;
    struct stage_window w;
    char win[STAGE_WINDOW_TEXT_MAX];
    json_t *list = json_array();
    size_t n = 0;

    if (e == NULL)
        return api_json(rs, MHD_HTTP_OK,
                        json_pack("{s:n, s:I, s:n, s:o, s:o}", "upstream", "stage_rate_kbit",
                                  (json_int_t)0, "stage_window", "entries", list, "central",
                                  central_json(rq->ctx->reporter)));
    if (pull_engine_list(e, &v, &n) != 0) {
        json_decref(list);
        return api_error(rs, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, catalog_stage_json(&v[i]));
    free(v);
    w = pull_engine_window(e);
    return api_json(
        rs, MHD_HTTP_OK,
        json_pack("{s:s, s:I, s:o, s:o, s:o}", "upstream", pull_engine_upstream(e),
                  "stage_rate_kbit", (json_int_t)(pull_engine_stage_rate(e) / 125), "stage_window",
                  w.set ? json_string(stage_window_format(&w, win, sizeof(win))) : json_null(),
                  "entries", list, "central", central_json(rq->ctx->reporter)));
}

/* The load's name from the body, without a ".loads" ending; NULL with a 400. */
static const char *stage_name(json_t *body, struct api_response *rs, char *out, size_t cap)
{
    const char *text;
    size_t len, sl = strlen(STAGE_SUFFIX);
    bool ok;

    text = api_member_string(body, "load", true, RESOLVER_NAME_MAX, rs, &ok);
    if (!ok)
        return NULL;
    len = strlen(text);
    if (len > sl && strcasecmp(text + len - sl, STAGE_SUFFIX) == 0)
        len -= sl;
    snprintf(out, cap, "%.*s", (int)len, text);
    if (!pull_load_name_ok(out)) {
        api_error_field(rs, "load", "not a load name (A-Z a-z 0-9 . _ -, not starting with .)");
        return NULL;
    }
    return out;
}

static int stage_start(struct api_request *rq, struct api_response *rs)
{
    struct pull_engine *e = rq->ctx->pull;
    char name[RESOLVER_NAME_MAX + 1], err[160];
    struct catalog_load l;
    struct pull_entry p;
    json_t *body;
    int rc;

    if (e == NULL)
        return api_error(rs, MHD_HTTP_CONFLICT, "no_upstream",
                         "this loadsd has no upstream to stage from (start it with --upstream "
                         "URL, or upstream = URL in its config file)");
    body = api_body_object(rq, rs);
    if (body == NULL)
        return 0;
    if (stage_name(body, rs, name, sizeof(name)) == NULL)
        goto out;
    rc = catalog_load_find(rq->ctx->dd.db, name, &l);
    if (rc == DB_OK) {
        api_error(rs, MHD_HTTP_CONFLICT, "exists", "load %s is in the catalog already (%s)", l.name,
                  l.status);
        goto out;
    }
    if (rc != DB_NOT_FOUND) {
        api_error_db(rs, rc, "load");
        goto out;
    }
    if (pull_engine_stage(e, name, err, sizeof(err)) != 0) {
        api_error(rs, MHD_HTTP_SERVICE_UNAVAILABLE, "busy", "%s", err);
        goto out;
    }
    rc = catalog_audit(rq->ctx->dd.db, api_actor(rq), "stage", name, NULL, pull_engine_upstream(e));
    if (rc != DB_OK) {
        api_error_db(rs, rc, "audit");
        goto out;
    }
    if (pull_engine_entry(e, name, &p) != 0)
        api_error(rs, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "the staged load went away");
    else
        api_json(rs, MHD_HTTP_ACCEPTED, catalog_stage_json(&p));
out:
    json_decref(body);
    return 0;
}

const struct api_route api_stage_routes[] = {
    {"GET", "/api/v1/stage", 0, stage_list},
    {"POST", "/api/v1/stage", 0, stage_start},
    {NULL, NULL, 0, NULL},
};
