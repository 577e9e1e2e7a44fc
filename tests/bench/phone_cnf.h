/* phone_cnf.h: what a simulated phone reads from its config file: the load it
 * should run and its load server. A small bounded extractor, not an XML parser:
 * pure function of bytes, no allocation. */
#ifndef LOADSD_BENCH_PHONE_CNF_H
#define LOADSD_BENCH_PHONE_CNF_H

#include <stdbool.h>
#include <stddef.h>

#define PHONE_CNF_MAX       (64 * 1024) /* a real SEP<MAC>.cnf.xml is a few KiB */
#define PHONE_CNF_VALUE_MAX 255         /* a load name or a host, NUL excluded */
#define PHONE_CNF_DEPTH_MAX 16
#define PHONE_CNF_NAME_MAX  64 /* an element name */

struct phone_cnf {
    bool has_load; /* the load element was there (it may be empty) */
    char load[PHONE_CNF_VALUE_MAX + 1];
    bool has_load_server;
    char load_server[PHONE_CNF_VALUE_MAX + 1]; /* <vendorConfig><loadServer> */
};

/* Reads xml (len bytes). load_tag names the load's element, a direct child of
 * the root: "loadInformation" in SEP<MAC>.cnf.xml (root <device>), or
 * "loadInformation<device type>" in XMLDefault.cnf.xml (root <Default>).
 * Values are trimmed; the five XML entities and character references below
 * 0x80 are decoded. 0, or -1 with *why saying what was wrong (over-size,
 * malformed, a value too long or with markup in it, an element twice). */
int phone_cnf_extract(const char *xml, size_t len, const char *load_tag, struct phone_cnf *out,
                      const char **why);

#endif
