/* test_cnf.c: the config renderer and template checker: rendered documents
 * are validated with xmllint and read back element by element with XPath;
 * versionStamp stability, escaping, and a checker table (each verdict on
 * well-formedness cross-checked with xmllint) with every truncation.
 * Needs xmllint (libxml2-utils); touches nothing but its own temp files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "server/cnf/cnf.h"
#include "server/cnf/xmlcheck.h"
#include "tests/unit/xmllint.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers -------------------------------------------------------------- */

struct fixture {
    struct settings_model model;
    struct settings_device device;
    struct settings_effective eff;
};

static void fixture_init(struct fixture *f)
{
    memset(f, 0, sizeof(*f));
    snprintf(f->model.name, sizeof(f->model.name), "Cisco 7961");
    f->model.device_type = 30018;
    f->model.pfs_capable = true;
    snprintf(f->model.protocol, sizeof(f->model.protocol), "SIP");
    snprintf(f->model.default_load, sizeof(f->model.default_load), "SIP41.9-4-2SR3-1S");
    snprintf(f->device.mac, sizeof(f->device.mac), "001122AABBCC");
    f->device.profile = -1;
    snprintf(f->device.description, sizeof(f->device.description), "Front desk");
    f->eff.device = &f->device;
    f->eff.model = &f->model;
    snprintf(f->eff.pfs.value, sizeof(f->eff.pfs.value), "on");
    f->eff.pfs.level = SETTINGS_LEVEL_ENTERPRISE;
    snprintf(f->eff.load_server.value, sizeof(f->eff.load_server.value), "10.20.0.5");
    /* What the fleet gate lets through is what loadServer names. */
    snprintf(f->eff.load_server_gate.sends, sizeof(f->eff.load_server_gate.sends), "10.20.0.5");
    f->eff.load_server.level = SETTINGS_LEVEL_SITE;
    snprintf(f->eff.load.value, sizeof(f->eff.load.value), "SIP41.9-4-2SR3-1S");
    snprintf(f->eff.served, sizeof(f->eff.served), "%s", f->eff.load.value);
    f->eff.load.level = SETTINGS_LEVEL_MODEL;
}

/* The string value of an XPath expression over the document, via xmllint. */
static void xpath(const struct cnf_buf *doc, const char *expr, char *out, size_t cap)
{
    assert_int_equal(xmllint_xpath(doc->data, doc->len, expr, out, cap), 0);
}

static void assert_xpath(const struct cnf_buf *doc, const char *expr, const char *want)
{
    char got[1024];

    xpath(doc, expr, got, sizeof(got));
    if (strcmp(got, want) != 0)
        fail_msg("%s: got \"%s\", want \"%s\"", expr, got, want);
}

static void render(const struct fixture *f, const char *tmpl, struct cnf_buf *out)
{
    assert_int_equal(
        cnf_render_device(tmpl, tmpl ? strlen(tmpl) : 0, &f->eff, "cucm1.example", out), CNF_OK);
    assert_int_equal(strlen(out->data), out->len);
    assert_int_equal(xmlcheck_document(out->data, out->len, NULL, NULL), XMLCHECK_OK);
}

static void stamp_of(const struct cnf_buf *doc, char out[CNF_STAMP_LEN + 1])
{
    const char *p = strstr(doc->data, "<versionStamp>");

    assert_non_null(p);
    p += strlen("<versionStamp>");
    memcpy(out, p, CNF_STAMP_LEN);
    out[CNF_STAMP_LEN] = '\0';
    assert_int_equal(strspn(out, "0123456789abcdef"), CNF_STAMP_LEN);
    assert_int_equal(strncmp(p + CNF_STAMP_LEN, "</versionStamp>", 15), 0);
}

/* ---- rendering -------------------------------------------------------------- */

static void test_render_default_template(void **state)
{
    struct fixture f;
    struct cnf_buf doc = {0};
    char stamp[CNF_STAMP_LEN + 1];

    (void)state;
    fixture_init(&f);
    render(&f, NULL, &doc);
    assert_int_equal(xmllint_status(doc.data, doc.len), 0);
    assert_xpath(&doc, "/device/deviceProtocol", "SIP");
    assert_xpath(&doc, "/device/loadInformation", "SIP41.9-4-2SR3-1S");
    assert_xpath(&doc, "/device/vendorConfig/peerFirmwareSharing", "1");
    assert_xpath(&doc, "/device/vendorConfig/loadServer", "10.20.0.5");
    assert_xpath(&doc, "count(/device/inactiveLoadInformation)", "1");
    assert_xpath(&doc, "/device/inactiveLoadInformation", "");
    assert_xpath(&doc,
                 "/device/devicePool/callManagerGroup/members/member/callManager/processNodeName",
                 "cucm1.example");
    assert_xpath(&doc, "//callManager/ports/ethernetPhonePort", "2000");
    assert_xpath(&doc, "//callManager/ports/sipPort", "5060");
    stamp_of(&doc, stamp);
    assert_xpath(&doc, "/device/versionStamp", stamp);
    cnf_buf_free(&doc);
}

