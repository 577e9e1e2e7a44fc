/* cnf.h: renders the configuration files a phone asks for (SEP<MAC>.cnf.xml
 * from a template, XMLDefault.cnf.xml) and checks uploaded templates (the
 * template rules; well-formedness is server/cnf/xmlcheck.h's). Pure:
 * never touches the database, files or sockets; the caller resolves settings.
 *
 * Template placeholders (only in element text and attribute values; every
 * value is XML-escaped: & < > " '):
 *   {{LOAD}}          the load the config names, no ".loads" ("" = none): the
 *                     effective load when every file of it is present,
 *                     intact and allowed, else the device's last complete
 *                     load, else none (settings_resolve's served)
 *   {{PFS}}           peer firmware sharing, "1" or "0"
 *   {{LOAD_SERVER}}   effective load server host as the fleet gate lets it
 *                     through ("" = none; docs/FLEET.md)
 *   {{CM_ADDRESS}}    the enterprise call manager address
 *   {{PROTOCOL}}      the model's protocol ("SIP", "SCCP")
 *   {{VERSION_STAMP}} CNF_STAMP_LEN lower-case hex digits: the first 16 hex
 *                     digits of the SHA-256 of the document rendered with an
 *                     empty stamp, so it stays while the content stays
 *   {{MAC}}           12 upper-case hex digits
 *   {{DESCRIPTION}}   the device's description
 *   {{MODEL}}         the model's name ("Cisco 7961")
 */
#ifndef LOADSD_CNF_H
#define LOADSD_CNF_H

#include <stddef.h>

#include "db/model/fleet.h"
#include "db/model/settings.h"

#define CNF_TEMPLATE_MAX 65536 /* bytes, a template's hard limit */
#define CNF_STAMP_LEN    16    /* hex digits of the versionStamp */
#define CNF_STAMP_SLOTS  4     /* {{VERSION_STAMP}} occurrences allowed */
#define CNF_DEFAULT_NAME "XMLDefault.cnf.xml"

/* Results (0 or negative). */
enum cnf_result {
    CNF_OK = 0,
    CNF_NOMEM = -1,   /* out of memory */
    CNF_INVALID = -2, /* the template (or an argument) is not usable */
    CNF_UNKNOWN = -3, /* no device with that MAC */
};

/* What a requested file name is (ASCII case-insensitive, whole name). */
enum cnf_name {
    CNF_NAME_OTHER,   /* not a generated file */
    CNF_NAME_DEVICE,  /* "SEP" + 12 hex digits + ".cnf.xml" */
    CNF_NAME_DEFAULT, /* "XMLDefault.cnf.xml" */
};

/* A growable output buffer; zero-initialise, reuse across renders, free once. */
struct cnf_buf {
    char *data; /* NUL-terminated after a render */
    size_t len;
    size_t cap;
};
void cnf_buf_free(struct cnf_buf *b);

/* The shipped default template: a minimal CUCM-style <device> document
 * (installed for reference as packaging/SEPDEFAULT.cnf.xml.template). */
extern const char cnf_default_template[];

/* Checks a template: at most CNF_TEMPLATE_MAX bytes, well-formed XML as
 * server/cnf/xmlcheck.h defines it (UTF-8, one root, tags nest and close,
 * attributes quoted and unique, no DTD, only the five predefined entities and
 * numeric references, nesting at most XMLCHECK_DEPTH_MAX), known placeholders
 * only and only in text or attribute values, and the required elements:
 * root <device>, device/loadInformation with {{LOAD}},
 * device/vendorConfig/peerFirmwareSharing with {{PFS}},
 * device/vendorConfig/loadServer with {{LOAD_SERVER}}, device/versionStamp
 * with {{VERSION_STAMP}}. CNF_OK, or CNF_INVALID with *why set to a static
 * English reason. */
int cnf_template_check(const char *text, size_t len, const char **why);

/* Renders one device's SEP<MAC>.cnf.xml into out (replacing its content).
 * tmpl: a template that passed cnf_template_check, or NULL for the default.
 * cm_address: the enterprise's. */
int cnf_render_device(const char *tmpl, size_t tmpl_len, const struct settings_effective *eff,
                      const char *cm_address, struct cnf_buf *out);

/* Renders XMLDefault.cnf.xml: the call manager group, and one
 * <loadInformationTYPE model="NAME">LOAD</loadInformationTYPE> per model
 * whose default load is servable now, in the snapshot's model order; a model
 * that runs SIP and SCCP gets one element per protocol with a default, each
 * with protocol="SIP" or protocol="SCCP" (its own protocol's first). */
int cnf_render_default(const struct settings_snapshot *s, struct cnf_buf *out);

/* Classifies a (normalised) requested name; for CNF_NAME_DEVICE the MAC,
 * upper-cased, goes to mac. */
enum cnf_name cnf_name_parse(const char *name, char mac[SETTINGS_MAC_LEN + 1]);

/* Resolves the device (fleet_resolve: the gate over fleet at now, fleet may
 * be NULL; site rules matched against from, which may be NULL) and renders its SEP<MAC>.cnf.xml
 * with its profile's template when it has one (checked here: CNF_INVALID when it fails) or the
 * default. CNF_UNKNOWN for a MAC the snapshot does not have. */
int cnf_render_mac(const struct settings_snapshot *s, const struct fleet_view *fleet, int64_t now,
                   const char *mac, const struct sockaddr *from, struct cnf_buf *out);

/* The same, and named (when not NULL) gets the load the config's
 * loadInformation names ("" none). */
int cnf_render_mac_named(const struct settings_snapshot *s, const struct fleet_view *fleet,
                         int64_t now, const char *mac, const struct sockaddr *from,
                         struct cnf_buf *out, char named[SETTINGS_VALUE_MAX]);

/* Appends text to out with & < > " ' escaped. */
int cnf_buf_escape(struct cnf_buf *out, const char *text);

#endif
