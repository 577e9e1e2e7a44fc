/* ctl_render.c: `loadsctl render MAC [--from IP]`: prints the SEP<MAC>.cnf.xml
 * (or XMLDefault.cnf.xml) loadsd would serve to a phone at that address,
 * from the same snapshot and renderer. Reads only; never writes the database. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "admin/ctl/ctl.h"
#include "db/provision.h"
#include "server/cnf/cnf.h"

#define RENDER_USAGE                                                                               \
    "usage: loadsctl [--data-dir DIR] [--json] render MAC|XMLDefault.cnf.xml "                     \
    "[--from IP]\n"

union render_addr {
    struct sockaddr sa;
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
};

/* "10.1.2.3" or "2001:db8::5" (brackets allowed). 0 or -1. */
static int render_parse_from(const char *text, union render_addr *out)
{
    char buf[INET6_ADDRSTRLEN + 2];
    size_t n = strlen(text);

    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, text, &out->v4.sin_addr) == 1) {
        out->v4.sin_family = AF_INET;
        return 0;
    }
    if (n >= 2 && n < sizeof(buf) && text[0] == '[' && text[n - 1] == ']') {
        memcpy(buf, text + 1, n - 2);
        buf[n - 2] = '\0';
        text = buf;
    }
    if (inet_pton(AF_INET6, text, &out->v6.sin6_addr) == 1) {
        out->v6.sin6_family = AF_INET6;
        return 0;
    }
    return -1;
}

/* Splits argv into the file (MAC or XMLDefault) and --from. 0 or -1. */
static int render_parse_args(int argc, char **argv, const char **what, const char **from)
{
    *what = NULL;
    *from = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--from") == 0 && i + 1 < argc && *from == NULL)
            *from = argv[++i];
        else if (strncmp(argv[i], "--from=", 7) == 0 && *from == NULL)
            *from = argv[i] + 7;
        else if (argv[i][0] != '-' && *what == NULL)
            *what = argv[i];
        else
            return -1;
    }
    return *what != NULL ? 0 : -1;
}

static int render_print(const struct ctl *c, const char *file, int64_t generation,
                        const struct cnf_buf *b)
{
    json_t *j;

    if (!c->json)
        return fwrite(b->data, 1, b->len, stdout) == b->len ? CTL_OK : CTL_REFUSED;
    j = json_pack("{s:s, s:I, s:s%}", "file", file, "generation", (json_int_t)generation, "xml",
                  b->data, b->len);
    return j != NULL ? ctl_print_json(j) : ctl_refuse("out of memory");
}

/* Renders into b; the file name goes to file. CTL_OK or a refusal. */
static int render_one(const struct settings_snapshot *s, const char *what,
                      const struct sockaddr *from, char *file, size_t cap, struct cnf_buf *b)
{
    char mac[SETTINGS_MAC_LEN + 1];
    int rc;

    if (strcasecmp(what, CNF_DEFAULT_NAME) == 0 || strcasecmp(what, "XMLDefault") == 0) {
        snprintf(file, cap, "%s", CNF_DEFAULT_NAME);
        return cnf_render_default(s, b) == CNF_OK ? CTL_OK : ctl_refuse("out of memory");
    }
    if (settings_mac_normalize(what, mac) != 0)
        return ctl_refuse("\"%s\" is not a MAC address", what);
    snprintf(file, cap, "SEP%s.cnf.xml", mac);
    rc = cnf_render_mac(s, mac, from, b);
    if (rc == CNF_UNKNOWN)
        return ctl_refuse("no device %s: a phone asking for %s gets \"file not found\" and "
                          "then asks for %s",
                          mac, file, CNF_DEFAULT_NAME);
    if (rc == CNF_INVALID)
        return ctl_refuse("the template of device %s's profile fails the template check; "
                          "loadsd does not serve %s",
                          mac, file);
    return rc == CNF_OK ? CTL_OK : ctl_refuse("out of memory");
}

int ctl_render(struct ctl *c, int argc, char **argv)
{
    struct settings_snapshot *s = NULL;
    struct cnf_buf b = {0};
    union render_addr addr;
    const char *what, *from;
    char file[64];
    int rc;

    if (render_parse_args(argc, argv, &what, &from) != 0) {
        fputs(RENDER_USAGE, stderr);
        return CTL_USAGE;
    }
    if (from != NULL && render_parse_from(from, &addr) != 0)
        return ctl_refuse("--from %s is not an IPv4 or IPv6 address", from);
    if (provision_snapshot_load(c->dd.db, &s) != DB_OK)
        return ctl_refuse("cannot read the provisioning settings");
    rc = render_one(s, what, from != NULL ? &addr.sa : NULL, file, sizeof(file), &b);
    if (rc == CTL_OK)
        rc = render_print(c, file, s->generation, &b);
    cnf_buf_free(&b);
    provision_snapshot_free(s);
    return rc;
}
