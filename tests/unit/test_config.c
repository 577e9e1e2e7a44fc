/* test_config.c: every key at its bounds and one past them, the config file
 * parser (comments, quotes, bad lines with line numbers, size limits), flags
 * over the file, tftp-listen replacement, and net_listen_parse(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "server/config.h"
#include "tests/unit/testdir.h"

static char tmp_dir[PATH_MAX];

static int dir_setup(void **state)
{
    (void)state;
    return testdir_make("test_config", tmp_dir);
}

static int dir_teardown(void **state)
{
    (void)state;
    return testdir_remove(tmp_dir) == 0 ? 0 : -1;
}

/* Writes content (len bytes) to a file in tmp_dir; returns its path (static). */
static const char *write_conf_len(const char *name, const char *content, size_t len)
{
    static char path[PATH_MAX + 64];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", tmp_dir, name);
    fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(content, 1, len, fp), len);
    fclose(fp);
    return path;
}

static const char *write_conf(const char *name, const char *content)
{
    return write_conf_len(name, content, strlen(content));
}

/* ---- defaults ---- */

static void test_defaults(void **state)
{
    struct loadsd_config c;

    (void)state;
    memset(&c, 0xa5, sizeof(c));
    config_defaults(&c);
    assert_string_equal(c.config_path, CONFIG_DEFAULT_PATH);
    assert_int_equal(c.tftp_listen_count, 1);
    assert_string_equal(c.tftp_listen[0].text, "[::]:69");
    assert_int_equal(c.tftp_listen[0].addr.ss_family, AF_INET6);
    assert_string_equal(c.serve_dir, "");
    assert_int_equal(c.threads, 0);
    assert_int_equal(c.max_transfers, 10000);
    assert_int_equal(c.max_transfers_per_client, 64);
    assert_int_equal(c.max_unacked, 1000);
    assert_int_equal(c.max_unacked_per_prefix, 64);
    assert_false(c.rollover_to_one);
    assert_false(c.foreground);
    assert_int_equal(c.log_level, LOG_LEVEL_INFO);
    assert_string_equal(c.user, "");
    assert_int_equal(c.max_blksize, 65464);
    assert_int_equal(c.max_windowsize, 64);
    assert_int_equal(c.retries, 5);
    assert_int_equal(c.timeout_ms, 1000);
    assert_int_equal(c.grace_seconds, 10);
}

/* ---- numeric keys at their bounds ---- */

struct bound_case {
    const char *key;
    size_t offset; /* of an unsigned field */
    unsigned min, max;
};

#define FIELD(f) offsetof(struct loadsd_config, f)

static const struct bound_case bound_cases[] = {
    {"threads", FIELD(threads), 0, 256},
    {"max-transfers", FIELD(max_transfers), 1, 100000},
    {"max-transfers-per-client", FIELD(max_transfers_per_client), 1, 10000},
    {"max-unacked", FIELD(max_unacked), 1, 100000},
    {"max-unacked-per-prefix", FIELD(max_unacked_per_prefix), 1, 100000},
    {"max-blksize", FIELD(max_blksize), 8, 65464},
    {"upstream-tftp-blksize", FIELD(upstream_tftp_blksize), 8, 65464},
    {"upstream-tftp-windowsize", FIELD(upstream_tftp_windowsize), 1, 64},
    {"max-windowsize", FIELD(max_windowsize), 1, 65535},
    {"retries", FIELD(retries), 1, 20},
    {"timeout-ms", FIELD(timeout_ms), 100, 60000},
    {"grace-period", FIELD(grace_seconds), 0, 3600},
};

static unsigned field_value(const struct loadsd_config *c, size_t offset)
{
    unsigned v;

    memcpy(&v, (const char *)c + offset, sizeof(v));
    return v;
}

static int set_num(struct loadsd_config *c, const char *key, unsigned long v, char *err,
                   size_t errlen)
{
    char text[32];

    snprintf(text, sizeof(text), "%lu", v);
    return config_set(c, key, text, err, errlen);
}

