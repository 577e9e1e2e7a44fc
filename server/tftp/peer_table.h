/* peer_table.h: concurrent counts per peer key (transfers per client, unanswered
 * transfers per prefix), shared by all TFTP workers. Buckets are chosen by
 * SipHash under a random key drawn at start, so no peer can pile its keys
 * into one chain; the table is split into shards with a lock each.
 * Taken once when a transfer starts and once when it ends, never per packet. */
#ifndef LOADSD_PEER_TABLE_H
#define LOADSD_PEER_TABLE_H

#include "server/tftp/peer_key.h"

struct peer_table;
struct peer_count;

/* A table with a fresh random hash key. 0, or a negative errno. */
int peer_table_new(struct peer_table **out);
void peer_table_free(struct peer_table *t);
/* One more for key when it has fewer than max: its entry, to hand back to
 * peer_table_release(). NULL when key is at max (or memory ran out). */
struct peer_count *peer_table_acquire(struct peer_table *t, const struct peer_key *key,
                                      unsigned max);
/* One less; the entry goes away at zero. NULL does nothing. */
void peer_table_release(struct peer_table *t, struct peer_count *c);
/* The count an entry holds now (0 for NULL). */
unsigned peer_table_held(struct peer_table *t, const struct peer_count *c);
/* The count held for key now (0 when absent). */
unsigned peer_table_count(struct peer_table *t, const struct peer_key *key);

#endif
