/* loadsctl.c: the administration command line: global options, dispatch to
 * the command tables, and the output helpers they share. Safe while loadsd
 * runs: every change is a database transaction on the same data directory. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "admin/ctl/ctl.h"
#include "lib/conffile.h"
#include "lib/fileio.h"
#include "lib/grow.h"
#include "lib/log.h"

#define TABLE_ROWS_MAX 100000

int ctl_refuse(const char *fmt, ...)
{
    va_list ap;

    fputs("loadsctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CTL_REFUSED;
}

int ctl_next_opt(int argc, char **argv, const struct option *opts)
{
    return getopt_long(argc, argv, "", opts, NULL);
}

void ctl_opts_reset(void)
{
    optind = 0; /* GNU: reinitialise for the next argument vector */
    opterr = 1;
}

int ctl_usage(const struct ctl_command *cmd)
{
    fprintf(stderr, "usage: loadsctl [--data-dir DIR] [--json] %s %s\n", cmd->name, cmd->usage);
    return CTL_USAGE;
}

int ctl_print_json(json_t *v)
{
    char *text = json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS);

    if (text != NULL)
        puts(text);
    free(text);
    json_decref(v);
    return CTL_OK;
}

struct ctl_table {
    unsigned columns;
    char **cells; /* rows * columns */
    size_t rows, cap;
};

static void table_add(struct ctl_table *t, va_list ap)
{
    size_t cells = t->cap * t->columns;

    if (t->rows >= TABLE_ROWS_MAX ||
        grow_array((void **)&t->cells, &cells, (t->rows + 1) * t->columns, sizeof(*t->cells),
                   16 * t->columns) != 0)
        return;
    t->cap = cells / t->columns;
    for (unsigned i = 0; i < t->columns; i++) {
        const char *s = va_arg(ap, const char *);
        char clean[LOG_CLEAN_MAX];

        /* Cells may hold names from bundles: never print them raw. */
        t->cells[t->rows * t->columns + i] =
            strdup(log_clean(s ? s : "", SIZE_MAX, clean, sizeof(clean)));
    }
    t->rows++;
}

struct ctl_table *ctl_table_new(unsigned columns, ...)
{
    struct ctl_table *t = calloc(1, sizeof(*t));
    va_list ap;

    if (t == NULL)
        return NULL;
    t->columns = columns;
    va_start(ap, columns);
    table_add(t, ap);
    va_end(ap);
    return t;
}

void ctl_table_row(struct ctl_table *t, ...)
{
    va_list ap;

    va_start(ap, t);
    table_add(t, ap);
    va_end(ap);
}

void ctl_table_print(struct ctl_table *t)
{
    size_t width[16] = {0};

    for (size_t r = 0; r < t->rows; r++)
        for (unsigned c = 0; c < t->columns && c < 16; c++) {
            const char *s = t->cells[r * t->columns + c];
            size_t n = s ? strlen(s) : 0;

            if (n > width[c])
                width[c] = n;
        }
    for (size_t r = 0; r < t->rows; r++) {
        for (unsigned c = 0; c < t->columns; c++) {
            const char *s = t->cells[r * t->columns + c];

            if (c + 1 < t->columns)
                printf("%-*s  ", (int)width[c < 16 ? c : 15], s ? s : "");
            else
                printf("%s\n", s ? s : "");
            free(t->cells[r * t->columns + c]);
        }
    }
    free(t->cells);
    free(t);
}

char *ctl_read_file(const char *path, size_t max, size_t *len, int *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    char *buf = NULL;

    *err = 0;
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > max) {
        *err = fd < 0 ? errno : EFBIG;
        goto out;
    }
    *err = -fileio_read_fd(fd, max, &buf, len);
out:
    if (fd >= 0)
        close(fd);
    return buf;
}

const char *ctl_size(uint64_t bytes, char *buf, size_t cap)
{
    if (bytes < 1000)
        snprintf(buf, cap, "%llu B", (unsigned long long)bytes);
    else if (bytes < 1000 * 1000)
        snprintf(buf, cap, "%.1f kB", bytes / 1e3);
    else if (bytes < UINT64_C(1000) * 1000 * 1000)
        snprintf(buf, cap, "%.1f MB", bytes / 1e6);
    else
        snprintf(buf, cap, "%.2f GB", bytes / 1e9);
    return buf;
}

const char *ctl_time(int64_t t, char *buf, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (t <= 0 || gmtime_r(&tt, &tm) == NULL)
        snprintf(buf, cap, "-");
    else
        strftime(buf, cap, "%Y-%m-%d %H:%M", &tm);
    return buf;
}

static const struct ctl_command *const command_tables[] = {
    ctl_catalog_commands, ctl_users_commands,   ctl_provision_commands,
    ctl_devices_commands, ctl_recover_commands, ctl_stage_commands,
    ctl_fleet_commands,   ctl_probe_commands,   ctl_inventory_commands};