static void test_numeric_bounds(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bound_cases) / sizeof(bound_cases[0]); i++) {
        const struct bound_case *t = &bound_cases[i];
        struct loadsd_config c;
        char err[256];
        unsigned before;

        print_message("key %s\n", t->key);
        config_defaults(&c);
        assert_int_equal(set_num(&c, t->key, t->min, err, sizeof(err)), 0);
        assert_int_equal(field_value(&c, t->offset), t->min);
        assert_int_equal(set_num(&c, t->key, t->max, err, sizeof(err)), 0);
        assert_int_equal(field_value(&c, t->offset), t->max);
        before = field_value(&c, t->offset);
        assert_int_equal(set_num(&c, t->key, (unsigned long)t->max + 1, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "out of range"));
        assert_non_null(strstr(err, t->key));
        if (t->min > 0) {
            assert_int_equal(set_num(&c, t->key, t->min - 1, err, sizeof(err)), -1);
            assert_non_null(strstr(err, "out of range"));
        }
        assert_int_equal(config_set(&c, t->key, "", err, sizeof(err)), -1);
        assert_int_equal(config_set(&c, t->key, "-1", err, sizeof(err)), -1);
        assert_int_equal(config_set(&c, t->key, "12abc", err, sizeof(err)), -1);
        assert_non_null(strstr(err, "not a number"));
        assert_int_equal(config_set(&c, t->key, " 12", err, sizeof(err)), -1);
        assert_int_equal(config_set(&c, t->key, "99999999999999999999999", err, sizeof(err)), -1);
        assert_int_equal(config_set(&c, t->key, NULL, err, sizeof(err)), -1);
        assert_int_equal(field_value(&c, t->offset), before); /* refusals change nothing */
    }
}

static void test_underscore_keys(void **state)
{
    struct loadsd_config c;
    char err[256];

    (void)state;
    config_defaults(&c);
    assert_int_equal(config_set(&c, "max_transfers_per_client", "7", err, sizeof(err)), 0);
    assert_int_equal(c.max_transfers_per_client, 7);
    assert_int_equal(config_set(&c, "timeout_ms", "200", err, sizeof(err)), 0);
    assert_int_equal(c.timeout_ms, 200);
    assert_int_equal(config_set(&c, "no-such-key", "1", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "unknown setting"));
    assert_int_equal(config_set(&c, "Threads", "1", err, sizeof(err)), -1);
    assert_int_equal(config_set(&c, "threads-", "1", err, sizeof(err)), -1);
    assert_int_equal(config_set(&c, "", "1", err, sizeof(err)), -1);
}

static void test_rollover_foreground(void **state)
{
    static const struct {
        const char *key, *value;
        int rc;
        bool want;
    } cases[] = {
        {"rollover", "0", 0, false},        {"rollover", "1", 0, true},
        {"rollover", "2", -1, false},       {"rollover", "yes", -1, false},
        {"rollover", "", -1, false},        {"foreground", "yes", 0, true},
        {"foreground", "no", 0, false},     {"foreground", "1", 0, true},
        {"foreground", "0", 0, false},      {"foreground", "true", 0, true},
        {"foreground", "false", 0, false},  {"foreground", NULL, 0, true},
        {"foreground", "maybe", -1, false}, {"foreground", "", -1, false},
        {"foreground", "YES", -1, false},   {"foreground", "2", -1, false},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct loadsd_config c;
        char err[256] = "";
        bool *field;

        config_defaults(&c);
        field = strcmp(cases[i].key, "rollover") == 0 ? &c.rollover_to_one : &c.foreground;
        *field = !cases[i].want;
        print_message("%s = %s\n", cases[i].key, cases[i].value ? cases[i].value : "(none)");
        assert_int_equal(config_set(&c, cases[i].key, cases[i].value, err, sizeof(err)),
                         cases[i].rc);
        if (cases[i].rc == 0)
            assert_int_equal(*field, cases[i].want);
        else
            assert_int_equal(*field, !cases[i].want);
    }
}

