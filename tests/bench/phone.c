/* phone.c: one simulated phone's boot as a state machine (domain.md, "What a phone
 * does at boot"): trust lists, config, .loads and components, HTTP first where the
 * model does it, restarts after a failed file, reboot. Events and time come from phonesim.c. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>

#include "server/firmware/loads_parse.h"
#include "server/firmware/sgn.h"
#include "tests/bench/phone_cnf.h"
#include "tests/bench/phonesim.h"

#define LOADS_FILE_MAX (SGN_HEADER_MAX + LOADS_PAYLOAD_MAX)

static void fetch_begin(struct sim *s, struct phone *ph, enum file_kind k, const char *name,
                        uint64_t now);
static void fetch_go(struct sim *s, struct phone *ph, enum file_kind k, const char *name,
                     enum sim_proto proto, uint64_t now);
static void firmware_begin(struct sim *s, struct phone *ph, uint64_t now);

/* ---------- the timeline ---------- */

static void tl_add(struct sim *s, struct phone *ph, enum sim_result res, const char *why,
                   const uint8_t *sha, uint64_t now)
{
    struct tl_entry *e;

    if (ph->tl_n >= s->a.timeline_max) {
        ph->tl_dropped++;
        return;
    }
    if (ph->tl_n == ph->tl_cap) {
        uint32_t cap = ph->tl_cap == 0 ? 16 : ph->tl_cap * 2;
        struct tl_entry *n;

        if (cap > s->a.timeline_max)
            cap = (uint32_t)s->a.timeline_max;
        n = realloc(ph->tl, cap * sizeof(*n));
        if (n == NULL) {
            ph->tl_dropped++;
            return;
        }
        ph->tl = n;
        ph->tl_cap = cap;
    }
    e = &ph->tl[ph->tl_n++];
    memset(e, 0, sizeof(*e));
    e->t_ns = ph->fetch_start_ns - s->start_ns;
    e->dur_ns = now - ph->fetch_start_ns;
    e->bytes = ph->fetch_bytes;
    e->name = strdup(ph->file);
    e->error = why != NULL ? strdup(why) : NULL;
    e->server = (uint16_t)(ph->proto == PROTO_HTTP ? ph->server_http : ph->server_tftp);
    e->proto = (uint8_t)ph->proto;
    e->result = (uint8_t)res;
    e->has_sha = sha != NULL;
    if (sha != NULL)
        memcpy(e->sha, sha, SIM_SHA256_LEN);
}

/* ---------- outcomes and waits ---------- */

static void phone_finish(struct sim *s, struct phone *ph, enum sim_outcome o, uint64_t now)
{
    ph->stage = ST_DONE;
    ph->outcome = o;
    ph->t_done_ns = now - s->start_ns;
    s->active--;
}

static void phone_note_error(struct phone *ph, const char *why)
{
    snprintf(ph->last_error, sizeof(ph->last_error), "%s: %s", ph->file, why);
}

/* A failed file or config: try again after the model's backoff, forever
 * (a real phone stays "Upgrading"); --max-seconds ends it. */
static void phone_backoff(struct sim *s, struct phone *ph, bool config, const char *why,
                          uint64_t now)
{
    uint64_t b = s->a.backoff_set ? s->a.backoff_s : ph->model->restart_backoff_s;

    if (why != NULL)
        phone_note_error(ph, why);
    ph->stage = ST_BACKOFF;
    ph->backoff_config = config;
    ph->backoff_count++;
    ph->wake_ns = now + b * SIM_NS_PER_S;
}

/* ---------- what a fetched file says ---------- */

static const char *cnf_apply(struct sim *s, struct phone *ph, char *buf, size_t cap)
{
    struct phone_cnf c;
    char tag[48];
    const char *why;

    if (ph->buf_over)
        return "config over 65536 bytes (refused)";
    if (ph->kind == F_SEP)
        snprintf(tag, sizeof(tag), "loadInformation");
    else
        snprintf(tag, sizeof(tag), "loadInformation%u", ph->model->device_type);
    if (phone_cnf_extract((const char *)ph->buf, ph->buf_len, tag, &c, &why) != 0)
        return why;
    if (!c.has_load || c.load[0] == '\0') {
        snprintf(buf, cap, "the config names no load (<%s>) for model %s", tag, ph->model->name);
        return buf;
    }
    snprintf(ph->load, sizeof(ph->load), "%s", c.load);
    ph->ls = c.has_load_server && c.load_server[0] != '\0' ? sim_ls_lookup(s, c.load_server) : -1;
    if (c.has_load_server && c.load_server[0] != '\0' && ph->ls < 0)
        return "more distinct load servers than phonesim keeps";
    return NULL;
}

