/* cnf_source.h: the generated config files (SEP<MAC>.cnf.xml for known
 * devices, XMLDefault.cnf.xml) as a name resolver source: a reference-counted
 * provisioning snapshot and fleet view (in snapshot holders) that genwatch's
 * thread replaces when the database's generation (or the fleet generation)
 * moves; each request renders into a memfd with the fleet gate at its time. Writes the database
 * only to record the load each config names. */
#ifndef LOADSD_CNF_SOURCE_H
#define LOADSD_CNF_SOURCE_H

#include "server/resolve/genwatch.h"
#include "server/resolve/resolver.h"

struct cnf_source;

/* Loads the first snapshot from gw's database and has gw rebuild it from
 * then on (before genwatch_start). 0 or -1 (logged). */
int cnf_source_open(struct genwatch *gw, struct cnf_source **out);
/* Adds this source to a resolver; the source must outlive it. */
int cnf_source_attach(struct cnf_source *cs, struct resolver *r);
/* Frees everything (after the TFTP server and genwatch are freed). */
/* The firmware inventory the source keeps (each config fetch and the load
 * it names; genwatch's tick writes it): for catalog_source_set_inventory and
 * a branch report's phones (inventory_merge). Lives as long as cs. */
struct inventory *cnf_source_inventory(struct cnf_source *cs);
void cnf_source_free(struct cnf_source *cs);

#endif