static void test_log_level_key(void **state)
{
    struct loadsd_config c;
    char err[256];

    (void)state;
    config_defaults(&c);
    assert_int_equal(config_set(&c, "log-level", "debug", err, sizeof(err)), 0);
    assert_int_equal(c.log_level, LOG_LEVEL_DEBUG);
    assert_int_equal(config_set(&c, "log-level", "error", err, sizeof(err)), 0);
    assert_int_equal(c.log_level, LOG_LEVEL_ERROR);
    assert_int_equal(config_set(&c, "log-level", "warn", err, sizeof(err)), 0);
    assert_int_equal(c.log_level, LOG_LEVEL_WARN);
    assert_int_equal(config_set(&c, "log-level", "verbose", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "log-level"));
    assert_int_equal(c.log_level, LOG_LEVEL_WARN);
}

static void test_string_keys(void **state)
{
    struct loadsd_config c;
    char err[256];
    char *big = malloc(PATH_MAX + 1);

    (void)state;
    assert_non_null(big);
    config_defaults(&c);
    memset(big, 'u', sizeof(c.user) - 1);
    big[sizeof(c.user) - 1] = '\0';
    assert_int_equal(config_set(&c, "user", big, err, sizeof(err)), 0);
    assert_string_equal(c.user, big);
    big[sizeof(c.user) - 1] = 'u';
    big[sizeof(c.user)] = '\0';
    assert_int_equal(config_set(&c, "user", big, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "longer than 63"));

    memset(big, 'd', PATH_MAX - 1);
    big[PATH_MAX - 1] = '\0';
    assert_int_equal(config_set(&c, "serve-dir", big, err, sizeof(err)), 0);
    assert_int_equal(strlen(c.serve_dir), PATH_MAX - 1);
    big[PATH_MAX - 1] = 'd';
    big[PATH_MAX] = '\0';
    assert_int_equal(config_set(&c, "serve-dir", big, err, sizeof(err)), -1);
    assert_int_equal(config_set(&c, "serve-dir", "/srv/tftp", err, sizeof(err)), 0);
    assert_string_equal(c.serve_dir, "/srv/tftp");
    assert_int_equal(config_set(&c, "serve-dir", "", err, sizeof(err)), 0);
    assert_string_equal(c.serve_dir, "");
    free(big);
}

static void test_listen_key(void **state)
{
    struct loadsd_config c;
    char err[256];

    (void)state;
    config_defaults(&c);
    c.tftp_listen_count = 0;
    for (unsigned i = 0; i < CONFIG_LISTEN_MAX; i++) {
        char text[32];

        snprintf(text, sizeof(text), "127.0.0.1:%u", 7000 + i);
        assert_int_equal(config_set(&c, "tftp-listen", text, err, sizeof(err)), 0);
        assert_int_equal(c.tftp_listen_count, i + 1);
        assert_string_equal(c.tftp_listen[i].text, text);
    }
    assert_int_equal(config_set(&c, "tftp-listen", "127.0.0.1:9", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "at most 16"));
    assert_int_equal(c.tftp_listen_count, CONFIG_LISTEN_MAX);
    c.tftp_listen_count = 0;
    assert_int_equal(config_set(&c, "tftp-listen", "localhost:69", err, sizeof(err)), -1);
    assert_int_equal(c.tftp_listen_count, 0);
}

/* ---- net_listen_parse ---- */

struct listen_case {
    const char *text;
    int rc;
    int family;
    const char *addr; /* inet_ntop form */
    unsigned port;
};

