/* vdisk plugin — changing a volume's provisioning in place, and where a
 * pool's space goes: what the pool verbs vol-inflate, vol-eagerzero,
 * vol-sparsify, vol-map, `vol-resize --allocate` and `pool-info --details`
 * call, in both modes (embedded registry, and the libvirt module).
 *
 * The work is libvdisk's (vdisk/provision.h); here are the pool's rules
 * around it:
 *   - a volume in use (a running guest, qemu-io, another vdisk) is refused
 *     (-EBUSY, the image lock's "image is in use");
 *   - inflate and eagerzero measure first (a dry run) what they add to the
 *     host, and refuse (-ENOSPC) before writing a byte when the pool's free
 *     space cannot hold it;
 *   - the pool is locked against concurrent creates and deletes while the
 *     space moves, so the free-space check stays true;
 *   - encrypted volumes are refused by libvdisk (no secret is read).
 * Each call returns the numbers of the change (vdisk_provision_result);
 * the pool's figures (vdisk_pool_get_info, vdisk_pool_usage) are read from
 * the volumes, so they are current once the call returns.
 */
#ifndef VDISK_VOLUME_PROVISIONING_H
#define VDISK_VOLUME_PROVISIONING_H

#include <stddef.h>
#include <stdint.h>

#include <vdisk/error.h>
#include <vdisk/image.h>
#include <vdisk/pool.h>
#include <vdisk/provision.h>

#ifdef __cplusplus
extern "C" {
#endif

/* flags: VDISK_PROVISION_DRY_RUN, VDISK_INFLATE_EAGER (inflate),
 * VDISK_SPARSIFY_ZERO_DETECT and VDISK_SPARSIFY_TRUNCATE (sparsify), as
 * vdisk/provision.h.  res may be NULL.  Progress in guest bytes. */
int vdisk_vol_inflate(vdisk_pool *pool, const char *name, unsigned flags,
                      vdisk_progress_fn progress, void *opaque, vdisk_provision_result *res,
                      vdisk_error *err);
int vdisk_vol_eagerzero(vdisk_pool *pool, const char *name, unsigned flags,
                        vdisk_progress_fn progress, void *opaque, vdisk_provision_result *res,
                        vdisk_error *err);
int vdisk_vol_sparsify(vdisk_pool *pool, const char *name, unsigned flags,
                       vdisk_progress_fn progress, void *opaque, vdisk_provision_result *res,
                       vdisk_error *err);

/* The allocation map of a volume (vol-map): fn gets each run of one kind,
 * as vdisk_alloc_map.  Read-only; works while a guest runs only if the
 * volume's format allows shared reads (raw). */
int vdisk_vol_alloc_map(vdisk_pool *pool, const char *name, vdisk_alloc_fn fn, void *opaque,
                        vdisk_error *err);

/* One volume in pool-info --details: provisioned (capacity) against used. */
typedef struct vdisk_vol_usage {
    char *name;
    vdisk_format format;
    uint64_t capacity;                      /* provisioned: the guest's disk size */
    uint64_t allocation;                    /* used: host bytes the file takes */
    uint64_t bytes[VDISK_ALLOC_KINDS];      /* the volume's own layer by kind */
    const char *kind;                       /* "thin", "lazy-zeroed thick", "eager-zeroed thick",
                                               "mixed" (static) */
} vdisk_vol_usage;

typedef struct vdisk_pool_usage {
    vdisk_vol_usage *vols;                  /* sorted by name */
    size_t n;
    uint64_t capacity;                      /* sum of the volumes' capacities */
    uint64_t allocation;                    /* sum of their host allocations */
    /* Guest bytes with no host space behind them (unallocated, zero, and
     * not read from a backing file): what the guests may still claim from
     * the pool's free space.  inflate lowers it, sparsify raises it. */
    uint64_t unbacked;
    uint64_t available;                     /* the pool's free space */
} vdisk_pool_usage;

/* pool-info --details: every volume of an active pool, mapped (volumes in
 * use that cannot be read are listed with capacity and allocation only).
 * Free with vdisk_pool_usage_clear. */
int vdisk_pool_usage_get(vdisk_pool *pool, vdisk_pool_usage *out, vdisk_error *err);
void vdisk_pool_usage_clear(vdisk_pool_usage *u);

/* The provisioning kind a volume's map says it has (static string). */
const char *vdisk_vol_usage_kind(const uint64_t bytes[VDISK_ALLOC_KINDS]);

#ifdef __cplusplus
}
#endif
#endif
