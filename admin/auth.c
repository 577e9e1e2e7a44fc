/* auth.c: users, scrypt password hashes, sessions, CSRF tokens, API tokens
 * and login throttling; the rows are db/users.c's (no SQL here). Secrets are
 * compared in constant time, stored only as hashes, and never logged. */
#include "admin/auth.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "admin/kdf.h"
#include "db/catalog.h"
#include "db/db.h"
#include "db/users.h"
#include "lib/log.h"
#include "lib/numparse.h"
#include "lib/sizes.h"

#define PHC_PREFIX      "$scrypt$ln="
#define PHC_B64_MAX     88 /* base64url of 64 bytes, rounded up */
#define SECRET_BYTES    32
#define SECRET_B64_LEN  43
#define TOKEN_PREFIX    "lsd_"
#define PASSWORD_BYTES  18 /* a bootstrap password: 24 characters, 144 bits */
#define TOUCH_INTERVAL  30 /* seconds between last_seen / last_used writes */
#define ACTOR_FIRST_RUN "loadsd (first run)"

_Static_assert(AUTH_NAME_MAX == USERS_NAME_MAX, "user names fit db/users.h rows");
_Static_assert(AUTH_SECRET_TEXT == USERS_CSRF_MAX, "CSRF tokens fit db/users.h rows");

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* ---- names and roles ---- */

const char *auth_role_name(enum auth_role role)
{
    switch (role) {
    case AUTH_ROLE_ADMIN:
        return "admin";
    case AUTH_ROLE_VIEWER:
        return "viewer";
    default:
        return "none";
    }
}

enum auth_role auth_role_parse(const char *name)
{
    if (name != NULL && strcmp(name, "admin") == 0)
        return AUTH_ROLE_ADMIN;
    if (name != NULL && strcmp(name, "viewer") == 0)
        return AUTH_ROLE_VIEWER;
    return AUTH_ROLE_NONE;
}

bool auth_name_valid(const char *name)
{
    size_t len;

    if (name == NULL || name[0] == '\0' || name[0] == '-')
        return false;
    len = strnlen(name, AUTH_NAME_MAX);
    if (len >= AUTH_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '@' || c == '-'))
            return false;
    }
    return true;
}

static bool password_valid(const char *password)
{
    size_t len;

    if (password == NULL)
        return false;
    len = strnlen(password, AUTH_PASSWORD_MAX + 1);
    return len >= AUTH_PASSWORD_MIN && len <= AUTH_PASSWORD_MAX;
}

static int map_db(int rc)
{
    switch (rc) {
    case DB_OK:
        return AUTH_OK;
    case DB_NOT_FOUND:
        return AUTH_NOT_FOUND;
    case DB_CONFLICT:
        return AUTH_CONFLICT;
    default:
        return AUTH_ERROR;
    }
}

/* ---- base64url without padding ---- */

/* Encodes n bytes; 0, or -1 when out (cap bytes) is too small. */
static int b64_encode(const uint8_t *in, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    uint32_t acc = 0;
    unsigned bits = 0;

    if (cap < (n * 4 + 2) / 3 + 1)
        return -1;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[o++] = b64_alphabet[(acc >> bits) & 0x3f];
        }
    }
    if (bits > 0)
        out[o++] = b64_alphabet[(acc << (6 - bits)) & 0x3f];
    out[o] = '\0';
    return 0;
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

/* Decodes exactly n characters; refuses a length no encoder makes and
 * non-zero trailing bits, so every byte string has one text. */
static int b64_decode(const char *in, size_t n, uint8_t *out, size_t cap, size_t *out_len)
{
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0;

    if (n % 4 == 1 || (n * 3) / 4 > cap)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value((unsigned char)in[i]);

        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    if ((acc & ((1u << bits) - 1)) != 0)
        return -1;
    *out_len = o;
    return 0;
}

/* ---- the hash string ---- */

/* Reads "DIGITS" up to the byte stop (or the end) within [*p, end) into *out. */
static int phc_number(const char **p, const char *end, char stop, uint64_t min, uint64_t max,
                      uint64_t *out)
{
    char digits[3]; /* every cost parameter has one or two digits */
    size_t n = 0;

    while (*p + n < end && (*p)[n] != stop) {
        if (n + 1 >= sizeof(digits))
            return -1;
        digits[n] = (*p)[n];
        n++;
    }
    if (*p + n >= end && stop != '\0')
        return -1;
    digits[n] = '\0';
    if (digits[0] == '0' || numparse_u64(digits, min, max, out) != 0) /* one text per value */
        return -1;
    *p += n + (stop != '\0' ? 1 : 0);
    return 0;
}

