/* blob_put.c: benchmark driver: puts one file into a blob store, then prints
 * the throughput and the peak RSS (for blob_put_bench.sh). Not a test: it is
 * never run by make check and asserts nothing. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "db/blobstore.h"

static double bench_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int bench_put(const char *data_dir, const char *file)
{
    struct blobstore *bs = NULL;
    struct blob_info info;
    struct rusage ru;
    double start, secs;
    int rc, fd = open(file, O_RDONLY | O_CLOEXEC);

    rc = fd < 0 ? -errno : blobstore_open(data_dir, &bs);
    if (rc != 0)
        goto out;
    start = bench_now();
    rc = blobstore_put_fd(bs, fd, &info, NULL, NULL);
    secs = bench_now() - start;
    if (rc != 0 || getrusage(RUSAGE_SELF, &ru) != 0)
        goto out;
    printf("bytes=%llu seconds=%.3f mb_per_s=%.1f maxrss_kb=%ld hex=%s\n",
           (unsigned long long)info.size, secs, (double)info.size / 1e6 / secs, ru.ru_maxrss,
           info.hex);
out:
    blobstore_close(bs);
    if (fd >= 0)
        close(fd);
    return rc;
}

int main(int argc, char **argv)
{
    int rc;

    if (argc != 3) {
        fprintf(stderr, "usage: %s DATA_DIR FILE\n", argv[0]);
        return 2;
    }
    rc = bench_put(argv[1], argv[2]);
    if (rc != 0)
        fprintf(stderr, "blob_put: %s\n", strerror(-rc));
    return rc == 0 ? 0 : 1;
}
