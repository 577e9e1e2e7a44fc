/* fuzz_cnf_template.c: libFuzzer target for cnf_template_check(),
 * xmlcheck_document() and cnf_name_parse(): an accepted template is
 * well-formed XML and, rendered with hostile values, gives a document the
 * checker also accepts; a device name gives 12 upper-case hex digits. Must
 * not touch files. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/cnf/cnf.h"
#include "server/cnf/xmlcheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_cnf_effective(struct settings_model *m, struct settings_device *d,
                               struct settings_effective *e)
{
    static const char nasty[] = "<&>\"' ]]> {{LOAD}} \x01\xff\xc3\xa9 --";

    memset(m, 0, sizeof(*m));
    memset(d, 0, sizeof(*d));
    memset(e, 0, sizeof(*e));
    snprintf(m->name, sizeof(m->name), "%s", nasty);
    snprintf(m->protocol, sizeof(m->protocol), "S<&>");
    snprintf(d->mac, sizeof(d->mac), "001122AABBCC");
    snprintf(d->description, sizeof(d->description), "%s", nasty);
    e->device = d;
    e->model = m;
    snprintf(e->pfs.value, sizeof(e->pfs.value), "on");
    snprintf(e->load_server.value, sizeof(e->load_server.value), "%s", nasty);
    snprintf(e->load.value, sizeof(e->load.value), "%s", nasty);
}

static void fuzz_cnf_name(const uint8_t *data, size_t size)
{
    char name[64], mac[SETTINGS_MAC_LEN + 1];
    size_t n = size < sizeof(name) - 1 ? size : sizeof(name) - 1;

    memcpy(name, data, n);
    name[n] = '\0';
    if (cnf_name_parse(name, mac) != CNF_NAME_DEVICE)
        return;
    if (strlen(mac) != SETTINGS_MAC_LEN || strspn(mac, "0123456789ABCDEF") != SETTINGS_MAC_LEN)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct cnf_buf out;
    struct settings_model m;
    struct settings_device d;
    struct settings_effective e;
    const char *why = NULL;
    int rc = cnf_template_check((const char *)data, size, &why);

    fuzz_cnf_name(data, size);
    if ((rc == CNF_OK) != (why == NULL) || (rc != CNF_OK && rc != CNF_INVALID))
        abort();
    if (xmlcheck_document((const char *)data, size, NULL, NULL) != XMLCHECK_OK && rc == CNF_OK)
        abort(); /* a template is well-formed XML first */
    if (rc != CNF_OK)
        return 0;
    fuzz_cnf_effective(&m, &d, &e);
    if (cnf_render_device((const char *)data, size, &e, "cm&<>", &out) != CNF_OK)
        abort();
    if (out.len != strlen(out.data) ||
        xmlcheck_document(out.data, out.len, NULL, &why) != XMLCHECK_OK)
        abort();
    return 0;
}