static int phc_expect(const char **p, const char *end, const char *lit)
{
    size_t n = strlen(lit);

    if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0)
        return -1;
    *p += n;
    return 0;
}

/* A base64url field of [min, max] bytes ending at stop or at end. */
static int phc_bytes(const char **p, const char *end, char stop, uint8_t *out, size_t min,
                     size_t max, size_t *len)
{
    const char *q = *p;

    while (q < end && *q != stop)
        q++;
    if ((stop != '\0' && q >= end) || (size_t)(q - *p) > PHC_B64_MAX)
        return -1;
    if (b64_decode(*p, (size_t)(q - *p), out, max, len) != 0 || *len < min)
        return -1;
    *p = q + (stop != '\0' ? 1 : 0);
    return 0;
}

/* scrypt needs 128 * r * N bytes: a stored string may not ask for more than
 * half of what scrypt_derive() allows. */
static bool phc_cost_ok(unsigned ln, unsigned r, unsigned p)
{
    (void)p;
    return (uint64_t)128 * r * ((uint64_t)1 << ln) <= AUTH_SCRYPT_MAXMEM / 2;
}

int auth_phc_parse(const char *s, size_t len, struct auth_phc *out)
{
    struct auth_phc phc;
    const char *p = s, *end;
    uint64_t ln, r, par;

    if (s == NULL || out == NULL)
        return AUTH_INVALID;
    len = strnlen(s, len);
    if (len >= AUTH_PHC_MAX)
        return AUTH_INVALID;
    end = s + len;
    memset(&phc, 0, sizeof(phc));
    if (phc_expect(&p, end, PHC_PREFIX) != 0 || phc_number(&p, end, ',', 10, 20, &ln) != 0 ||
        phc_expect(&p, end, "r=") != 0 || phc_number(&p, end, ',', 1, 32, &r) != 0 ||
        phc_expect(&p, end, "p=") != 0 || phc_number(&p, end, '$', 1, 16, &par) != 0)
        return AUTH_INVALID;
    if (phc_bytes(&p, end, '$', phc.salt, 16, sizeof(phc.salt), &phc.salt_len) != 0 ||
        phc_bytes(&p, end, '\0', phc.hash, 16, sizeof(phc.hash), &phc.hash_len) != 0 || p != end)
        return AUTH_INVALID;
    phc.ln = (unsigned)ln;
    phc.r = (unsigned)r;
    phc.p = (unsigned)par;
    if (!phc_cost_ok(phc.ln, phc.r, phc.p))
        return AUTH_INVALID;
    *out = phc;
    return AUTH_OK;
}

int auth_phc_format(const struct auth_phc *phc, char *out, size_t cap)
{
    char salt[PHC_B64_MAX + 1], hash[PHC_B64_MAX + 1];
    int n;

    if (phc->salt_len > sizeof(phc->salt) || phc->hash_len > sizeof(phc->hash) ||
        b64_encode(phc->salt, phc->salt_len, salt, sizeof(salt)) != 0 ||
        b64_encode(phc->hash, phc->hash_len, hash, sizeof(hash)) != 0)
        return AUTH_INVALID;
    n = snprintf(out, cap, PHC_PREFIX "%u,r=%u,p=%u$%s$%s", phc->ln, phc->r, phc->p, salt, hash);
    return n > 0 && (size_t)n < cap ? AUTH_OK : AUTH_INVALID;
}

struct scrypt_call {
    const char *password;
    const struct auth_phc *phc;
    uint8_t *key;
    size_t key_len;
};

static int scrypt_call_run(void *arg)
{
    const struct scrypt_call *c = arg;

    return EVP_PBE_scrypt(c->password, strlen(c->password), c->phc->salt, c->phc->salt_len,
                          (uint64_t)1 << c->phc->ln, c->phc->r, c->phc->p, AUTH_SCRYPT_MAXMEM,
                          c->key, c->key_len) == 1
               ? AUTH_OK
               : AUTH_ERROR;
}

/* On the KDF thread when loadsd runs one (admin/kdf.h), else here. */
static int scrypt_derive(const char *password, const struct auth_phc *phc, uint8_t *key,
                         size_t key_len)
{
    struct scrypt_call c = {.password = password, .phc = phc, .key = key, .key_len = key_len};

    if (kdf_run(scrypt_call_run, &c) != AUTH_OK) {
        log_error("scrypt failed (ln=%u r=%u p=%u)", phc->ln, phc->r, phc->p);
        return AUTH_ERROR;
    }
    return AUTH_OK;
}