static const struct listen_case listen_cases[] = {
    {"127.0.0.1:6969", 0, AF_INET, "127.0.0.1", 6969},
    {"0.0.0.0:69", 0, AF_INET, "0.0.0.0", 69},
    {"10.1.2.3:1", 0, AF_INET, "10.1.2.3", 1},
    {"10.1.2.3:65535", 0, AF_INET, "10.1.2.3", 65535},
    {"[::1]:69", 0, AF_INET6, "::1", 69},
    {"[::]:69", 0, AF_INET6, "::", 69},
    {"[2001:db8::5]:6969", 0, AF_INET6, "2001:db8::5", 6969},
    {"[::ffff:127.0.0.1]:69", 0, AF_INET6, "::ffff:127.0.0.1", 69},
    {"*:69", 0, AF_INET6, "::", 69},
    {"*:6969", 0, AF_INET6, "::", 6969},
    {"1.2.3.4", -1, 0, NULL, 0},
    {"1.2.3.4:", -1, 0, NULL, 0},
    {"1.2.3.4:0", -1, 0, NULL, 0},
    {"1.2.3.4:65536", -1, 0, NULL, 0},
    {"1.2.3.4:-1", -1, 0, NULL, 0},
    {"1.2.3.4:+69", -1, 0, NULL, 0},
    {"1.2.3.4: 69", -1, 0, NULL, 0},
    {"1.2.3.4:69 ", -1, 0, NULL, 0},
    {"1.2.3.4:6x", -1, 0, NULL, 0},
    {"1.2.3:69", -1, 0, NULL, 0},
    {"1.2.3.256:69", -1, 0, NULL, 0},
    {"1.2.3.4:69:70", -1, 0, NULL, 0},
    {"::1:69", -1, 0, NULL, 0},
    {"[::1]", -1, 0, NULL, 0},
    {"[::1:69", -1, 0, NULL, 0},
    {"[::1]69", -1, 0, NULL, 0},
    {"[::1]:", -1, 0, NULL, 0},
    {"[::1]:0", -1, 0, NULL, 0},
    {"[]:69", -1, 0, NULL, 0},
    {"[1.2.3.4]:69", -1, 0, NULL, 0},
    {"[::g]:69", -1, 0, NULL, 0},
    {"[fe80::1%eth0]:69", -1, 0, NULL, 0},
    {"x:69", -1, 0, NULL, 0},
    {"localhost:69", -1, 0, NULL, 0},
    {"localhost", -1, 0, NULL, 0},
    {"*", -1, 0, NULL, 0},
    {"*:", -1, 0, NULL, 0},
    {"*:0", -1, 0, NULL, 0},
    {"**:69", -1, 0, NULL, 0},
    {":69", -1, 0, NULL, 0},
    {"", -1, 0, NULL, 0},
    {"[0000:0000:0000:0000:0000:0000:0000:0001]:65535", 0, AF_INET6, "::1", 65535},
    {"[0000:0000:0000:0000:0000:0000:0000:0001]:655350", -1, 0, NULL, 0},
    /* 64 bytes: does not fit net_listen.text. */
    {"[0000:0000:0000:0000:0000:0000:0000:0001]:00000000000000000000069", -1, 0, NULL, 0},
};

static void test_parse_listen_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(listen_cases) / sizeof(listen_cases[0]); i++) {
        const struct listen_case *t = &listen_cases[i];
        struct net_listen l;
        char addr[INET6_ADDRSTRLEN];

        print_message("case \"%s\"\n", t->text);
        memset(&l, 0x5a, sizeof(l));
        assert_int_equal(net_listen_parse(t->text, &l), t->rc);
        if (t->rc != 0) {
            assert_int_equal((unsigned char)l.text[0], 0x5a); /* untouched */
            continue;
        }
        assert_string_equal(l.text, t->text);
        assert_int_equal(l.addr.ss_family, t->family);
        if (t->family == AF_INET) {
            const struct sockaddr_in *sin = (const struct sockaddr_in *)&l.addr;

            assert_int_equal(l.len, sizeof(struct sockaddr_in));
            assert_non_null(inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr)));
            assert_int_equal(ntohs(sin->sin_port), t->port);
        } else {
            const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&l.addr;

            assert_int_equal(l.len, sizeof(struct sockaddr_in6));
            assert_non_null(inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr)));
            assert_int_equal(ntohs(sin6->sin6_port), t->port);
            assert_int_equal(sin6->sin6_scope_id, 0);
            assert_int_equal(sin6->sin6_flowinfo, 0);
        }
        assert_string_equal(addr, t->addr);
    }
    assert_int_equal(net_listen_parse(NULL, NULL), -1);
}

/* ---- the config file ---- */

