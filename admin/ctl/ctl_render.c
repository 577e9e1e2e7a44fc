/* ctl_render.c: `loadsctl render MAC [--from IP|none]`: prints the SEP<MAC>.cnf.xml
 * (or XMLDefault.cnf.xml) loadsd would serve to a phone at that address
 * (without --from: the address its config was last asked from), from the
 * same snapshot and renderer (admin/views.h's view_phone, as the admin page).
 * Reads only; never writes the database. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "admin/ctl/ctl.h"
#include "admin/views.h"
#include "db/provision.h"
#include "server/cnf/cnf.h"

#define RENDER_USAGE                                                                               \
    "usage: loadsctl [--data-dir DIR] [--json] render MAC|XMLDefault.cnf.xml "                     \
    "[--from IP|none]\n"

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

/* The file as it is on stdout (its warnings and for whom on stderr), or
 * as JSON. */
static int render_print(const struct ctl *c, const char *file, int64_t generation,
                        const struct cnf_buf *b, const struct view_phone *p)
{
    char who[256];
    json_t *j;

    if (!c->json) {
        if (p != NULL) {
            view_phone_describe(p, who, sizeof(who));
            fprintf(stderr, "loadsctl: %s %s\n", file, who);
            for (size_t i = 0; i < p->eff.n_warnings; i++)
                fprintf(stderr, "loadsctl: warning: %s\n", p->eff.warnings[i]);
        }
        return fwrite(b->data, 1, b->len, stdout) == b->len ? CTL_OK : CTL_REFUSED;
    }
    j = json_pack("{s:s, s:I, s:s%}", "file", file, "generation", (json_int_t)generation, "xml",
                  b->data, b->len);
    if (j != NULL && p != NULL) {
        json_t *v = view_phone_json(p);

        json_object_set(j, "from", json_object_get(v, "from"));
        json_object_set(j, "warnings", json_object_get(v, "warnings"));
        json_decref(v);
    }
    return j != NULL ? ctl_print_json(j) : ctl_refuse("out of memory");
}

static int render_default(struct ctl *c)
{
    struct settings_snapshot *s = NULL;
    struct cnf_buf b = {0};
    int rc;

    if (provision_snapshot_load(c->dd.db, &s) != DB_OK)
        return ctl_refuse("cannot read the provisioning settings");
    rc = cnf_render_default(s, &b) == CNF_OK
             ? render_print(c, CNF_DEFAULT_NAME, s->generation, &b, NULL)
             : ctl_refuse("out of memory");
    cnf_buf_free(&b);
    provision_snapshot_free(s);
    return rc;
}

/* The phone of what (a MAC) at from. CTL_OK or a refusal. */
static int render_device(struct ctl *c, const char *what, const char *from)
{
    char mac[SETTINGS_MAC_LEN + 1], file[64];
    struct view_phone p;
    int rc;

    if (settings_mac_normalize(what, mac) != 0)
        return ctl_refuse("\"%s\" is not a MAC address", what);
    snprintf(file, sizeof(file), "SEP%s.cnf.xml", mac);
    rc = view_phone_open(c->dd.db, mac, from, &p);
    if (rc == VIEW_BAD_ADDRESS)
        rc = ctl_refuse("--from %s is not an IPv4 or IPv6 address (or none)", from);
    else if (rc == DB_NOT_FOUND)
        rc = ctl_refuse("no device %s: a phone asking for %s gets \"file not found\" and "
                        "then asks for %s",
                        mac, file, CNF_DEFAULT_NAME);
    else if (rc != DB_OK)
        rc = ctl_refuse("cannot read the provisioning settings");
    else if (p.rendered == CNF_INVALID)
        rc = ctl_refuse("the template of device %s's profile fails the template check; "
                        "loadsd does not serve %s",
                        mac, file);
    else
        rc = render_print(c, file, p.snap->generation, &p.config, &p);
    view_phone_close(&p);
    return rc;
}

int ctl_render(struct ctl *c, int argc, char **argv)
{
    const char *what, *from;

    if (render_parse_args(argc, argv, &what, &from) != 0) {
        fputs(RENDER_USAGE, stderr);
        return CTL_USAGE;
    }
    if (strcasecmp(what, CNF_DEFAULT_NAME) == 0 || strcasecmp(what, "XMLDefault") == 0)
        return render_default(c);
    return render_device(c, what, from);
}
