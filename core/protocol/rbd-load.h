/* libvdisk internals — librbd and librados, loaded by the first rbd: image.
 *
 * Linked, librbd brings librados, libceph-common, boost and libstdc++ into
 * every process that uses libvdisk, whether it opens an RBD image or not:
 * 'vdisk-virsh info' of a small file went from 7.8 to 25.5 MiB of peak RSS
 * (qemu-img's: 7.9, whose rbd driver is a module it loads on demand), and
 * every convert above qemu-img's.  So rbd.c and rbd-extent.c call librbd
 * through a table of function pointers that rbd-load.c fills with dlopen /
 * dlsym when an rbd: name is first opened; the names below make those calls
 * read as plain librbd calls.  A function used without being listed here
 * fails to link (librbd is not linked), so the list cannot fall behind.
 *
 * Include this instead of <rbd/librbd.h> and <rados/librados.h>.
 */
#ifndef VDISK_PROTOCOL_RBD_LOAD_H
#define VDISK_PROTOCOL_RBD_LOAD_H

#include <rados/librados.h>
#include <rbd/librbd.h>

#include <vdisk/error.h>

/* Every librados / librbd function libvdisk calls. */
#define VDISK_RBD_FUNCTIONS(X) \
    X(rados_conf_read_file) \
    X(rados_conf_set) \
    X(rados_connect) \
    X(rados_create) \
    X(rados_ioctx_create) \
    X(rados_ioctx_destroy) \
    X(rados_ioctx_set_namespace) \
    X(rados_shutdown) \
    X(rbd_close) \
    X(rbd_create4) \
    X(rbd_diff_iterate2) \
    X(rbd_discard) \
    X(rbd_flush) \
    X(rbd_get_features) \
    X(rbd_get_size) \
    X(rbd_image_options_create) \
    X(rbd_image_options_destroy) \
    X(rbd_lock_acquire) \
    X(rbd_lock_get_owners) \
    X(rbd_lock_get_owners_cleanup) \
    X(rbd_open) \
    X(rbd_open_read_only) \
    X(rbd_read) \
    X(rbd_remove) \
    X(rbd_resize) \
    X(rbd_write) \
    X(rbd_write_zeroes)

typedef struct vdisk_rbd_api {
#define VDISK_RBD_MEMBER(name) __typeof__(name) *name;
    VDISK_RBD_FUNCTIONS(VDISK_RBD_MEMBER)
#undef VDISK_RBD_MEMBER
} vdisk_rbd_api;

/* Load librbd (once per process; later calls return the first result).
 * 0, or -ENOTSUP naming `name` and what is missing. */
int vdisk_rbd_load(const char *name, vdisk_error *err);
/* The table; only after vdisk_rbd_load succeeded. */
const vdisk_rbd_api *vdisk_rbd_api_table(void);

#ifndef VDISK_RBD_LOAD_IMPL
#define rados_conf_read_file (vdisk_rbd_api_table()->rados_conf_read_file)
#define rados_conf_set (vdisk_rbd_api_table()->rados_conf_set)
#define rados_connect (vdisk_rbd_api_table()->rados_connect)
#define rados_create (vdisk_rbd_api_table()->rados_create)
#define rados_ioctx_create (vdisk_rbd_api_table()->rados_ioctx_create)
#define rados_ioctx_destroy (vdisk_rbd_api_table()->rados_ioctx_destroy)
#define rados_ioctx_set_namespace (vdisk_rbd_api_table()->rados_ioctx_set_namespace)
#define rados_shutdown (vdisk_rbd_api_table()->rados_shutdown)
#define rbd_close (vdisk_rbd_api_table()->rbd_close)
#define rbd_create4 (vdisk_rbd_api_table()->rbd_create4)
#define rbd_diff_iterate2 (vdisk_rbd_api_table()->rbd_diff_iterate2)
#define rbd_discard (vdisk_rbd_api_table()->rbd_discard)
#define rbd_flush (vdisk_rbd_api_table()->rbd_flush)
#define rbd_get_features (vdisk_rbd_api_table()->rbd_get_features)
#define rbd_get_size (vdisk_rbd_api_table()->rbd_get_size)
#define rbd_image_options_create (vdisk_rbd_api_table()->rbd_image_options_create)
#define rbd_image_options_destroy (vdisk_rbd_api_table()->rbd_image_options_destroy)
#define rbd_lock_acquire (vdisk_rbd_api_table()->rbd_lock_acquire)
#define rbd_lock_get_owners (vdisk_rbd_api_table()->rbd_lock_get_owners)
#define rbd_lock_get_owners_cleanup (vdisk_rbd_api_table()->rbd_lock_get_owners_cleanup)
#define rbd_open (vdisk_rbd_api_table()->rbd_open)
#define rbd_open_read_only (vdisk_rbd_api_table()->rbd_open_read_only)
#define rbd_read (vdisk_rbd_api_table()->rbd_read)
#define rbd_remove (vdisk_rbd_api_table()->rbd_remove)
#define rbd_resize (vdisk_rbd_api_table()->rbd_resize)
#define rbd_write (vdisk_rbd_api_table()->rbd_write)
#define rbd_write_zeroes (vdisk_rbd_api_table()->rbd_write_zeroes)
#endif

#endif