int auth_password_hash_cost(const char *password, unsigned ln, unsigned r, unsigned p, char *out,
                            size_t cap)
{
    struct auth_phc phc = {.ln = ln, .r = r, .p = p};
    int rc = AUTH_INVALID;

    if (password == NULL || strnlen(password, AUTH_PASSWORD_MAX + 1) > AUTH_PASSWORD_MAX ||
        ln < 10 || ln > 20 || r < 1 || r > 32 || p < 1 || p > 16 || !phc_cost_ok(ln, r, p))
        goto out;
    phc.salt_len = AUTH_SALT_LEN;
    phc.hash_len = AUTH_HASH_LEN;
    rc = AUTH_ERROR;
    if (RAND_bytes(phc.salt, (int)phc.salt_len) != 1)
        goto out;
    if (scrypt_derive(password, &phc, phc.hash, phc.hash_len) != AUTH_OK)
        goto out;
    rc = auth_phc_format(&phc, out, cap);
out:
    OPENSSL_cleanse(&phc, sizeof(phc));
    return rc;
}

int auth_password_hash(const char *password, char *out, size_t cap)
{
    return auth_password_hash_cost(password, AUTH_SCRYPT_LN, AUTH_SCRYPT_R, AUTH_SCRYPT_P, out,
                                   cap);
}

/* The hash an unknown or disabled user is checked against, so that such a
 * login costs one KDF run at the same cost as a real one and the answer's
 * timing does not tell which names exist. Built once from the cost
 * constants (a random salt and an unguessable hash), never written by hand:
 * a malformed string would be refused before the KDF ran. */