static void test_render_none_values(void **state)
{
    struct fixture f;
    struct cnf_buf doc = {0};

    (void)state;
    fixture_init(&f);
    f.eff.load.value[0] = '\0';
    f.eff.served[0] = '\0';
    f.eff.load.level = SETTINGS_LEVEL_NONE;
    f.eff.load_server.value[0] = '\0';
    f.eff.load_server_gate.sends[0] = '\0';
    snprintf(f.eff.pfs.value, sizeof(f.eff.pfs.value), "off");
    snprintf(f.model.protocol, sizeof(f.model.protocol), "SCCP");
    render(&f, NULL, &doc);
    assert_int_equal(xmllint_status(doc.data, doc.len), 0);
    assert_non_null(strstr(doc.data, "<loadInformation></loadInformation>"));
    assert_non_null(strstr(doc.data, "<loadServer></loadServer>"));
    assert_xpath(&doc, "count(/device/loadInformation)", "1");
    assert_xpath(&doc, "/device/vendorConfig/peerFirmwareSharing", "0");
    assert_xpath(&doc, "/device/deviceProtocol", "SCCP");
    cnf_buf_free(&doc);
}

static const char all_placeholders[] =
    "<?xml version='1.0' encoding='utf-8'?>\n"
    "<!-- every placeholder -->\n"
    "<device mac=\"{{MAC}}\" model='{{MODEL}}' note=\"{{DESCRIPTION}}\">"
    "<deviceProtocol>{{PROTOCOL}}</deviceProtocol>"
    "<description>{{DESCRIPTION}}</description>"
    "<cm host='{{CM_ADDRESS}}'>{{CM_ADDRESS}}</cm>"
    "<vendorConfig><peerFirmwareSharing>{{PFS}}</peerFirmwareSharing>"
    "<loadServer>{{LOAD_SERVER}}</loadServer></vendorConfig>"
    "<versionStamp>{{VERSION_STAMP}}</versionStamp><stamp2 v=\"{{VERSION_STAMP}}\"/>"
    "<loadInformation>{{LOAD}}</loadInformation>"
    "<literal>{ {x} }{}</literal>"
    "</device>\n";

static void test_render_all_placeholders_escaped(void **state)
{
    static const char nasty[] = "a&b<c>d\"e'f &amp; ]]> {{LOAD}}";
    struct fixture f;
    struct cnf_buf doc = {0};
    char stamp[CNF_STAMP_LEN + 1];

    (void)state;
    assert_int_equal(cnf_template_check(all_placeholders, strlen(all_placeholders), NULL), 0);
    fixture_init(&f);
    snprintf(f.device.description, sizeof(f.device.description), "%s", nasty);
    snprintf(f.model.name, sizeof(f.model.name), "Model \"<7961>\" & 'co'");
    snprintf(f.eff.load_server.value, sizeof(f.eff.load_server.value), "%s", nasty);
    snprintf(f.eff.load_server_gate.sends, sizeof(f.eff.load_server_gate.sends), "%s", nasty);
    snprintf(f.eff.load.value, sizeof(f.eff.load.value), "%s", nasty);
    snprintf(f.eff.served, sizeof(f.eff.served), "%s", nasty);
    render(&f, all_placeholders, &doc);
    assert_int_equal(xmllint_status(doc.data, doc.len), 0);
    assert_xpath(&doc, "/device/@mac", "001122AABBCC");
    assert_xpath(&doc, "/device/@model", "Model \"<7961>\" & 'co'");
    assert_xpath(&doc, "/device/@note", nasty);
    assert_xpath(&doc, "/device/description", nasty);
    assert_xpath(&doc, "/device/loadInformation", nasty);
    assert_xpath(&doc, "/device/vendorConfig/loadServer", nasty);
    assert_xpath(&doc, "/device/cm/@host", "cucm1.example");
    assert_xpath(&doc, "/device/cm", "cucm1.example");
    assert_xpath(&doc, "/device/literal", "{ {x} }{}");
    stamp_of(&doc, stamp);
    assert_xpath(&doc, "/device/stamp2/@v", stamp);
    assert_non_null(strstr(doc.data, "a&amp;b&lt;c&gt;d&quot;e&apos;f &amp;amp; ]]&gt; {{LOAD}}"));
    cnf_buf_free(&doc);
}

static void test_render_bad_bytes_replaced(void **state)
{
    struct fixture f;
    struct cnf_buf doc = {0};

    (void)state;
    fixture_init(&f);
    /* control byte, a lone continuation byte, an overlong '/', a surrogate, then é and € */
    snprintf(f.device.description, sizeof(f.device.description),
             "x\x01y\x80z\xc0\xaf|\xed\xa0\x80|\xc3\xa9\xe2\x82\xac");
    render(&f, all_placeholders, &doc);
    assert_int_equal(xmllint_status(doc.data, doc.len), 0);
    assert_xpath(&doc, "/device/description", "x?y?z??|???|\xc3\xa9\xe2\x82\xac");
    cnf_buf_free(&doc);
}