/* Finds "trust add" (two words) before "trust" (one). */
static const struct ctl_command *command_find(int argc, char **argv, int *words)
{
    char two[128];

    snprintf(two, sizeof(two), "%s %s", argv[0], argc > 1 ? argv[1] : "");
    for (size_t t = 0; t < sizeof(command_tables) / sizeof(command_tables[0]); t++)
        for (const struct ctl_command *c = command_tables[t]; c->name != NULL; c++)
            if (strcmp(c->name, two) == 0) {
                *words = 2;
                return c;
            }
    for (size_t t = 0; t < sizeof(command_tables) / sizeof(command_tables[0]); t++)
        for (const struct ctl_command *c = command_tables[t]; c->name != NULL; c++)
            if (strcmp(c->name, argv[0]) == 0) {
                *words = 1;
                return c;
            }
    return NULL;
}

static int usage_all(FILE *out)
{
    fprintf(out,
            "usage: loadsctl [--data-dir DIR | --config FILE] [--json] COMMAND ...\n"
            "(the options go anywhere; without --data-dir, the data directory is the one\n"
            "of loadsd's config file, %s, or %s)\n\ncommands:\n",
            CONFFILE_DEFAULT_PATH, DATADIR_DEFAULT);
    for (size_t t = 0; t < sizeof(command_tables) / sizeof(command_tables[0]); t++)
        for (const struct ctl_command *c = command_tables[t]; c->name != NULL; c++)
            fprintf(out, "  %s %s\n", c->name, c->usage);
    fprintf(out,
            "\nload status (derived from every file and the trust store as it is now):\n"
            "  verified     every file verifies against a trusted certificate, or the bundle\n"
            "               carries a valid approval signature\n"
            "  signed       every file has a signed header; not all signers are trusted\n"
            "  partial      the .loads file is signed, a component has no signed header\n"
            "  unsigned     the .loads file has no signed header\n"
            "  invalid      a signature fails against a trusted certificate: never served\n"
            "  quarantined  a file no longer matches its hash: never served\n"
            "signature_policy verified serves verified loads; signed also signed and partial;\n"
            "any all but invalid and quarantined. A phone whose load is not served is held\n"
            "back: its config names the last complete load it was given, or none\n"
            "(loadsctl effective MAC says why).\n");
    return out == stdout ? CTL_OK : CTL_USAGE;
}

/* Run as root on a data directory the service owns (systemd's dynamic or
 * a system user), act as that owner: files this command creates must stay
 * writable for loadsd (its scrub quarantines, its uploads import). The actor
 * recorded in the audit trail is still the person who ran it. */
static int become_owner(const char *data_dir)
{
    struct stat st;

    if (geteuid() != 0 || stat(data_dir, &st) != 0 || st.st_uid == 0)
        return 0;
    if (setgroups(0, NULL) != 0 || setgid(st.st_gid) != 0 || setuid(st.st_uid) != 0)
        return ctl_refuse("cannot switch to the owner (uid %u) of %s: %s", (unsigned)st.st_uid,
                          data_dir, strerror(errno));
    return 0;
}

static void actor_init(struct ctl *c)
{
    struct passwd *pw = getpwuid(getuid());
    const char *sudo = getenv("SUDO_USER");

    if (sudo != NULL && getuid() == 0)
        snprintf(c->actor, sizeof(c->actor), "%s (sudo)", sudo);
    else if (pw != NULL)
        snprintf(c->actor, sizeof(c->actor), "%s", pw->pw_name);
    else
        snprintf(c->actor, sizeof(c->actor), "uid %u", (unsigned)getuid());
}

/* The global options, taken from anywhere on the line (before "--"). */
struct ctl_globals {
    const char *data_dir; /* --data-dir, else $LOADSD_DATA_DIR, else NULL */
    const char *config;   /* --config, else NULL (the daemon's default path) */
    bool json, help, version;
};

/* Takes a global option at argv[*i] (moving *i past its value): 1 taken, 0
 * not a global option, -1 a global option without its value. */
static int global_take(struct ctl_globals *g, int argc, char **argv, int *i)
{
    static const char *const valued[] = {"--data-dir", "--config"};
    const char **dest[] = {&g->data_dir, &g->config};
    const char *a = argv[*i];

    for (size_t k = 0; k < 2; k++) {
        size_t n = strlen(valued[k]);

        if (strncmp(a, valued[k], n) == 0 && a[n] == '=') {
            *dest[k] = a + n + 1;
            return 1;
        }
        if (strcmp(a, valued[k]) == 0) {
            if (*i + 1 >= argc)
                return -1;
            *dest[k] = argv[++*i];
            return 1;
        }
    }
    if (strcmp(a, "--json") == 0 || strcmp(a, "--help") == 0 || strcmp(a, "--version") == 0) {
        *(strcmp(a, "--json") == 0   ? &g->json
          : strcmp(a, "--help") == 0 ? &g->help
                                     : &g->version) = true;
        return 1;
    }
    return 0;
}

/* An option the command's usage line names ("--from" in "[--from IP]")? */
static bool usage_names(const char *usage, const char *opt)
{
    size_t n = strcspn(opt, "=");

    for (const char *p = strstr(usage, "--"); p != NULL; p = strstr(p + 2, "--"))
        if (strncmp(p, opt, n) == 0 &&
            (p[n] == '\0' || !(isalnum((unsigned char)p[n]) || p[n] == '-')))
            return true;
    return false;
}