static char dummy_phc[AUTH_PHC_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void dummy_build(void)
{
    struct auth_phc phc = {.ln = AUTH_SCRYPT_LN, .r = AUTH_SCRYPT_R, .p = AUTH_SCRYPT_P};

    phc.salt_len = AUTH_SALT_LEN;
    phc.hash_len = AUTH_HASH_LEN;
    if (RAND_bytes(phc.salt, (int)phc.salt_len) != 1 ||
        RAND_bytes(phc.hash, (int)phc.hash_len) != 1) {
        /* Still well formed and as costly; matching it needs an scrypt preimage. */
        memset(phc.salt, 0x5a, phc.salt_len);
        memset(phc.hash, 0xa5, phc.hash_len);
    }
    if (auth_phc_format(&phc, dummy_phc, sizeof(dummy_phc)) != AUTH_OK)
        dummy_phc[0] = '\0';
}

const char *auth_dummy_phc(void)
{
    pthread_once(&dummy_once, dummy_build);
    return dummy_phc;
}

int auth_password_verify(const char *password, const char *phc_text)
{
    struct auth_phc phc;
    uint8_t key[sizeof(phc.hash)];
    int rc = AUTH_INVALID;

    if (password == NULL || phc_text == NULL ||
        auth_phc_parse(phc_text, AUTH_PHC_MAX, &phc) != AUTH_OK)
        return AUTH_INVALID;
    rc = scrypt_derive(password, &phc, key, phc.hash_len);
    if (rc == AUTH_OK)
        rc = CRYPTO_memcmp(key, phc.hash, phc.hash_len) == 0 ? AUTH_OK : AUTH_DENIED;
    OPENSSL_cleanse(key, sizeof(key));
    return rc;
}

/* ---- secrets ---- */

static int random_b64(size_t bytes, char *out, size_t cap)
{
    uint8_t buf[SECRET_BYTES];
    int rc = AUTH_ERROR;

    if (bytes > sizeof(buf) || RAND_bytes(buf, (int)bytes) != 1)
        goto out;
    rc = b64_encode(buf, bytes, out, cap) == 0 ? AUTH_OK : AUTH_ERROR;
out:
    OPENSSL_cleanse(buf, sizeof(buf));
    return rc;
}

int auth_random_text(const char *prefix, char *out, size_t cap)
{
    size_t n = strlen(prefix);

    if (n >= cap)
        return AUTH_ERROR;
    memcpy(out, prefix, n);
    return random_b64(SECRET_BYTES, out + n, cap - n);
}

void auth_secret_hash(const char *secret, char out[SHA256_HEX_BUF])
{
    uint8_t md[32];
    unsigned len = 0;

    if (EVP_Digest(secret, strlen(secret), md, &len, EVP_sha256(), NULL) != 1 || len != 32) {
        /* Never matches a stored hash (those are 64 hex digits). */
        snprintf(out, 65, "invalid");
        return;
    }
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

bool auth_secret_equal(const char *a, const char *b)
{
    size_t la, lb;

    if (a == NULL || b == NULL)
        return false;
    la = strlen(a);
    lb = strlen(b);
    return la == lb && la > 0 && CRYPTO_memcmp(a, b, la) == 0;
}

/* A secret we issued: prefix then exactly 43 base64url characters. */
static bool secret_well_formed(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);

    if (s == NULL || strncmp(s, prefix, n) != 0 || strnlen(s, 128) != n + SECRET_B64_LEN)
        return false;
    for (size_t i = n; i < n + SECRET_B64_LEN; i++)
        if (b64_value((unsigned char)s[i]) < 0)
            return false;
    return true;
}

/* ---- branch tokens ---- */

int auth_branch_token_make(char token[AUTH_SECRET_TEXT], char hash[SHA256_HEX_BUF])
{
    if (auth_random_text(AUTH_BRANCH_TOKEN_PREFIX, token, AUTH_SECRET_TEXT) != AUTH_OK)
        return AUTH_ERROR;
    auth_secret_hash(token, hash);
    return AUTH_OK;
}

bool auth_branch_token_well_formed(const char *text)
{
    return secret_well_formed(text, AUTH_BRANCH_TOKEN_PREFIX);
}

/* ---- users ---- */

int auth_user_add(sqlite3 *db, const char *actor, const char *name, enum auth_role role,
                  const char *password)
{
    char hash[AUTH_PHC_MAX];
    int rc;

    if (!auth_name_valid(name) || role == AUTH_ROLE_NONE || !password_valid(password))
        return AUTH_INVALID;
    rc = auth_password_hash(password, hash, sizeof(hash));
    if (rc != AUTH_OK)
        return rc;
    return map_db(users_add(db, actor, name, auth_role_name(role), hash, (int64_t)time(NULL)));
}

int auth_user_passwd(sqlite3 *db, const char *actor, const char *name, const char *password)
{
    char hash[AUTH_PHC_MAX];
    int rc;

    if (!auth_name_valid(name) || !password_valid(password))
        return AUTH_INVALID;
    rc = auth_password_hash(password, hash, sizeof(hash));
    if (rc != AUTH_OK)
        return rc;
    return map_db(users_set_password(db, actor, name, hash));
}

int auth_user_set_role(sqlite3 *db, const char *actor, const char *name, enum auth_role role)
{
    if (!auth_name_valid(name) || role == AUTH_ROLE_NONE)
        return AUTH_INVALID;
    return map_db(users_set_role(db, actor, name, auth_role_name(role)));
}

int auth_user_remove(sqlite3 *db, const char *actor, const char *name)
{
    if (!auth_name_valid(name))
        return AUTH_INVALID;
    return map_db(users_remove(db, actor, name));
}

static void user_from_row(const struct users_user *row, struct auth_user *u)
{
    memset(u, 0, sizeof(*u));
    u->id = row->id;
    snprintf(u->name, sizeof(u->name), "%s", row->name);
    u->role = auth_role_parse(row->role);
    u->disabled = row->disabled;
    u->created_at = row->created_at;
}

/* The user named name, and its stored password hash when hash is not NULL.
 * AUTH_OK, AUTH_NOT_FOUND or AUTH_ERROR. */
static int user_lookup(sqlite3 *db, const char *name, struct auth_user *u, char *hash, size_t cap)
{
    struct users_user row;
    int rc = users_find(db, name, &row, hash, cap);

    if (rc == DB_OK)
        user_from_row(&row, u);
    return rc == DB_OK ? AUTH_OK : rc == DB_NOT_FOUND ? AUTH_NOT_FOUND : AUTH_ERROR;
}

int auth_user_find(sqlite3 *db, const char *name, struct auth_user *out)
{
    return user_lookup(db, name, out, NULL, 0);
}

/* users_each's callback: the caller's, on a struct auth_user. */
struct users_walk {
    int (*cb)(void *arg, const struct auth_user *u);
    void *arg;
    int rc; /* what the caller's callback stopped with */
};

static int users_walk_one(void *arg, const struct users_user *row)
{
    struct users_walk *w = arg;
    struct auth_user u;

    user_from_row(row, &u);
    w->rc = w->cb(w->arg, &u);
    return w->rc;
}

int auth_users_each(sqlite3 *db, int (*cb)(void *arg, const struct auth_user *u), void *arg)
{
    struct users_walk w = {cb, arg, 0};
    int rc = users_each(db, users_walk_one, &w);

    return w.rc != 0 ? w.rc : map_db(rc);
}

int auth_user_count(sqlite3 *db, int64_t *out)
{
    return users_count(db, out) == DB_OK ? AUTH_OK : AUTH_ERROR;
}

/* ---- first run ---- */

static int bootstrap_write(const char *data_dir, const char *password)
{
    char path[PATH_BUF], line[64];
    int fd, n, rc = AUTH_ERROR;

    snprintf(path, sizeof(path), "%s/%s", data_dir, AUTH_BOOTSTRAP_FILE);
    if (unlink(path) != 0 && errno != ENOENT)
        return AUTH_ERROR;
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        log_error("cannot write %s: %s", path, strerror(errno));
        return AUTH_ERROR;
    }
    n = snprintf(line, sizeof(line), "%s\n", password);
    if (n > 0 && write(fd, line, (size_t)n) == n && fsync(fd) == 0)
        rc = AUTH_OK;
    if (close(fd) != 0)
        rc = AUTH_ERROR;
    OPENSSL_cleanse(line, sizeof(line));
    return rc;
}