static void test_version_stamp(void **state)
{
    struct fixture f;
    struct cnf_buf a = {0}, b = {0};
    char s1[CNF_STAMP_LEN + 1], s2[CNF_STAMP_LEN + 1];
    unsigned char md[32];
    char want[CNF_STAMP_LEN + 1];
    char *empty;
    size_t at;

    (void)state;
    fixture_init(&f);
    render(&f, NULL, &a);
    render(&f, NULL, &b);
    stamp_of(&a, s1);
    stamp_of(&b, s2);
    assert_string_equal(s1, s2);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);

    /* The description is not in the default template: same content, same stamp. */
    snprintf(f.device.description, sizeof(f.device.description), "moved to room 12");
    render(&f, NULL, &b);
    stamp_of(&b, s2);
    assert_string_equal(s1, s2);

    /* Each value that is in the document moves the stamp. */
    snprintf(f.eff.load.value, sizeof(f.eff.load.value), "SIP41.9-4-2SR4-1S");
    snprintf(f.eff.served, sizeof(f.eff.served), "%s", f.eff.load.value);
    render(&f, NULL, &b);
    stamp_of(&b, s2);
    assert_string_not_equal(s1, s2);
    fixture_init(&f);
    snprintf(f.eff.pfs.value, sizeof(f.eff.pfs.value), "off");
    render(&f, NULL, &b);
    stamp_of(&b, s2);
    assert_string_not_equal(s1, s2);
    fixture_init(&f);
    f.eff.load_server.value[0] = '\0';
    f.eff.load_server_gate.sends[0] = '\0';
    render(&f, NULL, &b);
    stamp_of(&b, s2);
    assert_string_not_equal(s1, s2);
    fixture_init(&f);
    assert_int_equal(cnf_render_device(NULL, 0, &f.eff, "cucm2.example", &b), 0);
    stamp_of(&b, s2);
    assert_string_not_equal(s1, s2);

    /* Documented: the first 16 hex digits of SHA-256 of the document with an empty stamp. */
    empty = strdup(a.data);
    assert_non_null(empty);
    at = (size_t)(strstr(empty, s1) - empty);
    memmove(empty + at, empty + at + CNF_STAMP_LEN, strlen(empty + at + CNF_STAMP_LEN) + 1);
    assert_int_equal(EVP_Digest(empty, strlen(empty), md, NULL, EVP_sha256(), NULL), 1);
    for (int i = 0; i < CNF_STAMP_LEN / 2; i++)
        snprintf(want + 2 * i, 3, "%02x", md[i]);
    assert_string_equal(s1, want);
    free(empty);
    cnf_buf_free(&a);
    cnf_buf_free(&b);
}

/* Sorted by name without regard to case, as the snapshot keeps them. */
static struct settings_load xmldefault_loads[] = {
    {"SCCP41.9-4-2SR2-2S", false, false, ""},
    {"sip8845_65.14-1-1MN-79", false, false, ""},
    {"x&y", false, false, ""},
};

/* A model that runs SIP and SCCP: one element per protocol with a servable
 * default, each with its protocol attribute, its own protocol's first; a model
 * that runs one protocol keeps the plain element. */
struct xmldefault_protocol_case {
    const char *what, *protocol;
    bool dual;
    const char *own, *other; /* default loads */
    const char *want_count, *want_first, *want_first_protocol, *want_second, *want_second_protocol;
};

static const struct xmldefault_protocol_case xmldefault_protocol_cases[] = {
    {"dual, both defaults", "SCCP", true, "SCCP41.9-4-2SR2-2S", "SIP41.9-4-2SR3-1S", "2",
     "SCCP41.9-4-2SR2-2S", "SCCP", "SIP41.9-4-2SR3-1S", "SIP"},
    {"dual, SIP own", "SIP", true, "SIP41.9-4-2SR3-1S", "SCCP41.9-4-2SR2-2S", "2",
     "SIP41.9-4-2SR3-1S", "SIP", "SCCP41.9-4-2SR2-2S", "SCCP"},
    {"dual, only the other's default", "SCCP", true, "", "SIP41.9-4-2SR3-1S", "1",
     "SIP41.9-4-2SR3-1S", "SIP", "", ""},
    {"dual, other's load not in the catalog", "SCCP", true, "SCCP41.9-4-2SR2-2S", "SIP41.0-0-0",
     "1", "SCCP41.9-4-2SR2-2S", "SCCP", "", ""},
    {"dual, other's load quarantined", "SCCP", true, "SCCP41.9-4-2SR2-2S", "bad.1-0", "1",
     "SCCP41.9-4-2SR2-2S", "SCCP", "", ""},
    {"dual, no defaults", "SIP", true, "", "", "0", "", "", "", ""},
    {"one protocol: no attribute, other ignored", "SCCP", false, "SCCP41.9-4-2SR2-2S",
     "SIP41.9-4-2SR3-1S", "1", "SCCP41.9-4-2SR2-2S", "", "", ""},
};

static struct settings_load protocol_loads[] = {
    {"bad.1-0", true, false, ""},
    {"SCCP41.9-4-2SR2-2S", false, false, ""},
    {"SIP41.9-4-2SR3-1S", false, false, ""},
};

