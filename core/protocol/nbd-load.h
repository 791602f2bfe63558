/* libvdisk internals — libnbd, loaded by the first nbd:// image.
 *
 * Linked, libnbd brings libxml2 (for its NBD URIs' query strings), and
 * with it ICU's two libraries (libicudata alone is 30 MiB), liblzma,
 * libstdc++ and libgcc_s, into every process that uses libvdisk, whether
 * it opens an NBD export or not: `vdisk-virsh info` of a small file
 * mapped 26 objects against qemu-img's 21 (QEMU's NBD client is its
 * own code, without libnbd).  So the nbd protocol (nbd.c) calls
 * libnbd through a table of function pointers that nbd-load.c fills with
 * vdisk_library_load (vdisk-private/library-load.h) on the first open or
 * create of an NBD export; the names below make those calls read as plain
 * libnbd calls.  A function used without being listed here fails to link
 * (libnbd is not linked), so the list cannot fall behind.
 *
 * Only libvdisk calls libnbd, so unlike librbd's table (which the
 * plugin's RBD pools share) this one is not exported.  Include this
 * instead of <libnbd.h>.
 */
#ifndef VDISK_PROTOCOL_NBD_LOAD_H
#define VDISK_PROTOCOL_NBD_LOAD_H

#include <libnbd.h>

#include <vdisk/error.h>

/* Every libnbd function nbd.c calls. */
#define VDISK_NBD_FUNCTIONS(X) \
    X(nbd_add_meta_context) \
    X(nbd_aio_connect_uri) \
    X(nbd_aio_is_connecting) \
    X(nbd_aio_is_ready) \
    X(nbd_block_status) \
    X(nbd_can_flush) \
    X(nbd_can_meta_context) \
    X(nbd_can_multi_conn) \
    X(nbd_can_trim) \
    X(nbd_can_zero) \
    X(nbd_close) \
    X(nbd_create) \
    X(nbd_flush) \
    X(nbd_get_errno) \
    X(nbd_get_error) \
    X(nbd_get_size) \
    X(nbd_is_read_only) \
    X(nbd_poll) \
    X(nbd_pread) \
    X(nbd_pwrite) \
    X(nbd_shutdown) \
    X(nbd_trim) \
    X(nbd_zero)

typedef struct vdisk_nbd_api {
#define VDISK_NBD_MEMBER(name) __typeof__(name) *name;
    VDISK_NBD_FUNCTIONS(VDISK_NBD_MEMBER)
#undef VDISK_NBD_MEMBER
} vdisk_nbd_api;

/* Load libnbd (once per process; later calls return the first result).
 * 0, or -ENOTSUP: "WHAT: cannot load the NBD client library (install
 * libnbd0): REASON" -- `what` names the image asking. */
int vdisk_nbd_load(const char *what, vdisk_error *err);
/* The table; only after vdisk_nbd_load succeeded. */
const vdisk_nbd_api *vdisk_nbd_api_table(void);

#ifndef VDISK_NBD_LOAD_IMPL
#define nbd_add_meta_context (vdisk_nbd_api_table()->nbd_add_meta_context)
#define nbd_aio_connect_uri (vdisk_nbd_api_table()->nbd_aio_connect_uri)
#define nbd_aio_is_connecting (vdisk_nbd_api_table()->nbd_aio_is_connecting)
#define nbd_aio_is_ready (vdisk_nbd_api_table()->nbd_aio_is_ready)
#define nbd_block_status (vdisk_nbd_api_table()->nbd_block_status)
#define nbd_can_flush (vdisk_nbd_api_table()->nbd_can_flush)
#define nbd_can_meta_context (vdisk_nbd_api_table()->nbd_can_meta_context)
#define nbd_can_multi_conn (vdisk_nbd_api_table()->nbd_can_multi_conn)
#define nbd_can_trim (vdisk_nbd_api_table()->nbd_can_trim)
#define nbd_can_zero (vdisk_nbd_api_table()->nbd_can_zero)
#define nbd_close (vdisk_nbd_api_table()->nbd_close)
#define nbd_create (vdisk_nbd_api_table()->nbd_create)
#define nbd_flush (vdisk_nbd_api_table()->nbd_flush)
#define nbd_get_errno (vdisk_nbd_api_table()->nbd_get_errno)
#define nbd_get_error (vdisk_nbd_api_table()->nbd_get_error)
#define nbd_get_size (vdisk_nbd_api_table()->nbd_get_size)
#define nbd_is_read_only (vdisk_nbd_api_table()->nbd_is_read_only)
#define nbd_poll (vdisk_nbd_api_table()->nbd_poll)
#define nbd_pread (vdisk_nbd_api_table()->nbd_pread)
#define nbd_pwrite (vdisk_nbd_api_table()->nbd_pwrite)
#define nbd_shutdown (vdisk_nbd_api_table()->nbd_shutdown)
#define nbd_trim (vdisk_nbd_api_table()->nbd_trim)
#define nbd_zero (vdisk_nbd_api_table()->nbd_zero)
#endif

#endif
