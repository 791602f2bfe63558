/* vdisk-virsh — the -p progress indicator, drawn as qemu-img draws it:
 * "    (12.34/100%)\r", redrawn when it moved by at least min_skip percent,
 * ended with a newline.  Only drawn on a terminal (stdout, else stderr).
 * The callback may be called from several worker threads.
 */
#ifndef VV_PROGRESS_H
#define VV_PROGRESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct vv_progress {
    FILE *out;              /* NULL: disabled */
    pthread_mutex_t lock;
    double current;         /* percent */
    double last_print;
    double min_skip;
} vv_progress;

/* requested: -p given (and not -q).  Draws 0.00% at once when enabled. */
void vv_progress_init(vv_progress *p, bool requested, double min_skip);
/* Set the position (percent, 0..100). */
void vv_progress_set(vv_progress *p, double percent);
/* A vdisk_progress_fn: opaque is the vv_progress; never cancels. */
int vv_progress_cb(void *opaque, uint64_t done, uint64_t total);
/* Finish the line (100% on success).  Safe to call when disabled. */
void vv_progress_end(vv_progress *p, bool success);

#endif