/* Removes the global options from argv in place (*argc shrinks). An
 * option before the command, or one its usage does not name after it, is
 * refused by name. CTL_OK or CTL_USAGE. */
static int globals_parse(struct ctl_globals *g, int *argc, char **argv,
                         const struct ctl_command **cmd, int *words)
{
    int out = 1, rc;
    bool rest = false;

    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];

        if (!rest && strcmp(a, "--") == 0 && *cmd != NULL) {
            rest = true; /* the command's own "--": kept for its getopt */
            argv[out++] = argv[i];
            continue;
        }
        if (!rest && (rc = global_take(g, *argc, argv, &i)) != 0) {
            if (rc < 0)
                return ctl_refuse("option %s needs a value", a), CTL_USAGE;
            continue;
        }
        if (!rest && a[0] == '-' && a[1] != '\0' && *cmd == NULL)
            return ctl_refuse("unknown option %s (see loadsctl --help)", a), CTL_USAGE;
        if (!rest && strncmp(a, "--", 2) == 0 && !usage_names((*cmd)->usage, a))
            return ctl_refuse("unknown option %s for %s (usage: loadsctl %s %s)", a, (*cmd)->name,
                              (*cmd)->name, (*cmd)->usage),
                   CTL_USAGE;
        argv[out++] = argv[i];
        if (*cmd == NULL && (*cmd = command_find(*argc - i, argv + i, words)) != NULL &&
            *words == 2)
            argv[out++] = argv[++i];
        if (*cmd == NULL)
            return ctl_refuse("unknown command \"%s\" (see loadsctl --help)", a), CTL_USAGE;
    }
    *argc = out;
    return CTL_OK;
}

/* The data directory: --data-dir or $LOADSD_DATA_DIR, else the daemon's
 * (data-dir in its config file, else its default). A directory found that
 * way holds no catalog yet: only init may start one there; the others
 * refuse instead of creating one. */
static int data_dir_find(const struct ctl_globals *g, const struct ctl_command *cmd, char *out,
                         size_t cap)
{
    const char *conf = g->config != NULL ? g->config : CONFFILE_DEFAULT_PATH;
    char err[PATH_MAX + 128], db[PATH_MAX + 16];
    bool given = g->data_dir != NULL;
    struct stat st;
    int rc = 1;

    if (given)
        snprintf(out, cap, "%s", g->data_dir);
    else if ((rc = conffile_get(conf, "data-dir", out, cap, err, sizeof(err))) < 0)
        return ctl_refuse("cannot read the data directory from %s", err);
    else if (rc == 1 && g->config != NULL && access(conf, F_OK) != 0)
        return ctl_refuse("%s: %s", conf, strerror(errno));
    if (!given && rc == 1)
        snprintf(out, cap, "%s", DATADIR_DEFAULT);
    /* A directory named on the line is the user's choice (made if need
     * be, as before); one found is used only where a catalog already is. */
    if (given || strcmp(cmd->name, "init") == 0)
        return CTL_OK;
    snprintf(db, sizeof(db), "%s/catalog.db", out);
    if (stat(out, &st) != 0 || !S_ISDIR(st.st_mode) ||
        (!ctl_runs_without_catalog(cmd) && stat(db, &st) != 0))
        return ctl_refuse("no loadsd data directory at %s (%s): give one with --data-dir DIR, "
                          "or create it with loadsctl init",
                          out, rc == 0 ? conf : "the default; no data-dir in the config file");
    return CTL_OK;
}

int main(int argc, char **argv)
{
    static struct ctl c;
    struct ctl_globals g = {.data_dir = getenv("LOADSD_DATA_DIR")};
    const struct ctl_command *cmd = NULL;
    char data_dir[PATH_MAX];
    int words = 0, rc;

    rc = globals_parse(&g, &argc, argv, &cmd, &words);
    if (rc != CTL_OK || g.help || g.version)
        return rc != CTL_OK ? rc
               : g.version  ? puts("loadsctl " PACKAGE_VERSION) < 0
                            : usage_all(stdout);
    if (cmd == NULL)
        return usage_all(stderr);
    c.json = g.json;
    c.config = g.config != NULL ? g.config : CONFFILE_DEFAULT_PATH;
    log_set_level(LOG_LEVEL_WARN);
    umask(027); /* the catalog holds password hashes: nothing for other users */
    actor_init(&c);
    if (data_dir_find(&g, cmd, data_dir, sizeof(data_dir)) != CTL_OK)
        return CTL_REFUSED;
    if (become_owner(data_dir) != 0)
        return CTL_REFUSED;
    if ((ctl_runs_without_catalog(cmd) ? datadir_open_recovering(data_dir, &c.dd)
                                       : datadir_open(data_dir, &c.dd)) != 0)
        return ctl_refuse("cannot open the data directory %s", data_dir);
    /* Commands see their own arguments from argv[1]; argv[0] is the name. */
    rc = cmd->run(&c, argc - words, argv + words);
    datadir_close(&c.dd);
    return rc;
}