static void test_file_good(void **state)
{
    struct loadsd_config c;
    char err[256] = "";
    const char *path = write_conf("good.conf", "# loadsd test config\n"
                                               "\n"
                                               "   # indented comment\n"
                                               "threads = 4\n"
                                               "max-transfers=500\n"
                                               "  max_transfers_per_client\t=\t9  \n"
                                               "serve-dir = \"/srv/tftp root\"\n"
                                               "user = \"\"\n"
                                               "foreground = yes\r\n"
                                               "rollover = 1\n"
                                               "log-level = debug\n"
                                               "tftp-listen = 127.0.0.1:6969\n"
                                               "tftp-listen = \"[::1]:6969\"\n"
                                               "grace-period = 0\n"
                                               "timeout-ms = 250"); /* no final newline */

    (void)state;
    config_defaults(&c);
    assert_int_equal(config_load_file(&c, path, true, err, sizeof(err)), 0);
    assert_int_equal(c.threads, 4);
    assert_int_equal(c.max_transfers, 500);
    assert_int_equal(c.max_transfers_per_client, 9);
    assert_string_equal(c.serve_dir, "/srv/tftp root");
    assert_string_equal(c.user, "");
    assert_true(c.foreground);
    assert_true(c.rollover_to_one);
    assert_int_equal(c.log_level, LOG_LEVEL_DEBUG);
    assert_int_equal(c.tftp_listen_count, 2); /* the file's list replaced the default */
    assert_string_equal(c.tftp_listen[0].text, "127.0.0.1:6969");
    assert_string_equal(c.tftp_listen[1].text, "[::1]:6969");
    assert_int_equal(c.grace_seconds, 0);
    assert_int_equal(c.timeout_ms, 250);
    assert_int_equal(c.retries, 5); /* untouched keys keep their defaults */
}

struct bad_file_case {
    const char *content;
    const char *where; /* expected ":LINE:" */
    const char *why;   /* a piece of the message */
};

static const struct bad_file_case bad_file_cases[] = {
    {"threads 4\n", ":1:", "key = value"},
    {"# ok\n\nthreads = 4\nbogus = 1\n", ":4:", "unknown setting"},
    {"threads = 257\n", ":1:", "out of range"},
    {"threads = four\n", ":1:", "not a number"},
    {"threads = 4 # four\n", ":1:", "not a number"},
    {"\n\n\nmax-blksize = 7\n", ":4:", "out of range"},
    {"serve-dir = \"/srv\n", ":1:", "unterminated quote"},
    {"serve-dir = \"\n", ":1:", "unterminated quote"},
    {"= 4\n", ":1:", "unknown setting"},
    {"config = /etc/other.conf\n", ":1:", "only on the command line"},
    {"tftp-listen = 1.2.3.4\n", ":1:", "tftp-listen"},
    {"foreground\n", ":1:", "key = value"},
    {"foreground = maybe\n", ":1:", "foreground"},
    {"log-level = loud\n", ":1:", "log-level"},
    {"retries = 0\nretries = 1\n", ":1:", "out of range"},
    {"a\n\n\n\n\n\n\n\n\n\n", ":1:", "key = value"},
    {"threads = 1\nthreads = 2\nthreads = 3\nthreads\n", ":4:", "key = value"},
};

static void test_file_bad_lines(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_file_cases) / sizeof(bad_file_cases[0]); i++) {
        const struct bad_file_case *t = &bad_file_cases[i];
        struct loadsd_config c;
        char err[512] = "";
        const char *path = write_conf("bad.conf", t->content);
        char where[300];

        print_message("case %zu\n", i);
        config_defaults(&c);
        assert_int_equal(config_load_file(&c, path, true, err, sizeof(err)), -1);
        snprintf(where, sizeof(where), "%s%s", path, t->where);
        assert_non_null(strstr(err, where));
        assert_non_null(strstr(err, t->why));
    }
}

static void test_file_nul_byte(void **state)
{
    struct loadsd_config c;
    char err[512] = "";
    const char *path = write_conf_len("nul.conf", "threads = 1\nthreads = 2\0junk\n", 24);

    (void)state;
    config_defaults(&c);
    assert_int_equal(config_load_file(&c, path, true, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ":2:"));
}

