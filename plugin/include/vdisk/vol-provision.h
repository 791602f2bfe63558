/* vdisk plugin — from a volume definition to the image to create.
 *
 * The plan says what libvirt's dir pool would ask `qemu-img create` for
 * (format, size, backing file, -o options: backing_fmt, encryption,
 * preallocation, nocow, compat, cluster_size, extended_l2, lazy_refcounts),
 * with DESIGN.md's provisioning for the allocation:
 *
 *   allocation absent or < capacity   thin (preallocation=metadata for qcow2
 *                                     with VDISK_VOL_PREALLOC_METADATA)
 *   allocation == capacity            thick, zeroed as the pool says:
 *                                     lazy = preallocation=falloc,
 *                                     eager = preallocation=full
 *
 * As libvirt: a qcow2 volume without <compat> (and without <features>) is
 * compat 0.10; iso volumes are raw files; raw volumes take no backing store;
 * QEMU's legacy qcow encryption is refused for new volumes.  The options are
 * key/value pairs with qemu-img's keys: vdisk_vol_provision_create_opts sets
 * them, one by one, in the create options (libvdisk's option table); the
 * plan also spells them as qemu-img's -o would take them, to compare with
 * the command line libvirt's dir pools run.
 */
#ifndef VDISK_VOL_PROVISION_H
#define VDISK_VOL_PROVISION_H

#include <stdbool.h>
#include <stdint.h>

#include <vdisk/create.h>
#include <vdisk/error.h>
#include <vdisk/storage-def.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    VDISK_VOL_PREALLOC_METADATA = 1u << 0,   /* virsh vol-create --prealloc-metadata */
};

#define VDISK_VOL_PROVISION_MAX_OPTS 16

/* One create option of the plan, as qemu-img's -o key=value. */
typedef struct vdisk_vol_provision_opt {
    char *key;                 /* "compat", "encrypt.cipher-alg"... */
    char *value;
} vdisk_vol_provision_opt;

typedef struct vdisk_vol_provision {
    const char *format;        /* qemu-img -f: "raw", "qcow2", or "luks" (a raw LUKS container) */
    uint64_t size;             /* virtual size in bytes */
    bool size_from_backing;    /* no <capacity>: the backing file's size (size is 0) */
    const char *backing_file;  /* borrowed from the definition; NULL if none */
    vdisk_prealloc prealloc;   /* also in options as preallocation=... */
    bool encrypted;            /* LUKS: the caller adds the secret (libvirt's key-secret) */
    vdisk_vol_provision_opt opts[VDISK_VOL_PROVISION_MAX_OPTS];   /* in libvirt's order */
    size_t n_opts;
    char *options;             /* opts as "key=value,...": what qemu-img -o would get; "" if none */
} vdisk_vol_provision;

/* Can a new volume have this format (<format type='...'/>)?  What libvdisk
 * creates (vdisk_format_can_create), less luks (a raw volume with
 * <encryption format='luks'>), plus iso (an empty file an ISO image is
 * uploaded into, as libvirt's dir pools make it).  Also what a vdisk pool's
 * capabilities list. */
bool vdisk_vol_format_can_create(vdisk_format fmt);
/* Their names, "raw, qcow2, iso", for messages (truncated to len). */
void vdisk_vol_format_list_creatable(char *buf, size_t len);

/* Plan the creation of vol in pool (pool may be NULL: lazy zeroing).
 * flags: VDISK_VOL_PREALLOC_*.  Errors name the volume. */
int vdisk_vol_provision_plan(const vdisk_vol_def *vol, const vdisk_pool_def *pool,
                             unsigned flags, vdisk_vol_provision *out, vdisk_error *err);
void vdisk_vol_provision_clear(vdisk_vol_provision *p);

/* Fill opts (initialised here) with the plan's format and options, each set
 * through libvdisk's option table (vdisk_create_opts_set): the first that
 * libvdisk refuses fails with its message. */
int vdisk_vol_provision_create_opts(const vdisk_vol_provision *p, vdisk_create_opts *opts,
                                    vdisk_error *err);

#ifdef __cplusplus
}
#endif

#endif