int auth_bootstrap(sqlite3 *db, const char *data_dir, char *password, size_t cap)
{
    int64_t count = 0;
    int rc = auth_user_count(db, &count);

    if (rc != AUTH_OK || count > 0)
        return rc;
    rc = random_b64(PASSWORD_BYTES, password, cap);
    if (rc == AUTH_OK)
        rc = auth_user_add(db, ACTOR_FIRST_RUN, "admin", AUTH_ROLE_ADMIN, password);
    if (rc == AUTH_CONFLICT)
        return 0; /* another process created it first */
    if (rc == AUTH_OK && data_dir != NULL)
        rc = bootstrap_write(data_dir, password);
    return rc == AUTH_OK ? 1 : rc;
}

void auth_bootstrap_forget(const char *data_dir)
{
    char path[PATH_BUF];

    snprintf(path, sizeof(path), "%s/%s", data_dir, AUTH_BOOTSTRAP_FILE);
    if (unlink(path) != 0 && errno != ENOENT)
        log_warn("cannot remove %s: %s", path, strerror(errno));
}

/* ---- throttling ---- */

int auth_throttle_rule(int64_t count, int64_t max, int64_t window_start, int64_t now,
                       int64_t *retry_after)
{
    if (now - window_start >= AUTH_THROTTLE_WINDOW || now < window_start || count < max)
        return AUTH_OK;
    *retry_after = window_start + AUTH_THROTTLE_WINDOW - now;
    return AUTH_THROTTLED;
}

int64_t auth_backoff_rule(int64_t count, int64_t last_at, int64_t now)
{
    int64_t wait, shift;

    if (count < AUTH_BACKOFF_AFTER || now < last_at)
        return 0;
    shift = count - AUTH_BACKOFF_AFTER;
    wait = shift >= 6 ? AUTH_BACKOFF_MAX : (int64_t)1 << shift;
    if (wait > AUTH_BACKOFF_MAX)
        wait = AUTH_BACKOFF_MAX;
    return now - last_at < wait ? last_at + wait - now : 0;
}

int auth_throttle_get(sqlite3 *db, const char *key, int64_t now, struct auth_throttle *out)
{
    struct users_attempts a;

    memset(out, 0, sizeof(*out));
    if (users_attempts_get(db, key, &a) != DB_OK)
        return AUTH_ERROR;
    out->window_start = a.window_start;
    /* A row from a past window counts as none. */
    if (now - a.window_start < AUTH_THROTTLE_WINDOW && now >= a.window_start) {
        out->count = a.count;
        out->last_at = a.last_at;
    }
    return AUTH_OK;
}

int auth_throttle_fail(sqlite3 *db, const char *key, int64_t now, int64_t *count)
{
    return users_attempts_add(db, key, now, AUTH_THROTTLE_WINDOW, count) == DB_OK ? AUTH_OK
                                                                                  : AUTH_ERROR;
}

int auth_throttle_reset(sqlite3 *db, const char *key)
{
    return map_db(users_attempts_reset(db, key));
}