/* Packs the component names (not the optional "#+" extras) into ph->comps. */
static int comps_store(struct phone *ph, const struct loads_list *l)
{
    size_t total = 0, off = 0;

    for (size_t i = 0; i < l->count; i++)
        if (!l->entries[i].extra)
            total += strlen(l->entries[i].name) + 1;
    free(ph->comps);
    ph->comps = malloc(total + 1);
    if (ph->comps == NULL)
        return -ENOMEM;
    ph->n_comps = 0;
    for (size_t i = 0; i < l->count; i++) {
        if (l->entries[i].extra)
            continue;
        memcpy(ph->comps + off, l->entries[i].name, strlen(l->entries[i].name) + 1);
        off += strlen(l->entries[i].name) + 1;
        ph->n_comps++;
    }
    return 0;
}

/* The signed header first (sgn-format.md), then the list, as server/firmware reads it. */
static const char *loads_apply(struct phone *ph, char *buf, size_t cap)
{
    struct loads_list *list;
    struct sgn_header h;
    const char *why = NULL;
    size_t off = 0;
    unsigned line = 0;

    if (ph->buf_over)
        return ".loads over 128 KiB (refused)";
    if (sgn_probe(ph->buf, ph->buf_len)) {
        if (sgn_parse(ph->buf, ph->buf_len, ph->buf_len, &h, &why) != SGN_OK) {
            snprintf(buf, cap, "signed header: %s", why);
            return buf;
        }
        off = h.header_len;
    }
    list = malloc(sizeof(*list));
    if (list == NULL)
        return "out of memory";
    if (loads_parse(ph->buf + off, ph->buf_len - off, list, &line, &why) != LOADS_OK) {
        snprintf(buf, cap, "line %u: %s", line, why);
        why = buf;
    } else if (comps_store(ph, list) != 0 || ph->n_comps == 0) {
        why = ph->n_comps == 0 ? "no component listed" : "out of memory";
    }
    ph->comp_at = ph->comps;
    ph->comp_i = 0;
    free(list);
    return why;
}

static const struct expect_entry *expect_find(const struct sim *s, const char *name)
{
    for (uint32_t i = 0; i < s->n_expect; i++)
        if (strcasecmp(s->expect[i].name, name) == 0)
            return &s->expect[i];
    return NULL;
}

/* ---------- one fetch ---------- */

static int phone_sink(void *arg, const uint8_t *data, size_t len)
{
    struct phone *ph = arg;

    ph->fetch_bytes += len;
    if (EVP_DigestUpdate(ph->md, data, len) != 1)
        return -1;
    if (ph->buf == NULL || ph->buf_over)
        return 0;
    if (len > ph->buf_cap - ph->buf_len) {
        ph->buf_over = true; /* keep receiving: the parse says why it is refused */
        return 0;
    }
    memcpy(ph->buf + ph->buf_len, data, len);
    ph->buf_len += len;
    return 0;
}

static void transport_close(struct phone *ph)
{
    tftpc_close(&ph->tc);
    http_get_close(&ph->hg);
}

static bool is_firmware(enum file_kind k)
{
    return k == F_LOADS || k == F_COMPONENT;
}

/* The result after the content checks: the digest against --expect, then the
 * config or .loads parse. */
static enum sim_result fetch_check(struct sim *s, struct phone *ph, uint8_t *sha, const char **why,
                                   char *buf, size_t cap)
{
    const struct expect_entry *e;
    unsigned int len = 0;

    if (EVP_DigestFinal_ex(ph->md, sha, &len) != 1 || len != SIM_SHA256_LEN) {
        *why = "digest failed";
        return RES_ERROR;
    }
    e = expect_find(s, ph->file);
    if (e != NULL && memcmp(e->sha, sha, SIM_SHA256_LEN) != 0) {
        *why = "SHA-256 differs from --expect";
        return RES_MISMATCH;
    }
    if (ph->kind == F_SEP || ph->kind == F_DEFAULT)
        *why = cnf_apply(s, ph, buf, cap);
    else if (ph->kind == F_LOADS)
        *why = loads_apply(ph, buf, cap);
    return *why == NULL ? RES_OK : RES_ERROR;
}