static void test_file_limits(void **state)
{
    struct loadsd_config c;
    char err[512] = "";
    size_t big_len = 1024 * 1024 + 1;
    char *big = malloc(big_len + 64); /* room for the last 64-byte comment line */
    const char *path;

    (void)state;
    assert_non_null(big);
    /* A 4096-byte line is fine, 4097 is not (reported with its line number). */
    memset(big, ' ', 5000);
    memcpy(big, "threads = 1\n#", 13);
    big[12 + 4096] = '\n';
    path = write_conf_len("long.conf", big, 12 + 4097);
    config_defaults(&c);
    assert_int_equal(config_load_file(&c, path, true, err, sizeof(err)), 0);
    big[12 + 4096] = ' ';
    big[12 + 4097] = '\n';
    path = write_conf_len("long.conf", big, 12 + 4098);
    assert_int_equal(config_load_file(&c, path, true, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "long.conf:2: line longer than 4096"));

    /* 1 MiB of comments loads; one byte more is refused. */
    for (size_t i = 0; i < big_len; i += 64) {
        memset(big + i, '#', 63);
        big[i + 63] = '\n';
    }
    path = write_conf_len("huge.conf", big, big_len - 1);
    assert_int_equal(config_load_file(&c, path, true, err, sizeof(err)), 0);
    path = write_conf_len("huge.conf", big, big_len);
    assert_int_equal(config_load_file(&c, path, true, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "larger than"));
    free(big);
}

static void test_file_missing(void **state)
{
    struct loadsd_config c;
    char err[512] = "";
    char path[PATH_MAX + 64];

    (void)state;
    snprintf(path, sizeof(path), "%s/missing.conf", tmp_dir);
    config_defaults(&c);
    assert_int_equal(config_load_file(&c, path, false, err, sizeof(err)), 0);
    assert_int_equal(config_load_file(&c, path, true, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "missing.conf"));
    assert_int_equal(config_load_file(&c, tmp_dir, false, err, sizeof(err)), -1); /* a dir */
}

/* ---- config_load: flags over the file ---- */

static int load_args(struct loadsd_config *c, char *err, size_t errlen, ...)
{
    char *argv[32];
    int argc = 0;
    va_list ap;

    argv[argc++] = (char *)"loadsd";
    va_start(ap, errlen);
    for (char *a = va_arg(ap, char *); a != NULL; a = va_arg(ap, char *))
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    return config_load(c, argc, argv, err, errlen);
}

static void test_load_flags_win(void **state)
{
    struct loadsd_config c;
    char err[512] = "";
    char path[PATH_MAX + 64];

    (void)state;
    snprintf(path, sizeof(path), "%s",
             write_conf("flags.conf", "threads = 4\nretries = 7\n"
                                      "tftp-listen = 127.0.0.1:6969\n"
                                      "tftp-listen = [::1]:6969\n"));
    /* The file alone. */
    assert_int_equal(load_args(&c, err, sizeof(err), "--config", path, NULL), 0);
    assert_string_equal(c.config_path, path);
    assert_int_equal(c.threads, 4);
    assert_int_equal(c.retries, 7);
    assert_int_equal(c.tftp_listen_count, 2);

    /* Flags win, in both spellings; the first --tftp-listen replaces the file's list. */
    assert_int_equal(load_args(&c, err, sizeof(err), "--threads", "8", "--config", path,
                               "--tftp-listen=127.0.0.2:69", "--tftp-listen", "[::]:70",
                               "--foreground", "--log-level=warn", NULL),
                     0);
    assert_int_equal(c.threads, 8);
    assert_int_equal(c.retries, 7);
    assert_int_equal(c.tftp_listen_count, 2);
    assert_string_equal(c.tftp_listen[0].text, "127.0.0.2:69");
    assert_string_equal(c.tftp_listen[1].text, "[::]:70");
    assert_true(c.foreground);
    assert_int_equal(c.log_level, LOG_LEVEL_WARN);

    /* Loading again (SIGHUP) starts from the defaults. */
    assert_int_equal(load_args(&c, err, sizeof(err),
                               "--config="
                               "/dev/null",
                               NULL),
                     0);
    assert_int_equal(c.threads, 0);
    assert_false(c.foreground);
    assert_int_equal(c.tftp_listen_count, 1);
    assert_string_equal(c.tftp_listen[0].text, "[::]:69");

    /* --foreground takes no value from the next argument; =no works. */
    assert_int_equal(load_args(&c, err, sizeof(err), "--config", "/dev/null", "--foreground",
                               "--retries", "3", NULL),
                     0);
    assert_true(c.foreground);
    assert_int_equal(c.retries, 3);
    assert_int_equal(load_args(&c, err, sizeof(err), "--config", "/dev/null", "--foreground",
                               "--foreground=no", NULL),
                     0);
    assert_false(c.foreground);
}

