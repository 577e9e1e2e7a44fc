/* test_http.c: the admin server's pure parts: static file names (a table,
 * truncation at every length, lookups in a real mkdtemp web root with
 * symlinks that escape), Content-Types, route patterns, loopback checks.
 * Starts no server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin/api.h"
#include "admin/http.h"
#include "admin/webroot.h"
#include "tests/unit/testdir.h"

static const struct {
    const char *url;
    const char *want; /* NULL: WEBROOT_BAD_PATH */
} norm_table[] = {
    {"/", "index.html"},
    {"/index.html", "index.html"},
    {"/css/app.css", "css/app.css"},
    {"//css///app.css", "css/app.css"},
    {"/./css/./app.css", "css/app.css"},
    {"/css/", "css/index.html"},
    {"/../etc/passwd", NULL},
    {"/css/../../etc/passwd", NULL},
    {"/..", NULL},
    {"/.git/config", NULL},
    {"/.htaccess", NULL},
    {"/a\\..\\b", NULL},
    {"/a\x01"
     "b",
     NULL},
    {"/a\x7f", NULL},
    {"/c:/windows", NULL},
    {"relative.html", NULL},
    {"", NULL},
    {"/a..b.js", "a..b.js"},
    {"/x/...", NULL},
};

static void test_normalize_table(void **state)
{
    char out[WEBROOT_PATH_MAX];

    (void)state;
    for (size_t i = 0; i < sizeof(norm_table) / sizeof(norm_table[0]); i++) {
        int rc = webroot_normalize(norm_table[i].url, out, sizeof(out));

        if (norm_table[i].want == NULL) {
            if (rc != WEBROOT_BAD_PATH)
                fail_msg("row %zu: %s accepted as %s", i, norm_table[i].url, out);
        } else if (rc != WEBROOT_OK || strcmp(out, norm_table[i].want) != 0) {
            fail_msg("row %zu: %s -> %d %s, want %s", i, norm_table[i].url, rc, out,
                     norm_table[i].want);
        }
    }
    assert_int_equal(webroot_normalize(NULL, out, sizeof(out)), WEBROOT_BAD_PATH);
    assert_int_equal(webroot_normalize("/", out, 4), WEBROOT_BAD_PATH);
}

/* Every prefix of a path: accepted or refused, never past its end, and an
 * accepted one never climbs out. */
static void test_normalize_truncated(void **state)
{
    static const char full[] = "/css/../.././x/./app.css";
    char out[WEBROOT_PATH_MAX];

    (void)state;
    for (size_t len = 0; len <= sizeof(full) - 1; len++) {
        char *copy = malloc(len + 1);
        int rc;

        assert_non_null(copy);
        memcpy(copy, full, len);
        copy[len] = '\0';
        rc = webroot_normalize(copy, out, sizeof(out));
        if (len >= 7) /* "/css/.." and longer hold a ".." segment */
            assert_int_equal(rc, WEBROOT_BAD_PATH);
        if (rc == WEBROOT_OK)
            assert_null(strstr(out, ".."));
        free(copy);
    }
}

static void test_normalize_long(void **state)
{
    char url[WEBROOT_PATH_MAX + 8], out[WEBROOT_PATH_MAX];

    (void)state;
    url[0] = '/';
    memset(url + 1, 'a', sizeof(url) - 2);
    url[sizeof(url) - 1] = '\0';
    assert_int_equal(webroot_normalize(url, out, sizeof(out)), WEBROOT_BAD_PATH);
    url[WEBROOT_PATH_MAX - 2] = '\0';
    assert_int_equal(webroot_normalize(url, out, sizeof(out)), WEBROOT_OK);
}

