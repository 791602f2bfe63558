/* vdisk-virsh — the -p progress indicator (see progress.h). */
#include <unistd.h>

#include "options.h"
#include "progress.h"

static void
draw(vv_progress *p)
{
    fprintf(p->out, "    (%3.2f/100%%)\r", p->current);
    fflush(p->out);
    p->last_print = p->current;
}

void
vv_progress_init(vv_progress *p, bool requested, double min_skip)
{
    p->out = NULL;
    p->current = 0;
    p->last_print = 0;
    p->min_skip = min_skip;
    pthread_mutex_init(&p->lock, NULL);
    if (!requested)
        return;
    /* A progress line is noise in a log or a pipe: terminals only --
     * except when speaking as qemu-img, which prints it on stdout
     * whatever stdout is (scripts and QEMU's iotests read it there). */
    if (vv_as_qemu_img() || isatty(STDOUT_FILENO))
        p->out = stdout;
    else if (isatty(STDERR_FILENO))
        p->out = stderr;
    if (p->out)
        draw(p);
}

void
vv_progress_set(vv_progress *p, double percent)
{
    if (!p->out)
        return;
    if (percent > 100)
        percent = 100;
    pthread_mutex_lock(&p->lock);
    p->current = percent;
    if (percent >= p->last_print + p->min_skip || percent < p->last_print || percent == 100)
        draw(p);
    pthread_mutex_unlock(&p->lock);
}

int
vv_progress_cb(void *opaque, uint64_t done, uint64_t total)
{
    vv_progress *p = opaque;
    vv_progress_set(p, total ? (double)done * 100.0 / (double)total : 100.0);
    return 0;
}

void
vv_progress_end(vv_progress *p, bool success)
{
    if (p->out) {
        pthread_mutex_lock(&p->lock);
        /* qemu-img ends with a last "100.00" even when it printed one */
        if (success && (p->current < 100 || vv_as_qemu_img())) {
            p->current = 100;
            draw(p);
        }
        fputc('\n', p->out);
        fflush(p->out);
        pthread_mutex_unlock(&p->lock);
    }
    pthread_mutex_destroy(&p->lock);
}
