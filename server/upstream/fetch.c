/* fetch.c: libcurl under the upstream's two kinds of GET: a bounded body in
 * memory, and a blob streamed to a file while its SHA-256 is computed. */
#include "server/upstream/fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/log.h"

#define FETCH_READ_CHUNK  (64 * 1024)
#define FETCH_PACE_NAP_MS 100 /* longest sleep between looks at the stop flag */

int upstream_fetch_global_init(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_error("cannot initialise libcurl");
        return -1;
    }
    return 0;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    const atomic_bool *stop = arg;

    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return stop != NULL && atomic_load(stop) ? 1 : 0;
}

/* A handle for url with the options every upstream GET shares. */
static CURL *easy_for(const char *url, const struct upstream_fetch_opts *o)
{
    CURL *h = curl_easy_init();

    if (h == NULL)
        return NULL;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L); /* no error page lands in a file */
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "loadsd/" PACKAGE_VERSION " (branch)");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT,
                     o != NULL && o->connect_timeout_s > 0 ? o->connect_timeout_s : 10L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
                     o != NULL && o->stall_timeout_s > 0 ? o->stall_timeout_s : 60L);
    if (o != NULL && o->total_timeout_s > 0)
        curl_easy_setopt(h, CURLOPT_TIMEOUT, o->total_timeout_s);
    if (o != NULL && o->ca_file != NULL && o->ca_file[0] != '\0')
        curl_easy_setopt(h, CURLOPT_CAINFO, o->ca_file);
    if (o != NULL && o->stop != NULL) {
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)o->stop);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    }
    return h;
}

/* What curl's answer means for us; err says why when not FETCH_OK. */
static int result_of(CURL *h, CURLcode cc, const char *url, char *err, size_t cap)
{
    long status = 0;

    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (cc == CURLE_OK)
        return FETCH_OK;
    if (cc == CURLE_HTTP_RETURNED_ERROR && status == 404) {
        snprintf(err, cap, "%s: 404, not on the upstream", url);
        return FETCH_ABSENT;
    }
    if (cc == CURLE_HTTP_RETURNED_ERROR)
        snprintf(err, cap, "%s: HTTP status %ld", url, status);
    else
        snprintf(err, cap, "%s: %s", url, curl_easy_strerror(cc));
    return FETCH_FAILED;
}

/* ---- a body in memory ---- */

struct mem_sink {
    char *buf;
    size_t len, cap, max;
    bool too_big;
};

static size_t mem_write(char *p, size_t size, size_t n, void *arg)
{
    struct mem_sink *m = arg;
    size_t add = size * n;

    if (add > m->max - m->len) {
        m->too_big = true;
        return 0;
    }
    if (m->len + add + 1 > m->cap) {
        size_t cap = m->cap ? m->cap : 4096;
        char *grown;

        while (cap < m->len + add + 1)
            cap *= 2;
        grown = realloc(m->buf, cap);
        if (grown == NULL)
            return 0;
        m->buf = grown;
        m->cap = cap;
    }
    memcpy(m->buf + m->len, p, add);
    m->len += add;
    m->buf[m->len] = '\0';
    return add;
}

int upstream_fetch_bytes(const char *url, size_t max, const struct upstream_fetch_opts *o,
                         char **body, size_t *len, char *err, size_t cap)
{
    struct mem_sink m = {.max = max};
    CURL *h = easy_for(url, o);
    int rc = FETCH_LOCAL;

    *body = NULL;
    *len = 0;
    if (h == NULL) {
        snprintf(err, cap, "cannot make an HTTP client handle");
        goto out;
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, mem_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &m);
    rc = result_of(h, curl_easy_perform(h), url, err, cap);
    if (m.too_big) {
        snprintf(err, cap, "%s: the answer is over %zu bytes", url, max);
        rc = FETCH_FAILED;
    }
    if (rc == FETCH_OK && m.buf == NULL && (m.buf = calloc(1, 1)) == NULL)
        rc = FETCH_LOCAL;
    if (rc == FETCH_OK) {
        *body = m.buf;
        *len = m.len;
        m.buf = NULL;
    }
out:
    free(m.buf);
    curl_easy_cleanup(h);
    return rc;
}

