/* kdf.h: one thread at the daemon's own priority that runs the password KDF
 * for the admin threads, which run at nice 19 and would crawl on a busy host. */
#ifndef LOADSD_ADMIN_KDF_H
#define LOADSD_ADMIN_KDF_H

/* Starts the KDF thread; call it from a thread at the priority the KDF
 * should have (the new thread inherits it). 0, or -1 (logged). */
int kdf_worker_start(void);

/* Runs the jobs handed over before, then stops the thread. Later calls to
 * kdf_run() run on the caller's thread again. */
void kdf_worker_stop(void);

/* Runs fn(arg) on the KDF thread when it is started, one call at a time
 * (so at most one KDF's memory at once), or on the caller's thread when it
 * is not (loadsctl). Returns what fn returned. */
int kdf_run(int (*fn)(void *arg), void *arg);

#endif