static void test_render_xmldefault_protocols(void **state)
{
    struct cnf_buf doc = {0};

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(xmldefault_protocol_cases); i++) {
        struct settings_model m = {.name = "Cisco 7961", .device_type = 30018};
        struct settings_snapshot snap = {.models = &m,
                                         .n_models = 1,
                                         .loads = protocol_loads,
                                         .n_loads = ARRAY_LEN(protocol_loads)};
        const struct xmldefault_protocol_case *c = &xmldefault_protocol_cases[i];

        print_message("case: %s\n", c->what);
        snprintf(m.protocol, sizeof(m.protocol), "%s", c->protocol);
        m.dual = c->dual;
        snprintf(m.default_load, sizeof(m.default_load), "%s", c->own);
        snprintf(m.default_load_other, sizeof(m.default_load_other), "%s", c->other);
        assert_int_equal(cnf_render_default(&snap, &doc), 0);
        assert_int_equal(xmllint_status(doc.data, doc.len), 0);
        assert_xpath(&doc, "count(/Default/loadInformation30018)", c->want_count);
        assert_xpath(&doc, "count(/Default/loadInformation30018[@model='Cisco 7961'])",
                     c->want_count);
        assert_xpath(&doc, "/Default/loadInformation30018[1]", c->want_first);
        assert_xpath(&doc, "string(/Default/loadInformation30018[1]/@protocol)",
                     c->want_first_protocol);
        assert_xpath(&doc, "/Default/loadInformation30018[2]", c->want_second);
        assert_xpath(&doc, "string(/Default/loadInformation30018[2]/@protocol)",
                     c->want_second_protocol);
    }
    cnf_buf_free(&doc);
}

static void test_render_xmldefault(void **state)
{
    struct settings_model models[4];
    struct settings_snapshot snap;
    struct cnf_buf doc = {0};

    (void)state;
    memset(models, 0, sizeof(models));
    memset(&snap, 0, sizeof(snap));
    snprintf(models[0].name, sizeof(models[0].name), "Cisco 7961");
    models[0].device_type = 30018;
    snprintf(models[0].default_load, sizeof(models[0].default_load), "SCCP41.9-4-2SR2-2S");
    snprintf(models[1].name, sizeof(models[1].name), "Cisco 7940");
    models[1].device_type = 8; /* no default load: no element */
    snprintf(models[2].name, sizeof(models[2].name), "Lab <\"&'>");
    models[2].device_type = 99999;
    snprintf(models[2].default_load, sizeof(models[2].default_load), "x&y");
    snprintf(models[3].name, sizeof(models[3].name), "Cisco 8845");
    models[3].device_type = 36224;
    snprintf(models[3].default_load, sizeof(models[3].default_load), "sip8845_65.14-1-1MN-79");
    snap.models = models;
    snap.n_models = ARRAY_LEN(models);
    snap.loads = xmldefault_loads;
    snap.n_loads = ARRAY_LEN(xmldefault_loads);
    snprintf(snap.enterprise.cm_address, sizeof(snap.enterprise.cm_address), "cm&1");
    assert_int_equal(cnf_render_default(&snap, &doc), 0);
    assert_int_equal(xmllint_status(doc.data, doc.len), 0);
    assert_xpath(&doc, "/Default/loadInformation30018/@model", "Cisco 7961");
    assert_xpath(&doc, "/Default/loadInformation30018", "SCCP41.9-4-2SR2-2S");
    assert_xpath(&doc, "count(/Default/loadInformation8)", "0");
    assert_xpath(&doc, "/Default/loadInformation99999/@model", "Lab <\"&'>");
    assert_xpath(&doc, "/Default/loadInformation99999", "x&y");
    assert_xpath(&doc, "/Default/loadInformation36224", "sip8845_65.14-1-1MN-79");
    assert_xpath(&doc, "count(/Default/*[starts-with(name(), 'loadInformation')])", "3");
    assert_xpath(&doc, "/Default/callManagerGroup/members/member/callManager/processNodeName",
                 "cm&1");

    /* a default whose load cannot be finished is not advertised: quarantined,
     * blocked by the signature policy, or gone from the catalog */
    xmldefault_loads[0].quarantined = true;
    xmldefault_loads[1].blocked = true;
    snap.n_loads = 2;
    assert_int_equal(cnf_render_default(&snap, &doc), 0);
    assert_int_equal(xmllint_status(doc.data, doc.len), 0);
    assert_xpath(&doc, "count(/Default/*[starts-with(name(), 'loadInformation')])", "0");
    xmldefault_loads[0].quarantined = false;
    xmldefault_loads[1].blocked = false;

    snap.n_models = 0;
    assert_int_equal(cnf_render_default(&snap, &doc), 0);
    assert_int_equal(xmllint_status(doc.data, doc.len), 0);
    assert_xpath(&doc, "count(/Default/*)", "1");
    cnf_buf_free(&doc);
}