/* ---- calls with a bearer token (a branch's report and poll) ---- */

/* l with line appended; *ok false (and l as it was) when that fails. */
static struct curl_slist *header_add(struct curl_slist *l, const char *line, bool *ok)
{
    struct curl_slist *more = *ok ? curl_slist_append(l, line) : NULL;

    if (more == NULL)
        *ok = false;
    return more != NULL ? more : l;
}

/* "Authorization: Bearer TOKEN", the body's type for a POST, and
 * If-None-Match when etag is not NULL; or NULL. */
static struct curl_slist *authed_headers(const char *bearer, bool post, const char *etag)
{
    struct curl_slist *l = NULL;
    char line[512];
    bool ok = snprintf(line, sizeof(line), "Authorization: Bearer %s", bearer) < (int)sizeof(line);

    l = header_add(l, line, &ok);
    if (post)
        l = header_add(l, "Content-Type: application/json", &ok);
    if (etag != NULL) {
        ok = ok && snprintf(line, sizeof(line), "If-None-Match: \"%s\"", etag) < (int)sizeof(line);
        l = header_add(l, line, &ok);
    }
    if (!ok) {
        curl_slist_free_all(l);
        return NULL;
    }
    return l;
}

struct authed {
    const char *bearer;
    const char *body; /* NULL: a GET */
    size_t len;
    const char *etag; /* If-None-Match; NULL: none */
};

/* The call q to url; the answer kept as upstream_fetch_post says. */
static int authed_call(const char *url, const struct authed *q, size_t max,
                       const struct upstream_fetch_opts *o, long *status, char **answer,
                       size_t *alen, char *err, size_t cap)
{
    struct mem_sink m = {.max = max};
    struct curl_slist *hdr = authed_headers(q->bearer, q->body != NULL, q->etag);
    CURL *h = easy_for(url, o);
    CURLcode cc;
    int rc = FETCH_LOCAL;

    *answer = NULL;
    *alen = 0;
    *status = 0;
    if (h == NULL || hdr == NULL) {
        snprintf(err, cap, "cannot make an HTTP client request");
        goto out;
    }
    curl_easy_setopt(h, CURLOPT_FAILONERROR, 0L); /* an error's body says why */
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    if (q->body != NULL) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, q->body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->len);
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, mem_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &m);
    cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    rc = result_of(h, cc, url, err, cap);
    if (m.too_big) {
        snprintf(err, cap, "%s: the answer is over %zu bytes", url, max);
        rc = FETCH_FAILED;
    } else if (rc == FETCH_OK && *status != 200 && !(*status == 304 && q->etag != NULL)) {
        snprintf(err, cap, "%s: HTTP status %ld", url, *status);
        rc = FETCH_FAILED;
    }
    if (!m.too_big) {
        *answer = m.buf;
        *alen = m.len;
        m.buf = NULL;
    }
out:
    free(m.buf);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return rc;
}

int upstream_fetch_post(const char *url, const char *bearer, const char *body, size_t len,
                        size_t max, const struct upstream_fetch_opts *o, long *status,
                        char **answer, size_t *alen, char *err, size_t cap)
{
    struct authed q = {bearer, body, len, NULL};

    return authed_call(url, &q, max, o, status, answer, alen, err, cap);
}

int upstream_fetch_get_tagged(const char *url, const char *bearer, const char *etag, size_t max,
                              const struct upstream_fetch_opts *o, long *status, char **answer,
                              size_t *alen, char *err, size_t cap)
{
    struct authed q = {bearer, NULL, 0, etag};

    return authed_call(url, &q, max, o, status, answer, alen, err, cap);
}

/* ---- a blob into a file ---- */

