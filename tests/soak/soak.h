/* vdisk-soak: several threads doing random I/O on one image handle,
 * checked against a byte model (see soak.c for the whole story). */
#ifndef VDISK_SOAK_H
#define VDISK_SOAK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <vdisk/vdisk.h>

/* What one run of the workload does to one open image. */
typedef struct soak_workload {
    vdisk_image *img;
    uint8_t *model;            /* the expected guest bytes, size bytes */
    uint64_t size;
    uint64_t region;           /* bytes per region; region r belongs to thread r % threads */
    uint32_t cluster;          /* compressed writes: whole clusters of this size */
    bool compressed;           /* the variant writes compressed clusters too */
    unsigned threads;
    uint64_t seed;
    uint64_t ops_per_thread;   /* 0: run for `seconds` */
    double seconds;
    atomic_bool failed;        /* a thread saw a mismatch or an error: all stop */
    atomic_uint_fast64_t ops;  /* operations completed, every thread */
    atomic_uint_fast64_t bytes_verified;
} soak_workload;

/* Run the threads to the end; 0 when every operation succeeded and every
 * read matched the model, -1 otherwise (the first problem on stderr). */
int soak_run(soak_workload *w);

#endif