void auth_addr_key(const char *ip, char *out, size_t cap)
{
    unsigned char a6[16];
    char text[INET6_ADDRSTRLEN];

    if (ip == NULL || ip[0] == '\0') {
        snprintf(out, cap, "addr:-");
        return;
    }
    /* One IPv6 host holds a whole /64: count it as one address. */
    if (strchr(ip, ':') != NULL && inet_pton(AF_INET6, ip, a6) == 1 &&
        !IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)a6)) {
        memset(a6 + 8, 0, 8);
        if (inet_ntop(AF_INET6, a6, text, sizeof(text)) != NULL) {
            snprintf(out, cap, "addr:%s/64", text);
            return;
        }
    }
    snprintf(out, cap, "addr:%.*s", AUTH_IP_MAX - 1, ip);
}

/* ---- login ---- */

/* The three keys one attempt counts against. */
struct login_keys {
    char pair[AUTH_NAME_MAX + AUTH_IP_MAX + 16]; /* "pair:NAME@addr:ADDR" */
    char addr[AUTH_IP_MAX + 16];                 /* "addr:ADDR" */
    char user[AUTH_NAME_MAX + 8];                /* "user:NAME" */
};

static void login_keys_make(struct login_keys *k, const char *name, const char *ip)
{
    auth_addr_key(ip, k->addr, sizeof(k->addr));
    snprintf(k->pair, sizeof(k->pair), "pair:%s@%s", name, k->addr);
    snprintf(k->user, sizeof(k->user), "user:%s", name);
}

/* Throttled when the pair or the address reached its limit, or when this
 * pair has failed before and the user is inside its backoff. A pair with no
 * failure (a fresh address for this user) passes the user's backoff, so a
 * flood from elsewhere cannot lock the user out. */
static int login_throttled(sqlite3 *db, const struct login_keys *k, int64_t now,
                           int64_t *retry_after)
{
    struct auth_throttle pair, addr, user;
    int64_t rp = 0, ra = 0, ru = 0;
    int rc1, rc2;

    if (auth_throttle_get(db, k->pair, now, &pair) != AUTH_OK ||
        auth_throttle_get(db, k->addr, now, &addr) != AUTH_OK ||
        auth_throttle_get(db, k->user, now, &user) != AUTH_OK)
        return AUTH_ERROR;
    rc1 = auth_throttle_rule(pair.count, AUTH_THROTTLE_MAX, pair.window_start, now, &rp);
    rc2 = auth_throttle_rule(addr.count, AUTH_THROTTLE_ADDR_MAX, addr.window_start, now, &ra);
    if (pair.count > 0)
        ru = auth_backoff_rule(user.count, user.last_at, now);
    if (rc1 == AUTH_OK && rc2 == AUTH_OK && ru == 0)
        return AUTH_OK;
    *retry_after = rp > ra ? rp : ra;
    if (ru > *retry_after)
        *retry_after = ru;
    return AUTH_THROTTLED;
}

/* Logs and audits the moment a limit is reached (not every refused try,
 * so that a flood cannot flood the log or the audit trail too). */
static void throttle_note(sqlite3 *db, const char *name, const char *ip, const char *what,
                          const char *key)
{
    char clean[LOG_CLEAN_MAX];

    log_warn("admin login throttled: %s (user \"%s\" from %s)", what,
             log_clean(name, strlen(name), clean, sizeof(clean)), ip != NULL ? ip : "-");
    if (catalog_audit(db, name, "login.throttle", key, NULL, what) != DB_OK)
        log_warn("cannot audit a login throttle");
}

static int login_failed(sqlite3 *db, const struct login_keys *k, const char *name, const char *ip,
                        int64_t now)
{
    int64_t pair = 0, addr = 0, user = 0;

    if (auth_throttle_fail(db, k->pair, now, &pair) != AUTH_OK ||
        auth_throttle_fail(db, k->addr, now, &addr) != AUTH_OK ||
        auth_throttle_fail(db, k->user, now, &user) != AUTH_OK)
        return AUTH_ERROR;
    /* Each refused password is audited: the throttle above bounds how
     * often that can happen (throttled tries are not checked, so not
     * audited one by one either). */
    if (catalog_audit(db, name, "login.fail", ip != NULL ? ip : "-", NULL, NULL) != DB_OK)
        log_warn("cannot audit a failed login");
    if (pair == AUTH_THROTTLE_MAX)
        throttle_note(db, name, ip, "too many failures for this user from this address", k->pair);
    if (addr == AUTH_THROTTLE_ADDR_MAX)
        throttle_note(db, name, ip, "too many failures from this address", k->addr);
    if (user == AUTH_BACKOFF_AFTER)
        throttle_note(db, name, ip, "backoff for this user (fresh addresses still pass)", k->user);
    return AUTH_OK;
}