struct file_sink {
    const struct upstream_fetch_opts *o;
    CURL *h;
    int fd;
    EVP_MD_CTX *md;
    uint64_t have, size, got;
    bool started; /* the first body bytes were seen and the status checked */
    bool too_big;
    bool bad_range; /* a 206 that does not start where the file ends */
    int io_errno;
    int64_t range_start; /* from Content-Range; -1 when none */
    int64_t t0;          /* monotonic ns of the first body bytes, for the pace */
};

/* Starts the file and the digest over (a 200 answer to a Range request). */
static int sink_restart(struct file_sink *s)
{
    if (ftruncate(s->fd, 0) != 0 || lseek(s->fd, 0, SEEK_SET) != 0 ||
        EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1)
        return -1;
    s->have = 0;
    return 0;
}

static size_t file_header(char *p, size_t size, size_t n, void *arg)
{
    struct file_sink *s = arg;
    size_t len = size * n;
    unsigned long long start;
    char line[128];

    if (len < sizeof(line) && len > 14 && strncasecmp(p, "content-range:", 14) == 0) {
        memcpy(line, p + 14, len - 14);
        line[len - 14] = '\0';
        if (sscanf(line, " bytes %llu-", &start) == 1)
            s->range_start = (int64_t)start;
    }
    return len;
}

/* The first body bytes: a 206 must continue the file, a 200 starts it over. */
static int sink_start(struct file_sink *s)
{
    long status = 0;

    s->started = true;
    curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
    if (status == 206) {
        if (s->range_start != (int64_t)s->have) {
            s->bad_range = true;
            return -1;
        }
        return 0;
    }
    return s->have > 0 ? sink_restart(s) : 0;
}

static void sink_progress(const struct file_sink *s)
{
    if (s->o != NULL && s->o->progress != NULL)
        s->o->progress(s->o->progress_arg, s->have, s->got);
}

/* max_recv_bytes_per_s: sleeps here until got bytes are due at that rate
 * (TCP then slows the sender). Done here, not with libcurl's
 * CURLOPT_MAX_RECV_SPEED_LARGE, which 7.88 does not hold on a fast link. */
static void sink_pace(struct file_sink *s)
{
    uint64_t rate = s->o != NULL ? s->o->max_recv_bytes_per_s : 0;
    int64_t due, now;

    if (rate == 0)
        return;
    due = s->t0 + (int64_t)(s->got * 1000000000.0 / (double)rate);
    while ((now = clock_mono_ns()) < due && !(s->o->stop != NULL && atomic_load(s->o->stop))) {
        int64_t nap =
            due - now < FETCH_PACE_NAP_MS * 1000000 ? due - now : FETCH_PACE_NAP_MS * 1000000;
        struct timespec ts = {(time_t)(nap / 1000000000), (long)(nap % 1000000000)};

        nanosleep(&ts, NULL);
    }
}

static size_t file_write(char *p, size_t size, size_t n, void *arg)
{
    struct file_sink *s = arg;
    size_t add = size * n, done = 0;

    if (!s->started && sink_start(s) != 0) {
        s->io_errno = s->bad_range ? 0 : errno;
        return 0;
    }
    if (s->t0 == 0)
        s->t0 = clock_mono_ns();
    if (add > s->size - s->have) {
        s->too_big = true;
        return 0;
    }
    while (done < add) {
        ssize_t w = write(s->fd, p + done, add - done);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            s->io_errno = w < 0 ? errno : ENOSPC;
            return 0;
        }
        done += (size_t)w;
    }
    if (EVP_DigestUpdate(s->md, p, add) != 1)
        return 0;
    s->have += add;
    s->got += add;
    sink_progress(s);
    sink_pace(s);
    return add;
}

/* Hashes what the file holds already; keeps it only when it can be a start. */
static int sink_resume(struct file_sink *s)
{
    unsigned char *buf;
    struct stat st;
    ssize_t r = 0;

    if (fstat(s->fd, &st) != 0)
        return -1;
    if ((uint64_t)st.st_size > s->size)
        return sink_restart(s);
    buf = malloc(FETCH_READ_CHUNK);
    if (buf == NULL)
        return -1;
    while ((r = read(s->fd, buf, FETCH_READ_CHUNK)) > 0 || (r < 0 && errno == EINTR)) {
        if (r > 0 && EVP_DigestUpdate(s->md, buf, (size_t)r) != 1)
            break;
        if (r > 0)
            s->have += (uint64_t)r;
    }
    free(buf);
    return r == 0 && s->have == (uint64_t)st.st_size ? 0 : -1;
}