static void test_load_errors(void **state)
{
    struct loadsd_config c;
    char err[512] = "";
    char path[PATH_MAX + 64];
    char missing[PATH_MAX + 64];

    (void)state;
    snprintf(path, sizeof(path), "%s", write_conf("err.conf", "threads = 999\n"));
    snprintf(missing, sizeof(missing), "%s/nope.conf", tmp_dir);
    assert_int_equal(load_args(&c, err, sizeof(err), "--config", path, NULL), -1);
    assert_non_null(strstr(err, "err.conf:1:"));
    assert_int_equal(load_args(&c, err, sizeof(err), "--config", missing, NULL), -1);
    assert_non_null(strstr(err, "nope.conf"));
    assert_int_equal(load_args(&c, err, sizeof(err), "--bogus", NULL), -1);
    assert_int_equal(load_args(&c, err, sizeof(err), "--bogus", "--help", NULL), -1);
    assert_non_null(strstr(err, "unknown option"));
    assert_int_equal(load_args(&c, err, sizeof(err), "stray", NULL), -1);
    assert_non_null(strstr(err, "unexpected argument"));
    assert_int_equal(load_args(&c, err, sizeof(err), "-t", "4", NULL), -1);
    assert_int_equal(load_args(&c, err, sizeof(err), "--", NULL), -1);
    assert_int_equal(load_args(&c, err, sizeof(err), "--config", "/dev/null", "--threads", NULL),
                     -1);
    assert_non_null(strstr(err, "--threads needs a value"));
    assert_int_equal(
        load_args(&c, err, sizeof(err), "--config", "/dev/null", "--threads", "x", NULL), -1);
    assert_non_null(strstr(err, "--threads: \"x\" is not a number"));
    assert_int_equal(load_args(&c, err, sizeof(err), "--config", "/dev/null", "--rollover=2", NULL),
                     -1);
    assert_int_equal(
        load_args(&c, err, sizeof(err), "--config", "/dev/null", "--tftp-listen", "[::1]", NULL),
        -1);
    /* Untrusted text is cleaned in messages. */
    assert_int_equal(load_args(&c, err, sizeof(err), "--evil\x1b[2J", NULL), -1);
    assert_null(strchr(err, '\x1b'));
    assert_non_null(strstr(err, "\\x1b"));
}

/* upstream-configs: on|off, and only with a tftp:// upstream. */
static void test_upstream_configs(void **state)
{
    static const struct {
        const char *upstream, *value;
        int rc;
        bool on;
        const char *why;
    } cases[] = {
        {"tftp://cucm", "on", 0, true, NULL},
        {"tftp://cucm:6969", "yes", 0, true, NULL},
        {"tftp://cucm", "off", 0, false, NULL},
        {"http://central:6970", "off", 0, false, NULL},
        {"http://central:6970", "on", -1, false, "needs a tftp:// upstream"},
        {"none", "on", -1, false, "needs a tftp:// upstream"},
        {"tftp://cucm", "maybe", -1, false, "is not one of on, off"},
        {"tftp://cucm", "", -1, false, "is not one of on, off"},
    };
    struct loadsd_config c;
    char err[256];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err[0] = '\0';
        assert_int_equal(load_args(&c, err, sizeof(err), "--config", "/dev/null", "--upstream",
                                   cases[i].upstream, "--upstream-configs", cases[i].value, NULL),
                         cases[i].rc);
        if (cases[i].rc == 0)
            assert_int_equal(c.upstream_configs, cases[i].on);
        else
            assert_non_null(strstr(err, cases[i].why));
    }
    config_defaults(&c);
    assert_false(c.upstream_configs);
    assert_int_equal(c.upstream_tftp_blksize, 1468);
    assert_int_equal(c.upstream_tftp_windowsize, 16);
}