static void test_default_template_file(void **state)
{
    char path[4200], *text;
    FILE *fp;
    long n;

    (void)state;
    snprintf(path, sizeof(path), "%s/packaging/SEPdefault.cnf.xml", TOP_SRCDIR);
    fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    rewind(fp);
    text = malloc((size_t)n + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    text[n] = '\0';
    assert_string_equal(text, cnf_default_template); /* the installed copy matches */
    assert_int_equal(cnf_template_check(text, (size_t)n, NULL), 0);
    free(text);
}

/* ---- the template checker ------------------------------------------------- */

#define WF_YES  1  /* xmllint must accept it (after placeholders are filled) */
#define WF_NO   0  /* xmllint must reject it */
#define WF_SKIP -1 /* stricter than XML on purpose, or xmllint cannot tell */

#define REQ                                                                                        \
    "<vendorConfig><peerFirmwareSharing>{{PFS}}</peerFirmwareSharing>"                             \
    "<loadServer>{{LOAD_SERVER}}</loadServer></vendorConfig>"                                      \
    "<versionStamp>{{VERSION_STAMP}}</versionStamp><loadInformation>{{LOAD}}</loadInformation>"

struct check_case {
    const char *what;
    const char *text;
    int ok;          /* 1: CNF_OK */
    const char *why; /* part of the reason, when refused */
    int wf;
};

/* The template rules; plain well-formedness has its own table in
 * test_xmlcheck.c, and a few cases here show its verdicts come through. */
static const struct check_case check_cases[] = {
    {"minimal", "<device>" REQ "</device>", 1, NULL, WF_YES},
    {"declaration, comment, PI, CDATA around the template",
     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- c -->\n<?app data?><device a=\"&amp;\">" REQ
     "<x><![CDATA[<&>]]>&lt;</x><y/></device>\n",
     1, NULL, WF_YES},
    {"placeholders in attributes", "<device m=\"{{MAC}}\" d='{{DESCRIPTION}}'>" REQ "</device>", 1,
     NULL, WF_YES},
    {"empty", "", 0, "empty", WF_NO},
    {"wrong root", "<phone>" REQ "</phone>", 0, "root element must be <device>", WF_YES},
    {"wrong root, refused before what follows", "<phone a='<'>" REQ "</phone>", 0,
     "root element must be <device>", WF_NO},
    {"mismatched", "<device>" REQ "<a></b></device>", 0, "does not match", WF_NO},
    {"bare ampersand", "<device>" REQ "a & b</device>", 0, "unknown entity", WF_NO},
    {"control byte", "<device>" REQ "\x01</device>", 0, "not UTF-8", WF_NO},
    {"unknown placeholder", "<device>" REQ "{{FOO}}</device>", 0, "unknown placeholder", WF_SKIP},
    {"placeholder cut short", "<device>" REQ "{{LOAD}</device>", 0, "unknown placeholder", WF_SKIP},
    {"placeholder in comment", "<device>" REQ "<!-- {{LOAD}} --></device>", 0, "outside text",
     WF_SKIP},
    {"placeholder in CDATA", "<device>" REQ "<![CDATA[{{LOAD}}]]></device>", 0, "outside text",
     WF_SKIP},
    {"placeholder in a processing instruction", "<device>" REQ "<?app {{LOAD}}?></device>", 0,
     "outside text", WF_SKIP},
    {"too many stamps",
     "<device>" REQ "<a>{{VERSION_STAMP}}{{VERSION_STAMP}}{{VERSION_STAMP}}{{VERSION_STAMP}}</a>"
     "</device>",
     0, "too many", WF_YES},
    {"no loadInformation",
     "<device><vendorConfig><peerFirmwareSharing>{{PFS}}</peerFirmwareSharing>"
     "<loadServer>{{LOAD_SERVER}}</loadServer></vendorConfig>"
     "<versionStamp>{{VERSION_STAMP}}</versionStamp></device>",
     0, "loadInformation", WF_YES},
    {"loadInformation without {{LOAD}}",
     "<device><vendorConfig><peerFirmwareSharing>{{PFS}}</peerFirmwareSharing>"
     "<loadServer>{{LOAD_SERVER}}</loadServer></vendorConfig>"
     "<versionStamp>{{VERSION_STAMP}}</versionStamp><loadInformation>x</loadInformation>"
     "</device>",
     0, "loadInformation", WF_YES},
    {"{{LOAD}} nested too deep",
     "<device><vendorConfig><peerFirmwareSharing>{{PFS}}</peerFirmwareSharing>"
     "<loadServer>{{LOAD_SERVER}}</loadServer></vendorConfig>"
     "<versionStamp>{{VERSION_STAMP}}</versionStamp><x><loadInformation>{{LOAD}}"
     "</loadInformation></x></device>",
     0, "loadInformation", WF_YES},
    {"PFS outside vendorConfig",
     "<device><peerFirmwareSharing>{{PFS}}</peerFirmwareSharing><vendorConfig>"
     "<loadServer>{{LOAD_SERVER}}</loadServer></vendorConfig>"
     "<versionStamp>{{VERSION_STAMP}}</versionStamp><loadInformation>{{LOAD}}</loadInformation>"
     "</device>",
     0, "peerFirmwareSharing", WF_YES},
    {"no loadServer",
     "<device><vendorConfig><peerFirmwareSharing>{{PFS}}</peerFirmwareSharing></vendorConfig>"
     "<versionStamp>{{VERSION_STAMP}}</versionStamp><loadInformation>{{LOAD}}</loadInformation>"
     "</device>",
     0, "loadServer", WF_YES},
    {"stamp only in an attribute",
     "<device><vendorConfig><peerFirmwareSharing>{{PFS}}</peerFirmwareSharing>"
     "<loadServer>{{LOAD_SERVER}}</loadServer></vendorConfig>"
     "<versionStamp v='{{VERSION_STAMP}}'/><loadInformation>{{LOAD}}</loadInformation></device>",
     0, "versionStamp", WF_YES},
};

/* The text with every known placeholder replaced by "x" (for xmllint). */
static char *fill_placeholders(const char *text, size_t len)
{
    static const char *const names[] = {"{{LOAD}}",       "{{PFS}}",         "{{LOAD_SERVER}}",
                                        "{{CM_ADDRESS}}", "{{PROTOCOL}}",    "{{VERSION_STAMP}}",
                                        "{{MAC}}",        "{{DESCRIPTION}}", "{{MODEL}}"};
    char *out = malloc(len + 1);
    size_t o = 0;

    assert_non_null(out);
    for (size_t i = 0; i < len;) {
        size_t k;

        for (k = 0; k < ARRAY_LEN(names); k++)
            if (strncmp(text + i, names[k], strlen(names[k])) == 0)
                break;
        if (k < ARRAY_LEN(names)) {
            out[o++] = 'x';
            i += strlen(names[k]);
        } else {
            out[o++] = text[i++];
        }
    }
    out[o] = '\0';
    return out;
}

static void test_check_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(check_cases); i++) {
        const struct check_case *c = &check_cases[i];
        const char *why = "unset";
        int rc = cnf_template_check(c->text, strlen(c->text), &why);

        if ((rc == CNF_OK) != (c->ok == 1))
            fail_msg("%s: rc %d (%s)", c->what, rc, why ? why : "-");
        if (c->ok == 1 && why != NULL)
            fail_msg("%s: accepted with a reason", c->what);
        if (c->ok != 1 && (why == NULL || strstr(why, c->why) == NULL))
            fail_msg("%s: reason \"%s\", want \"%s\"", c->what, why ? why : "(null)", c->why);
        if (c->wf != WF_SKIP) {
            char *filled = fill_placeholders(c->text, strlen(c->text));
            int st = xmllint_status(filled, strlen(filled));

            assert_true(st >= 0); /* xmllint ran */
            if ((st == 0) != (c->wf == WF_YES))
                fail_msg("%s: xmllint says %d, table says wf=%d", c->what, st, c->wf);
            if ((xmlcheck_document(filled, strlen(filled), NULL, NULL) == XMLCHECK_OK) !=
                (c->wf == WF_YES))
                fail_msg("%s: xmlcheck_document disagrees with xmllint", c->what);
            free(filled);
        }
    }
}