int auth_login(sqlite3 *db, const char *name, const char *password, const char *ip, int64_t now,
               struct auth_principal *out, int64_t *retry_after)
{
    char hash[AUTH_PHC_MAX];
    struct login_keys k;
    struct auth_user u;
    int rc, found;

    if (!auth_name_valid(name) || password == NULL ||
        strnlen(password, AUTH_PASSWORD_MAX + 1) > AUTH_PASSWORD_MAX)
        return AUTH_DENIED;
    login_keys_make(&k, name, ip);
    rc = login_throttled(db, &k, now, retry_after);
    if (rc != AUTH_OK)
        return rc;
    found = user_lookup(db, name, &u, hash, sizeof(hash));
    if (found == AUTH_ERROR)
        return AUTH_ERROR;
    /* An unknown or disabled user is checked against a hash of the same
     * cost, and counted the same way: neither timing nor throttling says
     * which names exist. */
    if (found == AUTH_OK && !u.disabled)
        rc = auth_password_verify(password, hash);
    else
        rc = auth_password_verify(password, auth_dummy_phc()) == AUTH_ERROR ? AUTH_ERROR
                                                                            : AUTH_DENIED;
    OPENSSL_cleanse(hash, sizeof(hash));
    if (rc != AUTH_OK) {
        if (login_failed(db, &k, name, ip, now) != AUTH_OK)
            return AUTH_ERROR;
        return rc == AUTH_ERROR ? AUTH_ERROR : AUTH_DENIED;
    }
    /* The address's own count stays: logging in to one account must not
     * buy an address more guesses at the others. */
    auth_throttle_reset(db, k.pair);
    auth_throttle_reset(db, k.user);
    memset(out, 0, sizeof(*out));
    out->user_id = u.id;
    snprintf(out->user, sizeof(out->user), "%s", u.name);
    out->role = u.role;
    return AUTH_OK;
}

/* ---- sessions ---- */

int auth_session_create(sqlite3 *db, struct auth_principal *p, const char *ip, int64_t now,
                        char *id, size_t cap)
{
    char id_hash[SHA256_HEX_BUF];
    struct users_session_new s = {.id_hash = id_hash,
                                  .user_id = p->user_id,
                                  .user = p->user,
                                  .csrf = p->csrf,
                                  .ip = ip,
                                  .created_at = now,
                                  .expires = now + AUTH_SESSION_ABSOLUTE};
    int rc;

    if (auth_random_text("", id, cap) != AUTH_OK ||
        auth_random_text("", p->csrf, sizeof(p->csrf)) != AUTH_OK)
        return AUTH_ERROR;
    p->by_session = true;
    auth_secret_hash(id, id_hash);
    rc = map_db(users_session_add(db, &s));
    if (rc != AUTH_OK)
        OPENSSL_cleanse(id, cap);
    return rc;
}

/* Finds a session or token by the hash of its secret (refused unless well
 * formed, with prefix). AUTH_OK, AUTH_DENIED (unknown) or AUTH_ERROR. */
static int secret_find(sqlite3 *db, int (*find)(sqlite3 *, const char *, struct users_secret *),
                       const char *secret, const char *prefix, char hash[SHA256_HEX_BUF],
                       struct users_secret *out)
{
    int rc;

    if (!secret_well_formed(secret, prefix))
        return AUTH_DENIED;
    auth_secret_hash(secret, hash);
    rc = find(db, hash, out);
    return rc == DB_OK ? AUTH_OK : rc == DB_NOT_FOUND ? AUTH_DENIED : AUTH_ERROR;
}

/* The principal of a secret_find(); false when that user may not act
 * (disabled, or an unknown role). */
static bool principal_from(const struct users_user *u, struct auth_principal *out)
{
    memset(out, 0, sizeof(*out));
    out->user_id = u->id;
    snprintf(out->user, sizeof(out->user), "%s", u->name);
    out->role = auth_role_parse(u->role);
    return !u->disabled && out->role != AUTH_ROLE_NONE;
}

