/* inventory.h: the firmware inventory's rows in the catalog database
 * (phone_inventory): written by loadsd's genwatch thread, read by the API,
 * /metrics and loadsctl. */
#ifndef LOADSD_DB_INVENTORY_H
#define LOADSD_DB_INVENTORY_H

#include <sqlite3.h>
#include <stddef.h>

#include "db/model/inventory_status.h"

/* Writes rows (replacing each MAC's) in one transaction. DB_OK or a DB_ error
 * (nothing written). */
int inventory_record(sqlite3 *db, const struct inventory_row *rows, size_t n);

/* Every row in MAC order; cb returns 0 to go on, anything else to stop
 * (returned). DB_OK or a DB_ error. */
int inventory_rows_each(sqlite3 *db, int (*cb)(void *arg, const struct inventory_row *r),
                        void *arg);

#endif