/* Every proper prefix of the default template but the one that stops right
 * after "</device>" is refused; the full text and that one are accepted. */
static void test_check_truncated(void **state)
{
    const char *t = cnf_default_template;
    size_t len = strlen(t), closed = (size_t)(strstr(t, "</device>") - t) + strlen("</device>");

    (void)state;
    for (size_t n = 0; n <= len; n++) {
        char *copy = malloc(n ? n : 1);
        const char *why = NULL;
        int rc;

        assert_non_null(copy);
        memcpy(copy, t, n); /* exactly n bytes: ASan catches a read past them */
        rc = cnf_template_check(copy, n, &why);
        if ((rc == CNF_OK) != (n >= closed))
            fail_msg("prefix of %zu bytes: rc %d (%s)", n, rc, why ? why : "-");
        if (rc != CNF_OK)
            assert_non_null(why);
        free(copy);
    }
    /* The same for the template with every feature, and the rendered output. */
    len = strlen(all_placeholders);
    closed = len - 1;
    for (size_t n = 0; n < len; n++) {
        char *copy = malloc(n ? n : 1);

        assert_non_null(copy);
        memcpy(copy, all_placeholders, n);
        assert_int_equal(cnf_template_check(copy, n, NULL) == CNF_OK, n >= closed);
        free(copy);
    }
}

static void test_check_size_limit(void **state)
{
    static const char head[] = "<device>" REQ "<!--";
    static const char tail[] = "--></device>";
    char *t = malloc(CNF_TEMPLATE_MAX + 2);
    size_t fill;
    const char *why = NULL;

    (void)state;
    assert_non_null(t);
    fill = CNF_TEMPLATE_MAX - strlen(head) - strlen(tail);
    memcpy(t, head, strlen(head));
    memset(t + strlen(head), 'c', fill);
    memcpy(t + strlen(head) + fill, tail, strlen(tail));
    assert_int_equal(cnf_template_check(t, CNF_TEMPLATE_MAX, &why), CNF_OK);
    memmove(t + strlen(head) + 1, t + strlen(head), fill + strlen(tail));
    assert_int_equal(cnf_template_check(t, CNF_TEMPLATE_MAX + 1, &why), CNF_INVALID);
    assert_non_null(strstr(why, "64 KiB"));
    free(t);
}