static void config_done(struct sim *s, struct phone *ph, uint64_t now)
{
    ph->config_done = true;
    if (strcasecmp(ph->load, s->a.current_load) == 0) {
        phone_finish(s, ph, OUT_NO_CHANGE, now);
        return;
    }
    firmware_begin(s, ph, now);
}

static void component_next(struct sim *s, struct phone *ph, uint64_t now)
{
    uint64_t r = s->a.reboot_set ? s->a.reboot_s : ph->model->reboot_s;
    const char *name;

    if (ph->comp_i >= ph->n_comps) {
        ph->stage = ST_REBOOT; /* then it runs the new load */
        ph->wake_ns = now + r * SIM_NS_PER_S;
        return;
    }
    name = ph->comp_at;
    ph->comp_at += strlen(name) + 1;
    ph->comp_i++;
    fetch_begin(s, ph, F_COMPONENT, name, now);
}

static void fetch_config(struct sim *s, struct phone *ph, uint64_t now)
{
    char name[SIM_FILE_NAME_MAX + 1];

    snprintf(name, sizeof(name), "SEP%s.cnf.xml", ph->mac);
    fetch_begin(s, ph, F_SEP, name, now);
}

/* The next step after a file, by what it was (the boot order of domain.md). */
static void file_done(struct sim *s, struct phone *ph, enum sim_result res, const char *why,
                      uint64_t now)
{
    bool ok = res == RES_OK;
    char name[SIM_FILE_NAME_MAX + 1];

    switch (ph->kind) {
    case F_CTL:
        snprintf(name, sizeof(name), "ITLSEP%s.tlv", ph->mac);
        fetch_begin(s, ph, F_ITL, name, now);
        return;
    case F_ITL:
        ph->itlsep_found = ok; /* ITLFile.tlv only when ITLSEP is absent */
        if (ok)
            fetch_config(s, ph, now);
        else
            fetch_begin(s, ph, F_ITLFILE, "ITLFile.tlv", now);
        return;
    case F_ITLFILE:
        fetch_config(s, ph, now);
        return;
    case F_SEP:
        if (res == RES_NOT_FOUND)
            fetch_begin(s, ph, F_DEFAULT, "XMLDefault.cnf.xml", now);
        else if (ok)
            config_done(s, ph, now);
        else
            phone_backoff(s, ph, true, why, now);
        return;
    case F_DEFAULT:
        if (ok)
            config_done(s, ph, now);
        else
            phone_backoff(s, ph, true, why, now);
        return;
    case F_LOADS:
    case F_COMPONENT:
        if (ok)
            component_next(s, ph, now);
        else
            phone_backoff(s, ph, false, why, now);
        return;
    }
}

/* A fetch ended with res. HTTP that failed falls back to TFTP for the same file. */
static void fetch_end(struct sim *s, struct phone *ph, enum sim_result res, const char *why,
                      uint64_t now)
{
    uint8_t sha[SIM_SHA256_LEN];
    char buf[SIM_ERR_MAX];
    bool have_sha = false;

    transport_close(ph);
    if (res == RES_OK) {
        res = fetch_check(s, ph, sha, &why, buf, sizeof(buf));
        have_sha = true;
    }
    tl_add(s, ph, res, why, have_sha ? sha : NULL, now);
    ph->bytes += ph->fetch_bytes;
    free(ph->buf);
    ph->buf = NULL;
    if (ph->proto == PROTO_HTTP && res != RES_OK) {
        fetch_go(s, ph, ph->kind, ph->file, PROTO_TFTP, now);
        return;
    }
    file_done(s, ph, res, why, now);
}

static uint64_t phone_tag(const struct phone *ph)
{
    return (uint64_t)ph->gen << 32 | ph->idx;
}

static const struct sockaddr *phone_bind(const struct phone *ph)
{
    return ph->bound ? (const struct sockaddr *)&ph->bind_addr : NULL;
}

static int start_tftp(struct sim *s, struct phone *ph, uint64_t now)
{
    const struct sim_server *sv = &s->servers[ph->server_tftp];
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = phone_tag(ph)};
    int n = tftpc_build_request(ph->req, sizeof(ph->req), ph->file, ph->tp);
    int fd;

    if (n < 0)
        return -ENAMETOOLONG;
    fd = tftpc_socket(sv->ss.ss_family, phone_bind(ph), ph->bind_len, ph->tp, &s->sh);
    if (fd < 0)
        return fd;
    ph->tc.fd = fd; /* closed by transport_close whatever happens next */
    if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
        return -errno;
    return tftpc_start(&ph->tc, fd, ph->tp, (const struct sockaddr *)&sv->ss, sv->len, ph->req,
                       (size_t)n, now);
}

