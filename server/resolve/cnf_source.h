/* cnf_source.h: the generated config files (SEP<MAC>.cnf.xml for known
 * devices, XMLDefault.cnf.xml) as a name resolver source: a reference-counted
 * provisioning snapshot that a watcher thread replaces when the database's
 * generation moves; each request renders into a memfd. Never writes the
 * database. */
#ifndef LOADSD_CNF_SOURCE_H
#define LOADSD_CNF_SOURCE_H

#include <stdint.h>

#include "server/resolve/resolver.h"

#define CNF_SOURCE_POLL_MS 250

struct cnf_source;

/* Opens data_dir's database (already created by datadir_open), loads the
 * first snapshot and starts the watcher. 0 or -1 (logged). */
int cnf_source_open(const char *data_dir, struct cnf_source **out);
/* Adds this source to a resolver; the source must outlive it. */
int cnf_source_attach(struct cnf_source *cs, struct resolver *r);
/* The generation of the snapshot now served (-1 before the first). */
int64_t cnf_source_generation(struct cnf_source *cs);
/* Stops the watcher and frees everything (after the TFTP server is freed). */
void cnf_source_free(struct cnf_source *cs);

#endif