int auth_session_check(sqlite3 *db, const char *id, int64_t now, struct auth_principal *out)
{
    char id_hash[SHA256_HEX_BUF];
    struct users_secret s;
    bool usable;
    int rc = secret_find(db, users_session_find, id, "", id_hash, &s);

    if (rc != AUTH_OK)
        return rc;
    usable = principal_from(&s.user, out);
    snprintf(out->csrf, sizeof(out->csrf), "%s", s.csrf);
    out->by_session = true;
    if (!usable || now >= s.expires || now - s.last_seen >= AUTH_SESSION_IDLE) {
        users_session_drop(db, id_hash);
        memset(out, 0, sizeof(*out));
        return AUTH_DENIED;
    }
    if (now - s.last_seen >= TOUCH_INTERVAL)
        users_session_touch(db, id_hash, now);
    return AUTH_OK;
}

int auth_session_delete(sqlite3 *db, const char *id, const char *actor)
{
    char id_hash[SHA256_HEX_BUF];

    if (!secret_well_formed(id, ""))
        return AUTH_NOT_FOUND;
    auth_secret_hash(id, id_hash);
    return map_db(users_session_logout(db, id_hash, actor));
}

int auth_sessions_prune(sqlite3 *db, int64_t now)
{
    int n = 0;

    if (users_prune(db, now, AUTH_SESSION_IDLE, AUTH_THROTTLE_WINDOW, &n) != DB_OK)
        return AUTH_ERROR;
    return n;
}

bool auth_csrf_ok(const struct auth_principal *p, const char *header)
{
    if (!p->by_session)
        return true; /* bearer tokens are never sent by a browser on its own */
    return auth_secret_equal(p->csrf, header);
}

bool auth_allowed(const struct auth_principal *p, bool write, bool admin_only)
{
    if (p->role == AUTH_ROLE_ADMIN)
        return true;
    return p->role == AUTH_ROLE_VIEWER && !write && !admin_only;
}

/* ---- API tokens ---- */

int auth_token_create(sqlite3 *db, const char *actor, const char *user, const char *name,
                      char *token, size_t cap, int64_t *id)
{
    struct users_user u;
    char hash[SHA256_HEX_BUF];
    int rc;

    if (!auth_name_valid(user) || !auth_name_valid(name))
        return AUTH_INVALID;
    rc = users_find(db, user, &u, NULL, 0);
    if (rc != DB_OK)
        return map_db(rc);
    if (auth_random_text(TOKEN_PREFIX, token, cap) != AUTH_OK)
        return AUTH_ERROR;
    auth_secret_hash(token, hash);
    rc = map_db(users_token_add(db, actor, &u, name, hash, (int64_t)time(NULL), id));
    if (rc != AUTH_OK)
        OPENSSL_cleanse(token, cap);
    return rc;
}

int auth_token_check(sqlite3 *db, const char *token, int64_t now, struct auth_principal *out)
{
    char hash[SHA256_HEX_BUF];
    struct users_secret t;
    int rc = secret_find(db, users_token_find, token, TOKEN_PREFIX, hash, &t);

    if (rc != AUTH_OK)
        return rc;
    if (!principal_from(&t.user, out)) {
        memset(out, 0, sizeof(*out));
        return AUTH_DENIED;
    }
    if (now - t.last_seen >= TOUCH_INTERVAL)
        users_token_touch(db, t.id, now);
    return AUTH_OK;
}

int auth_token_remove(sqlite3 *db, const char *actor, int64_t id)
{
    return map_db(users_token_remove(db, actor, id));
}

/* users_tokens_each's callback: the caller's, on a struct auth_token_info. */
struct tokens_walk {
    int (*cb)(void *arg, const struct auth_token_info *t);
    void *arg;
    int rc; /* what the caller's callback stopped with */
};

static int tokens_walk_one(void *arg, const struct users_token *row)
{
    struct tokens_walk *w = arg;
    struct auth_token_info t;

    memset(&t, 0, sizeof(t));
    t.id = row->id;
    snprintf(t.user, sizeof(t.user), "%s", row->user);
    snprintf(t.name, sizeof(t.name), "%s", row->name);
    t.created_at = row->created_at;
    t.last_used = row->last_used;
    w->rc = w->cb(w->arg, &t);
    return w->rc;
}

int auth_tokens_each(sqlite3 *db, int (*cb)(void *arg, const struct auth_token_info *t), void *arg)
{
    struct tokens_walk w = {cb, arg, 0};
    int rc = users_tokens_each(db, tokens_walk_one, &w);

    return w.rc != 0 ? w.rc : map_db(rc);
}