static int start_http(struct sim *s, struct phone *ph, uint64_t now)
{
    const struct sim_server *sv = &s->servers[ph->server_http];
    uint64_t idle = (uint64_t)ph->model->timeout_ms * (ph->model->retries + 1) * SIM_NS_PER_MS;

    return http_get_start(&ph->hg, s->epfd, phone_tag(ph), (const struct sockaddr *)&sv->ss,
                          sv->len, phone_bind(ph), ph->bind_len, ph->file, idle, now);
}

/* Starts fetching name over ph->proto (a new file starts with HTTP where the
 * model tries it first). */
static void fetch_start_proto(struct sim *s, struct phone *ph, uint64_t now)
{
    char why[SIM_ERR_MAX];
    int rc;

    ph->gen++;
    ph->fetch_bytes = 0;
    ph->buf_len = 0;
    ph->buf_over = false;
    if (EVP_DigestInit_ex(ph->md, EVP_sha256(), NULL) != 1) {
        fetch_end(s, ph, RES_ERROR, "digest init failed", now);
        return;
    }
    rc = ph->proto == PROTO_HTTP ? start_http(s, ph, now) : start_tftp(s, ph, now);
    if (rc == 0)
        return;
    snprintf(why, sizeof(why), "%s: %s", ph->proto == PROTO_HTTP ? "HTTP" : "TFTP", strerror(-rc));
    fetch_end(s, ph, RES_ERROR, why, now);
}

static size_t buffer_cap_of(enum file_kind k)
{
    if (k == F_SEP || k == F_DEFAULT)
        return PHONE_CNF_MAX;
    return k == F_LOADS ? LOADS_FILE_MAX : 0;
}

/* Fetches name (a file of kind k) over proto from the server its kind goes to. */
static void fetch_go(struct sim *s, struct phone *ph, enum file_kind k, const char *name,
                     enum sim_proto proto, uint64_t now)
{
    bool from_ls = is_firmware(k) && ph->ls >= 0;

    if (name != ph->file)
        snprintf(ph->file, sizeof(ph->file), "%s", name);
    ph->kind = k;
    ph->proto = proto;
    ph->stage = ST_FETCH;
    ph->fetch_start_ns = now;
    ph->server_tftp = from_ls ? s->ls[ph->ls].tftp : 0;
    ph->server_http = from_ls ? s->ls[ph->ls].http : 1;
    ph->tc.sink = phone_sink;
    ph->tc.sink_arg = ph;
    ph->hg.sink = phone_sink;
    ph->hg.sink_arg = ph;
    ph->buf_cap = buffer_cap_of(k);
    free(ph->buf);
    ph->buf = ph->buf_cap > 0 ? malloc(ph->buf_cap) : NULL;
    if (ph->buf_cap > 0 && ph->buf == NULL) {
        fetch_end(s, ph, RES_ERROR, "out of memory", now);
        return;
    }
    fetch_start_proto(s, ph, now);
}

/* A new file: over HTTP first where the model does that (domain.md). */
static void fetch_begin(struct sim *s, struct phone *ph, enum file_kind k, const char *name,
                        uint64_t now)
{
    fetch_go(s, ph, k, name, ph->model->http_first ? PROTO_HTTP : PROTO_TFTP, now);
}

/* The download from the .loads file on, again after every failure. */
static void firmware_begin(struct sim *s, struct phone *ph, uint64_t now)
{
    char name[SIM_FILE_NAME_MAX + 1];

    if (ph->ls >= 0 && s->ls[ph->ls].tftp < 0) {
        snprintf(ph->last_error, sizeof(ph->last_error), "load server %.100s does not resolve",
                 s->ls[ph->ls].host);
        phone_backoff(s, ph, false, NULL, now);
        return;
    }
    ph->comp_i = 0;
    ph->n_comps = 0;
    snprintf(name, sizeof(name), "%s.loads", ph->load);
    fetch_begin(s, ph, F_LOADS, name, now);
}

/* ---------- events from the loop ---------- */

static enum sim_result result_of_tftp(const struct tftpc *c)
{
    if (c->fail == TFTPC_FAIL_NOT_FOUND)
        return RES_NOT_FOUND;
    return c->fail == TFTPC_FAIL_TIMEOUT ? RES_TIMEOUT : RES_ERROR;
}

static enum sim_result result_of_http(const struct http_get *g)
{
    if (g->fail == HG_FAIL_STATUS && g->resp.status == 404)
        return RES_NOT_FOUND;
    return g->fail == HG_FAIL_TIMEOUT ? RES_TIMEOUT : RES_ERROR;
}