static void test_render_invalid_args(void **state)
{
    struct fixture f;
    struct cnf_buf doc = {0};
    static const char five[] = "<device>{{VERSION_STAMP}}{{VERSION_STAMP}}{{VERSION_STAMP}}"
                               "{{VERSION_STAMP}}{{VERSION_STAMP}}</device>";

    (void)state;
    fixture_init(&f);
    f.eff.device = NULL;
    assert_int_equal(cnf_render_device(NULL, 0, &f.eff, "", &doc), CNF_INVALID);
    fixture_init(&f);
    assert_int_equal(cnf_render_device(five, strlen(five), &f.eff, "", &doc), CNF_INVALID);
    assert_int_equal(cnf_render_default(NULL, &doc), CNF_INVALID);
    cnf_buf_free(&doc);
}

/* ---- request names and the snapshot path -------------------------------- */

static void test_name_parse(void **state)
{
    static const struct {
        const char *name;
        enum cnf_name kind;
        const char *mac;
    } cases[] = {
        {"SEP001122AABBCC.cnf.xml", CNF_NAME_DEVICE, "001122AABBCC"},
        {"sep001122aabbcc.cnf.xml", CNF_NAME_DEVICE, "001122AABBCC"},
        {"SeP001122aAbBcC.CNF.XML", CNF_NAME_DEVICE, "001122AABBCC"},
        {"XMLDefault.cnf.xml", CNF_NAME_DEFAULT, NULL},
        {"xmldefault.CNF.xml", CNF_NAME_DEFAULT, NULL},
        {"SEP001122AABBCG.cnf.xml", CNF_NAME_OTHER, NULL},
        {"SEP001122AABBC.cnf.xml", CNF_NAME_OTHER, NULL},
        {"SEP001122AABBCCD.cnf.xml", CNF_NAME_OTHER, NULL},
        {"SEP001122AABBCC.cnf.xml.sgn", CNF_NAME_OTHER, NULL},
        {"SEP001122AABBCC.cnf", CNF_NAME_OTHER, NULL},
        {"CTLSEP001122AABBCC.tlv", CNF_NAME_OTHER, NULL},
        {"dir/SEP001122AABBCC.cnf.xml", CNF_NAME_OTHER, NULL},
        {"XMLDefault.cnf.xml.sgn", CNF_NAME_OTHER, NULL},
        {"SEP00:11:22:AA:BB.cnf.xml", CNF_NAME_OTHER, NULL},
        {"", CNF_NAME_OTHER, NULL},
    };
    char mac[SETTINGS_MAC_LEN + 1];

    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        enum cnf_name kind = cnf_name_parse(cases[i].name, mac);

        if (kind != cases[i].kind)
            fail_msg("%s: kind %d, want %d", cases[i].name, kind, cases[i].kind);
        if (cases[i].mac != NULL)
            assert_string_equal(mac, cases[i].mac);
    }
    /* Every truncation of both names is something else. */
    for (size_t n = 0; n < strlen("SEP001122AABBCC.cnf.xml"); n++) {
        char cut[32];

        snprintf(cut, sizeof(cut), "%.*s", (int)n, "SEP001122AABBCC.cnf.xml");
        assert_int_equal(cnf_name_parse(cut, mac), CNF_NAME_OTHER);
        snprintf(cut, sizeof(cut), "%.*s", (int)n, "XMLDefault.cnf.xml");
        if (n < strlen("XMLDefault.cnf.xml"))
            assert_int_equal(cnf_name_parse(cut, mac), CNF_NAME_OTHER);
    }
    assert_int_equal(cnf_name_parse(NULL, mac), CNF_NAME_OTHER);
}

static const char profile_template[] =
    "<device><who>{{MAC}} {{MODEL}} {{DESCRIPTION}}</who>" REQ "</device>";