static void test_content_types(void **state)
{
    (void)state;
    assert_string_equal(webroot_content_type("index.html"), "text/html; charset=utf-8");
    assert_string_equal(webroot_content_type("js/app.JS"), "text/javascript; charset=utf-8");
    assert_string_equal(webroot_content_type("a.css"), "text/css; charset=utf-8");
    assert_string_equal(webroot_content_type("logo.svg"), "image/svg+xml");
    assert_string_equal(webroot_content_type("noext"), "application/octet-stream");
    assert_string_equal(webroot_content_type("dir.d/noext"), "application/octet-stream");
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_lookup(void **state)
{
    char dir[PATH_MAX], path[PATH_MAX + 64], root[PATH_MAX + 8];
    struct webroot_file f;
    struct webroot *w;

    (void)state;
    assert_int_equal(testdir_make("test_http", dir), 0);
    snprintf(root, sizeof(root), "%s/web", dir);
    assert_int_equal(mkdir(root, 0755), 0);
    snprintf(path, sizeof(path), "%s/secret.txt", dir);
    write_file(path, "secret");
    snprintf(path, sizeof(path), "%s/index.html", root);
    write_file(path, "<p>hi</p>");
    snprintf(path, sizeof(path), "%s/sub", root);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/escape.txt", root);
    assert_int_equal(symlink("../secret.txt", path), 0);
    snprintf(path, sizeof(path), "%s/abs.txt", root);
    assert_int_equal(symlink("/etc/passwd", path), 0);
    snprintf(path, sizeof(path), "%s/inside.html", root);
    assert_int_equal(symlink("index.html", path), 0);
    snprintf(path, sizeof(path), "%s/fifo", root);
    assert_int_equal(mkfifo(path, 0644), 0);

    assert_int_equal(webroot_open(root, &w), WEBROOT_OK);
    assert_int_equal(webroot_lookup(w, "/", &f), WEBROOT_OK);
    assert_int_equal(f.size, 9);
    assert_string_equal(f.content_type, "text/html; charset=utf-8");
    assert_true(f.etag[0] == '"');
    close(f.fd);
    assert_int_equal(webroot_lookup(w, "/inside.html", &f), WEBROOT_OK);
    close(f.fd);
    assert_int_equal(webroot_lookup(w, "/escape.txt", &f), WEBROOT_NOT_FOUND);
    assert_int_equal(webroot_lookup(w, "/abs.txt", &f), WEBROOT_NOT_FOUND);
    assert_int_equal(webroot_lookup(w, "/../secret.txt", &f), WEBROOT_BAD_PATH);
    assert_int_equal(webroot_lookup(w, "/sub", &f), WEBROOT_NOT_FOUND);
    assert_int_equal(webroot_lookup(w, "/sub/", &f), WEBROOT_NOT_FOUND);
    assert_int_equal(webroot_lookup(w, "/fifo", &f), WEBROOT_NOT_FOUND);
    assert_int_equal(webroot_lookup(w, "/missing.js", &f), WEBROOT_NOT_FOUND);
    webroot_close(w);
    assert_int_equal(webroot_open("/nonexistent/web", &w), WEBROOT_ERROR);
    (void)testdir_remove(dir);
}

static void test_route_match(void **state)
{
    char buf[API_PATH_MAX];
    const char *args[API_ARGS_MAX];
    unsigned n = 99;

    (void)state;
    assert_int_equal(api_route_match("/api/v1/loads", "/api/v1/loads", buf, sizeof(buf), args, &n),
                     0);
    assert_int_equal(n, 0);
    assert_int_equal(api_route_match("/api/v1/loads/{}", "/api/v1/loads/P00308000500", buf,
                                     sizeof(buf), args, &n),
                     0);
    assert_int_equal(n, 1);
    assert_string_equal(args[0], "P00308000500");
    assert_int_equal(api_route_match("/api/v1/loads/{}/verify", "/api/v1/loads/X/verify", buf,
                                     sizeof(buf), args, &n),
                     0);
    assert_string_equal(args[0], "X");
    assert_int_equal(
        api_route_match("/api/v1/a/{}/b/{}", "/api/v1/a/1/b/2", buf, sizeof(buf), args, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(args[0], "1");
    assert_string_equal(args[1], "2");
    /* no match: extra, missing or empty segments, other names */
    assert_int_equal(api_route_match("/api/v1/loads", "/api/v1/loads/", buf, sizeof(buf), args, &n),
                     -1);
    assert_int_equal(
        api_route_match("/api/v1/loads/{}", "/api/v1/loads/", buf, sizeof(buf), args, &n), -1);
    assert_int_equal(
        api_route_match("/api/v1/loads/{}", "/api/v1/loads/a/b", buf, sizeof(buf), args, &n), -1);
    assert_int_equal(api_route_match("/api/v1/loads", "/api/v1/load", buf, sizeof(buf), args, &n),
                     -1);
    assert_int_equal(api_route_match("/api/v1/loads", "/api/v1/loadsx", buf, sizeof(buf), args, &n),
                     -1);
    assert_int_equal(api_route_match("/api/v1/loads", "api/v1/loads", buf, sizeof(buf), args, &n),
                     -1);
    assert_int_equal(api_route_match("/api/v1/loads", "/api/v1/loads", buf, 5, args, &n), -1);
}

static void test_loopback(void **state)
{
    struct sockaddr_in a4 = {.sin_family = AF_INET};
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};

    (void)state;
    inet_pton(AF_INET, "127.0.0.1", &a4.sin_addr);
    assert_true(admin_http_is_loopback((struct sockaddr *)&a4));
    inet_pton(AF_INET, "127.9.9.9", &a4.sin_addr);
    assert_true(admin_http_is_loopback((struct sockaddr *)&a4));
    inet_pton(AF_INET, "0.0.0.0", &a4.sin_addr);
    assert_false(admin_http_is_loopback((struct sockaddr *)&a4));
    inet_pton(AF_INET, "192.0.2.1", &a4.sin_addr);
    assert_false(admin_http_is_loopback((struct sockaddr *)&a4));
    inet_pton(AF_INET6, "::1", &a6.sin6_addr);
    assert_true(admin_http_is_loopback((struct sockaddr *)&a6));
    inet_pton(AF_INET6, "::", &a6.sin6_addr);
    assert_false(admin_http_is_loopback((struct sockaddr *)&a6));
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &a6.sin6_addr);
    assert_true(admin_http_is_loopback((struct sockaddr *)&a6));
    inet_pton(AF_INET6, "2001:db8::1", &a6.sin6_addr);
    assert_false(admin_http_is_loopback((struct sockaddr *)&a6));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize_table), cmocka_unit_test(test_normalize_truncated),
        cmocka_unit_test(test_normalize_long),  cmocka_unit_test(test_content_types),
        cmocka_unit_test(test_lookup),          cmocka_unit_test(test_route_match),
        cmocka_unit_test(test_loopback),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