/* Runs config_load("--threads", threads, arg, "--bogus-after") with stdout
 * captured; returns the output (static). */
static const char *load_stdout(int *rc, const char *threads, const char *arg)
{
    static char buf[8192];
    struct loadsd_config c;
    char err[256];
    FILE *tmp = tmpfile();
    int saved = dup(STDOUT_FILENO);
    size_t n;

    assert_non_null(tmp);
    assert_true(saved >= 0);
    fflush(stdout);
    assert_true(dup2(fileno(tmp), STDOUT_FILENO) >= 0);
    *rc = load_args(&c, err, sizeof(err), "--threads", threads, arg, "--bogus-after", NULL);
    fflush(stdout);
    assert_true(dup2(saved, STDOUT_FILENO) >= 0);
    close(saved);
    rewind(tmp);
    n = fread(buf, 1, sizeof(buf) - 1, tmp);
    buf[n] = '\0';
    fclose(tmp);
    return buf;
}

static void test_load_help_version(void **state)
{
    static const char *const lines[] = {
        "--config FILE",
        "--tftp-listen ADDR:PORT",
        "--serve-dir DIR",
        "--threads N",
        "--max-transfers N",
        "--max-transfers-per-client N",
        "--rollover 0|1",
        "--foreground",
        "--log-level LEVEL",
        "--user NAME",
        "--max-blksize N",
        "--max-windowsize N",
        "--retries N",
        "--timeout-ms MS",
        "--grace-period SECONDS",
        "--help",
        "--version",
        "1..100000, default 10000",
        "8..65464, default 65464",
        "default [::]:69",
        CONFIG_DEFAULT_PATH,
    };
    const char *out;
    size_t n;
    int rc = 0;

    (void)state;
    /* Printed as soon as it is seen: later arguments are not looked at, and
     * values are not applied (999 threads is out of range). */
    out = load_stdout(&rc, "999", "--version");
    assert_int_equal(rc, 1);
    n = strlen(out);
    assert_int_equal(strncmp(out, "loadsd ", 7), 0);
    assert_true(out[7] >= '0' && out[7] <= '9');
    assert_true(n > 8 && out[n - 1] == '\n' && strchr(out, '\n') == out + n - 1);

    out = load_stdout(&rc, "1", "--help");
    assert_int_equal(rc, 1);
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        print_message("help has %s\n", lines[i]);
        assert_non_null(strstr(out, lines[i]));
    }

    /* Nothing printed for a normal load. */
    out = load_stdout(&rc, "1", "--foreground");
    assert_int_equal(rc, -1); /* --bogus-after */
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),          cmocka_unit_test(test_numeric_bounds),
        cmocka_unit_test(test_underscore_keys),   cmocka_unit_test(test_rollover_foreground),
        cmocka_unit_test(test_log_level_key),     cmocka_unit_test(test_string_keys),
        cmocka_unit_test(test_listen_key),        cmocka_unit_test(test_parse_listen_table),
        cmocka_unit_test(test_file_good),         cmocka_unit_test(test_file_bad_lines),
        cmocka_unit_test(test_file_nul_byte),     cmocka_unit_test(test_file_limits),
        cmocka_unit_test(test_file_missing),      cmocka_unit_test(test_load_flags_win),
        cmocka_unit_test(test_load_errors),       cmocka_unit_test(test_upstream_configs),
        cmocka_unit_test(test_load_help_version),
    };

    return cmocka_run_group_tests(tests, dir_setup, dir_teardown);
}