static void after_tftp_step(struct sim *s, struct phone *ph, enum tftpc_step st, const char *why,
                            uint64_t now)
{
    if (st == TFTPC_GOING)
        return;
    if (st == TFTPC_DONE) {
        why = tftpc_check_tsize(&ph->tc);
        fetch_end(s, ph, why == NULL ? RES_OK : RES_ERROR, why, now);
        return;
    }
    fetch_end(s, ph, result_of_tftp(&ph->tc), why, now);
}

static void after_http_step(struct sim *s, struct phone *ph, enum http_get_step st, const char *why,
                            uint64_t now)
{
    if (st == HG_GOING)
        return;
    fetch_end(s, ph, st == HG_DONE ? RES_OK : result_of_http(&ph->hg), st == HG_DONE ? NULL : why,
              now);
}

void phone_on_event(struct sim *s, struct phone *ph, uint32_t events, uint64_t now)
{
    char why[SIM_ERR_MAX];

    if (ph->stage != ST_FETCH)
        return;
    if (ph->proto == PROTO_TFTP)
        after_tftp_step(s, ph, tftpc_on_readable(&ph->tc, &s->sh, now, why, sizeof(why)), why, now);
    else
        after_http_step(
            s, ph,
            http_get_on_event(&ph->hg, events, s->scratch, SIM_SCRATCH, now, why, sizeof(why)), why,
            now);
}

static void fetch_timer(struct sim *s, struct phone *ph, uint64_t now)
{
    char why[SIM_ERR_MAX];

    if (ph->proto == PROTO_HTTP) {
        after_http_step(s, ph, http_get_on_timer(&ph->hg, now, why, sizeof(why)), why, now);
        return;
    }
    if (now >= ph->tc.deadline_ns)
        after_tftp_step(s, ph, tftpc_on_timeout(&ph->tc, &s->sh, now, why, sizeof(why)), why, now);
}

void phone_on_timer(struct sim *s, struct phone *ph, uint64_t now)
{
    char name[SIM_FILE_NAME_MAX + 1];

    if (ph->stage == ST_FETCH) {
        fetch_timer(s, ph, now);
        return;
    }
    if (ph->stage == ST_DONE || now < ph->wake_ns)
        return;
    if (ph->stage == ST_REBOOT)
        phone_finish(s, ph, OUT_UPGRADED, now); /* it runs the new load now */
    else if (ph->stage == ST_WAIT_BOOT) {
        snprintf(name, sizeof(name), "CTLSEP%s.tlv", ph->mac);
        fetch_begin(s, ph, F_CTL, name, now);
    } else if (ph->backoff_config) {
        fetch_config(s, ph, now);
    } else {
        firmware_begin(s, ph, now);
    }
}

/* --max-seconds: a phone not done is stuck (it had its config) or has none. */
void phone_end_run(struct sim *s, struct phone *ph, uint64_t now)
{
    if (ph->stage == ST_DONE)
        return;
    if (ph->stage == ST_FETCH) {
        transport_close(ph);
        tl_add(s, ph, RES_ERROR, "cut short by --max-seconds", NULL, now);
        ph->bytes += ph->fetch_bytes;
    }
    if (ph->stage == ST_REBOOT)
        snprintf(ph->last_error, sizeof(ph->last_error), "still rebooting at --max-seconds");
    else if (ph->last_error[0] == '\0')
        snprintf(ph->last_error, sizeof(ph->last_error), "--max-seconds reached");
    ph->stage = ST_DONE;
    ph->outcome = ph->config_done ? OUT_STUCK : OUT_NO_CONFIG;
    s->active--;
}

int phone_init(struct phone *ph, uint32_t idx, uint64_t boot_ns)
{
    ph->idx = idx;
    ph->stage = ST_WAIT_BOOT;
    ph->wake_ns = boot_ns;
    ph->ls = -1;
    ph->tc.fd = -1;
    ph->hg.fd = -1;
    ph->md = EVP_MD_CTX_new();
    return ph->md == NULL ? -ENOMEM : 0;
}

void phone_free(struct phone *ph)
{
    transport_close(ph);
    EVP_MD_CTX_free(ph->md);
    free(ph->buf);
    free(ph->comps);
    for (uint32_t i = 0; i < ph->tl_n; i++) {
        free(ph->tl[i].name);
        free(ph->tl[i].error);
    }
    free(ph->tl);
}