/* The file is complete: its size and digest against what was expected. */
static int sink_check(struct file_sink *s, const char *sha256, const char *url, char *err,
                      size_t cap)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    unsigned dlen = 0;

    if (s->have != s->size) {
        snprintf(err, cap, "%s: %" PRIu64 " bytes, expected %" PRIu64, url, s->have, s->size);
        return FETCH_CORRUPT;
    }
    if (EVP_DigestFinal_ex(s->md, d, &dlen) != 1)
        return FETCH_LOCAL;
    for (unsigned i = 0; i < dlen; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    if (strcmp(hex, sha256) != 0) {
        snprintf(err, cap, "%s: SHA-256 %.16s..., expected %.16s...", url, hex, sha256);
        return FETCH_CORRUPT;
    }
    return fsync(s->fd) == 0 ? FETCH_OK : FETCH_LOCAL;
}

/* One GET of what the file lacks (nothing when it is whole). */
static int sink_fetch(struct file_sink *s, const char *url, const struct upstream_fetch_opts *o,
                      char *err, size_t cap)
{
    char range[48];
    int rc;

    if (s->have == s->size)
        return FETCH_OK;
    s->h = easy_for(url, o);
    if (s->h == NULL) {
        snprintf(err, cap, "cannot make an HTTP client handle");
        return FETCH_LOCAL;
    }
    if (s->have > 0) {
        snprintf(range, sizeof(range), "%" PRIu64 "-", s->have);
        curl_easy_setopt(s->h, CURLOPT_RANGE, range);
    }
    curl_easy_setopt(s->h, CURLOPT_HEADERFUNCTION, file_header);
    curl_easy_setopt(s->h, CURLOPT_HEADERDATA, s);
    curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, file_write);
    curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
    rc = result_of(s->h, curl_easy_perform(s->h), url, err, cap);
    if (s->too_big) {
        snprintf(err, cap, "%s: more than the %" PRIu64 " bytes expected", url, s->size);
        rc = FETCH_CORRUPT;
    } else if (s->bad_range) {
        snprintf(err, cap, "%s: a partial answer that does not continue the file", url);
        rc = sink_restart(s) == 0 ? FETCH_FAILED : FETCH_LOCAL;
    } else if (s->io_errno != 0) {
        snprintf(err, cap, "writing %s: %s", url, strerror(s->io_errno));
        rc = FETCH_LOCAL;
    }
    curl_easy_cleanup(s->h);
    s->h = NULL;
    return rc;
}

int upstream_fetch_blob(const char *url, const char *path, uint64_t size, const char *sha256,
                        const struct upstream_fetch_opts *o, uint64_t *got, char *err, size_t cap)
{
    struct file_sink s = {.o = o, .fd = -1, .size = size, .range_start = -1};
    int rc = FETCH_LOCAL;

    *got = 0;
    s.md = EVP_MD_CTX_new();
    s.fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (s.md == NULL || s.fd < 0 || EVP_DigestInit_ex(s.md, EVP_sha256(), NULL) != 1 ||
        sink_resume(&s) != 0 || lseek(s.fd, 0, SEEK_END) < 0) {
        snprintf(err, cap, "%s: %s", path, strerror(errno));
        goto out;
    }
    sink_progress(&s);
    rc = sink_fetch(&s, url, o, err, cap);
    if (rc == FETCH_OK)
        rc = sink_check(&s, sha256, url, err, cap);
    if (rc == FETCH_CORRUPT)
        unlink(path);
out:
    *got = s.got;
    if (s.fd >= 0)
        close(s.fd);
    EVP_MD_CTX_free(s.md);
    return rc;
}