static void test_render_mac_snapshot(void **state)
{
    struct settings_model model;
    struct settings_profile profiles[2];
    struct settings_device devices[2];
    struct settings_site site;
    struct settings_snapshot snap;
    struct sockaddr_in v4 = {.sin_family = AF_INET};
    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6};
    struct cnf_buf doc = {0};

    (void)state;
    memset(&snap, 0, sizeof(snap));
    memset(&model, 0, sizeof(model));
    memset(profiles, 0, sizeof(profiles));
    memset(devices, 0, sizeof(devices));
    memset(&site, 0, sizeof(site));
    snprintf(model.name, sizeof(model.name), "Cisco 7961");
    model.device_type = 30018;
    model.pfs_capable = true;
    snprintf(model.protocol, sizeof(model.protocol), "SCCP");
    snprintf(model.default_load, sizeof(model.default_load), "SCCP41.9-4-2SR2-2S");
    snprintf(profiles[0].name, sizeof(profiles[0].name), "lab");
    profiles[0].template_xml = profile_template;
    profiles[0].pfs.set = true;
    snprintf(profiles[0].pfs.value, sizeof(profiles[0].pfs.value), "on");
    snprintf(profiles[1].name, sizeof(profiles[1].name), "broken");
    profiles[1].template_xml = "<device>no placeholders</device>";
    snprintf(devices[1].mac, sizeof(devices[1].mac), "001122AABBCC");
    devices[1].profile = -1;
    /* sorted by MAC, as the snapshot is */
    snprintf(devices[0].mac, sizeof(devices[0].mac), "0011223344FF");
    devices[0].profile = 0;
    snprintf(devices[0].description, sizeof(devices[0].description), "lab & co");
    site.family = AF_INET;
    inet_pton(AF_INET, "127.0.0.0", site.addr);
    site.prefix_len = 8;
    snprintf(site.load_server, sizeof(site.load_server), "ls.loopback");
    snap.models = &model;
    snap.n_models = 1;
    snap.profiles = profiles;
    snap.n_profiles = 2;
    snap.devices = devices;
    snap.n_devices = 2;
    snap.sites = &site;
    snap.n_sites = 1;
    snap.loads = xmldefault_loads;
    snap.n_loads = ARRAY_LEN(xmldefault_loads);
    snprintf(snap.enterprise.load_server, sizeof(snap.enterprise.load_server), "ls.enterprise");
    snprintf(snap.enterprise.cm_address, sizeof(snap.enterprise.cm_address), "cm.example");
    inet_pton(AF_INET, "127.0.0.1", &v4.sin_addr);
    inet_pton(AF_INET6, "::1", &v6.sin6_addr);

    assert_int_equal(cnf_render_mac(&snap, NULL, 0, "001122aabbcc", (struct sockaddr *)&v4, &doc),
                     0);
    assert_int_equal(xmllint_status(doc.data, doc.len), 0);
    assert_xpath(&doc, "/device/loadInformation", "SCCP41.9-4-2SR2-2S");
    assert_xpath(&doc, "/device/vendorConfig/loadServer", "ls.loopback");
    assert_xpath(&doc, "/device/vendorConfig/peerFirmwareSharing", "0");
    assert_xpath(&doc, "/device/deviceProtocol", "SCCP");
    assert_xpath(&doc, "//processNodeName", "cm.example");
    assert_int_equal(cnf_render_mac(&snap, NULL, 0, "001122AABBCC", (struct sockaddr *)&v6, &doc),
                     0);
    assert_xpath(&doc, "/device/vendorConfig/loadServer", "ls.enterprise");
    assert_int_equal(cnf_render_mac(&snap, NULL, 0, "001122AABBCC", NULL, &doc), 0);
    assert_xpath(&doc, "/device/vendorConfig/loadServer", "ls.enterprise");

    /* The profile's own template, and its PFS. */
    assert_int_equal(cnf_render_mac(&snap, NULL, 0, "0011223344FF", NULL, &doc), 0);
    assert_int_equal(xmllint_status(doc.data, doc.len), 0);
    assert_xpath(&doc, "/device/who", "0011223344FF Cisco 7961 lab & co");
    assert_xpath(&doc, "/device/vendorConfig/peerFirmwareSharing", "1");
    assert_xpath(&doc, "/device/loadInformation", "SCCP41.9-4-2SR2-2S");

    /* Its load quarantined: held on the last complete load it was given, or
     * on none; never told to fetch what it cannot finish. */
    xmldefault_loads[0].quarantined = true;
    snprintf(devices[0].last_load, sizeof(devices[0].last_load), "X&Y");
    assert_int_equal(cnf_render_mac(&snap, NULL, 0, "0011223344FF", NULL, &doc), 0);
    assert_xpath(&doc, "/device/loadInformation", "x&y");
    assert_int_equal(cnf_render_mac(&snap, NULL, 0, "001122AABBCC", NULL, &doc), 0);
    assert_xpath(&doc, "/device/loadInformation", "");
    xmldefault_loads[0].quarantined = false;

    /* A template that fails the check is never rendered. */
    devices[0].profile = 1;
    assert_int_equal(cnf_render_mac(&snap, NULL, 0, "0011223344FF", NULL, &doc), CNF_INVALID);
    assert_int_equal(cnf_render_mac(&snap, NULL, 0, "0011223344EE", NULL, &doc), CNF_UNKNOWN);
    assert_int_equal(cnf_render_mac(&snap, NULL, 0, "not a mac", NULL, &doc), CNF_UNKNOWN);
    cnf_buf_free(&doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_default_template),
        cmocka_unit_test(test_render_xmldefault_protocols),
        cmocka_unit_test(test_render_none_values),
        cmocka_unit_test(test_render_all_placeholders_escaped),
        cmocka_unit_test(test_render_bad_bytes_replaced),
        cmocka_unit_test(test_version_stamp),
        cmocka_unit_test(test_render_xmldefault),
        cmocka_unit_test(test_default_template_file),
        cmocka_unit_test(test_check_table),
        cmocka_unit_test(test_check_truncated),
        cmocka_unit_test(test_check_size_limit),
        cmocka_unit_test(test_render_invalid_args),
        cmocka_unit_test(test_name_parse),
        cmocka_unit_test(test_render_mac_snapshot),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
