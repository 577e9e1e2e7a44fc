/* phonesim.h: the shared state of phonesim: the fleet, each phone's state machine,
 * its timeline, the servers it talks to. phone.c drives a phone; phonesim.c owns
 * the command line, the event loop and the report. */
#ifndef LOADSD_BENCH_PHONESIM_H
#define LOADSD_BENCH_PHONESIM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <openssl/evp.h>

#include "tests/bench/http_get.h"
#include "tests/bench/phone_model.h"
#include "tests/bench/tftp_client.h"

#define SIM_NS_PER_MS     UINT64_C(1000000)
#define SIM_NS_PER_S      UINT64_C(1000000000)
#define SIM_SERVERS_MAX   256 /* distinct addresses phones talk to */
#define SIM_LOAD_MAX      255 /* a load name */
#define SIM_FILE_NAME_MAX 300 /* a file name: a load name + ".loads", a component */
#define SIM_ERR_MAX       TFTPC_WHY_MAX
#define SIM_SHA256_LEN    32
#define SIM_SCRATCH       (64 * 1024)

enum sim_proto { PROTO_TFTP, PROTO_HTTP };
enum sim_result { RES_OK, RES_NOT_FOUND, RES_ERROR, RES_TIMEOUT, RES_MISMATCH };
enum sim_outcome { OUT_NONE, OUT_UPGRADED, OUT_NO_CHANGE, OUT_STUCK, OUT_NO_CONFIG };

/* Where a phone is in its boot; the waits are timers, the rest a fetch. */
enum phone_stage {
    ST_WAIT_BOOT, /* powered on at wake_ns */
    ST_FETCH,     /* a file fetch is under way (kind says which) */
    ST_BACKOFF,   /* after a failure, until wake_ns */
    ST_REBOOT,    /* the last component is in; running the new load at wake_ns */
    ST_DONE,
};

/* The files of the boot, in order (domain.md, "What a phone does at boot"). */
enum file_kind { F_CTL, F_ITL, F_ITLFILE, F_SEP, F_DEFAULT, F_LOADS, F_COMPONENT };

/* One fetch attempt: about 80 bytes plus its name (and an error text when it failed). */
struct tl_entry {
    uint64_t t_ns; /* start, from the start of the run */
    uint64_t dur_ns;
    uint64_t bytes;
    char *name;
    char *error; /* NULL when ok */
    uint16_t server;
    uint8_t proto;  /* enum sim_proto */
    uint8_t result; /* enum sim_result */
    bool has_sha;
    uint8_t sha[SIM_SHA256_LEN];
};

struct sim_server {
    struct sockaddr_storage ss;
    socklen_t len;
    char text[64]; /* "ip:port" */
};

/* A load server name resolved once for the whole fleet. */
struct sim_ls {
    char *host; /* as the config gave it */
    int tftp;   /* server indexes, -1 when it did not resolve */
    int http;
};

struct expect_entry {
    char *name;
    uint8_t sha[SIM_SHA256_LEN];
};

struct phone {
    uint32_t idx;
    uint32_t gen; /* bumped per fetch: stale epoll events are told apart */
    char mac[13];
    const struct phone_model *model;
    const struct tftpc_params *tp;
    bool bound;
    struct sockaddr_storage bind_addr;
    socklen_t bind_len;
    enum phone_stage stage;
    enum file_kind kind;
    bool backoff_config;    /* the backoff ends in a config fetch, else the firmware */
    uint32_t backoff_count; /* restarts after a failure */
    bool config_done;
    bool itlsep_found;
    uint64_t wake_ns;
    /* the fetch under way */
    char file[SIM_FILE_NAME_MAX + 1];
    enum sim_proto proto;
    int server_tftp, server_http;
    uint64_t fetch_start_ns;
    uint64_t fetch_bytes;
    struct tftpc tc;
    struct http_get hg;
    uint8_t req[TFTP_REQUEST_MAX];
    EVP_MD_CTX *md;
    uint8_t *buf; /* a config or .loads file while it arrives */
    size_t buf_len, buf_cap;
    bool buf_over;
    /* what the config said */
    char load[SIM_LOAD_MAX + 1];
    int ls; /* index in the load server list, -1 for none */
    /* the firmware */
    char *comps; /* component names, NUL after each */
    uint32_t n_comps, comp_i;
    const char *comp_at; /* the current name in comps */
    /* the result */
    enum sim_outcome outcome;
    uint64_t t_done_ns;
    uint64_t bytes;
    char last_error[SIM_FILE_NAME_MAX + SIM_ERR_MAX + 4]; /* "file: why" */
    struct tl_entry *tl;
    uint32_t tl_n, tl_cap, tl_dropped;
};

struct sim_args {
    struct sockaddr_storage tftp_server;
    socklen_t tftp_server_len;
    uint64_t phones;
    const char *model;
    const char *mix;
    const char *models_file;
    uint64_t mac_base;
    const char *current_load;
    bool has_source_base;
    struct sockaddr_storage source_base;
    uint64_t boot_spread_ms;
    uint64_t seed;
    uint64_t load_server_port; /* 0: from loadServer, else 69 */
    uint64_t http_port;
    bool reboot_set;
    uint64_t reboot_s;
    bool backoff_set;
    uint64_t backoff_s;
    uint64_t max_seconds;
    const char *expect_file;
    const char *json_file;
    uint64_t timeline_max;
};

struct sim {
    struct sim_args a;
    struct phone_models models;
    struct tftpc_params tp[PHONE_MODELS_MAX]; /* per model, same order */
    struct phone *phones;
    uint32_t n_phones;
    uint32_t active; /* phones not done */
    int epfd;
    uint64_t start_ns;
    uint64_t end_ns;
    struct tftpc_shared sh;
    uint8_t *scratch; /* SIM_SCRATCH bytes for HTTP bodies */
    struct sim_server servers[SIM_SERVERS_MAX];
    uint32_t n_servers;
    struct sim_ls *ls;
    uint32_t n_ls;
    struct expect_entry *expect;
    uint32_t n_expect;
};

/* phone.c: the state machine of one phone. */
/* Sets a calloc()ed phone up to power on at boot_ns; 0 or -ENOMEM. */
int phone_init(struct phone *ph, uint32_t idx, uint64_t boot_ns);
void phone_on_event(struct sim *s, struct phone *ph, uint32_t events, uint64_t now);
void phone_on_timer(struct sim *s, struct phone *ph, uint64_t now);
void phone_end_run(struct sim *s, struct phone *ph, uint64_t now);
void phone_free(struct phone *ph);

/* phonesim.c: servers by index (the TFTP server is 0, its HTTP side 1). */
int sim_server_add(struct sim *s, const struct sockaddr *sa, socklen_t len);
int sim_ls_lookup(struct sim *s, const char *host);

#endif
