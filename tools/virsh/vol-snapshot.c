/* vdisk-virsh vol-snapshot-create/-list/-revert/-delete: internal snapshots
 * of qcow2 volumes, addressed as virsh addresses volumes, on any store:
 * the work is done on the volume's file (the store's vol_file), which a
 * daemon then looks at again.
 *
 *   vol-snapshot-create <vol> <name> [--pool POOL]
 *   vol-snapshot-list <vol> [--pool POOL] [--json]
 *   vol-snapshot-revert <vol> <snapshot> [--pool POOL]
 *   vol-snapshot-delete <vol> <snapshot> [--pool POOL]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <vdisk/snapshot.h>

#include "commands.h"
#include "output.h"
#include "virsh-args.h"
#include "store-open.h"

typedef enum vv_snap_op { VV_SNAP_CREATE, VV_SNAP_LIST, VV_SNAP_REVERT, VV_SNAP_DELETE } vv_snap_op;

static void
print_list(const vdisk_snapshot_info *s, size_t n, bool json)
{
    if (json) {
        vv_json j;
        vv_json_init(&j, stdout);
        vv_json_array_begin(&j, NULL);
        for (size_t i = 0; i < n; i++) {
            vv_json_object_begin(&j, NULL);
            vv_json_string(&j, "id", s[i].id);
            vv_json_string(&j, "name", s[i].name);
            vv_json_uint(&j, "date-sec", s[i].date_sec);
            vv_json_uint(&j, "date-nsec", s[i].date_nsec);
            vv_json_uint(&j, "vm-clock-nsec", s[i].vm_clock_nsec);
            vv_json_uint(&j, "vm-state-size", s[i].vm_state_size);
            vv_json_uint(&j, "disk-size", s[i].disk_size);
            vv_json_object_end(&j);
        }
        vv_json_array_end(&j);
        vv_json_finish(&j);
        return;
    }
    static const char *const head[] = { "ID", "Name", "Creation Time", "Disk size" };
    vv_table t;
    vv_table_init(&t, 4, head);
    for (size_t i = 0; i < n; i++) {
        char when[64], size[32];
        time_t secs = (time_t)s[i].date_sec;
        struct tm tm;
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", localtime_r(&secs, &tm));
        const char *cells[] = { s[i].id, s[i].name, when, vv_pretty_capacity(s[i].disk_size, size, sizeof(size)) };
        vv_table_add(&t, cells);
    }
    vv_table_print(&t, stdout);
    vv_table_clear(&t);
}

/* Run one snapshot operation on a looked-up volume; prints errors. */
static int
do_op(vdisk_pool *pool, const char *name, vv_snap_op op, const char *snap, bool json, vdisk_error *err)
{
    vdisk_snapshot_info *list;
    size_t n;
    int r;
    switch (op) {
    case VV_SNAP_CREATE: return vdisk_vol_snapshot_create(pool, name, snap, err);
    case VV_SNAP_REVERT: return vdisk_vol_snapshot_revert(pool, name, snap, err);
    case VV_SNAP_DELETE: return vdisk_vol_snapshot_delete(pool, name, snap, err);
    case VV_SNAP_LIST:
        if ((r = vdisk_vol_snapshot_list(pool, name, &list, &n, err)) == 0) {
            print_list(list, n, json);
            vdisk_snapshot_list_free(list, n);
        }
        return r;
    }
    return 0;
}

/* Report the outcome of one operation as virsh would word it. */
static int
report(vv_snap_op op, const char *vol, const char *snap, int r, const vdisk_error *err)
{
    static const char *const verbs[] = { "create snapshot", "list snapshots", "revert to snapshot",
                                         "delete snapshot" };
    static const char *const done[] = { "created", "", "reverted to", "deleted" };
    if (r < 0) {
        vv_virsh_error("Failed to %s%s%s of vol %s", verbs[op], snap ? " " : "", snap ? snap : "", vol);
        vv_virsh_report(err);
        return 1;
    }
    if (op == VV_SNAP_REVERT)
        printf("Vol %s reverted to snapshot %s\n", vol, snap);
    else if (op != VV_SNAP_LIST)
        printf("Snapshot %s of vol %s %s\n", snap, vol, done[op]);
    return 0;
}

/* The command's argument table (vol, snapshot or json, pool): 3 rows. */
static size_t
snapshot_args(vv_snap_op op, vv_arg *args)
{
    vv_arg vol = VV_REQ("vol"), snap = VV_REQ("snapshot"), pool = VV_VAL("pool"), json = VV_FLAG("json");
    args[0] = vol;
    /* vol-snapshot-list takes --json instead of a snapshot name. */
    args[1] = op == VV_SNAP_LIST ? json : snap;
    args[2] = pool;
    return 3;
}

/* Run op on the volume's file; prints the outcome as virsh would word it. */
static int
snapshot_exec(vdisk_pool *pool, const char *name, vv_arg *args, size_t n, vv_snap_op op)
{
    vdisk_error err = { 0 };
    const char *snap = op == VV_SNAP_LIST ? NULL : vv_arg_get(args, n, "snapshot")->value;
    bool json = op == VV_SNAP_LIST && vv_arg_get(args, n, "json")->set;
    int q = do_op(pool, name, op, snap, json, &err);
    return report(op, vv_arg_get(args, n, "vol")->value, snap, q, &err);
}

static int
run(const char *uri, int argc, char **argv, vv_snap_op op)
{
    vv_arg args[3];
    size_t n = snapshot_args(op, args);
    vv_store_ctx c;
    int r = vv_store_begin_vol(uri, argc, argv, args, n, &c);
    if (r != VV_GO)
        return r;
    vdisk_pool *pool;
    const char *name;
    r = 1;
    if (vv_store_vol_file(&c, &pool, &name) == 0) {
        r = snapshot_exec(pool, name, args, n, op);
        /* Even after a failure, so that a partial change shows as it is. */
        if (op != VV_SNAP_LIST && vv_store_file_changed(&c) != 0)
            r = 1;
    }
    vv_store_end(&c);
    return r;
}

/* vol-snapshot-create: take an internal snapshot. */
int cmd_vol_snapshot_create(const char *uri, int argc, char **argv) { return run(uri, argc, argv, VV_SNAP_CREATE); }
/* vol-snapshot-list: list internal snapshots. */
int cmd_vol_snapshot_list(const char *uri, int argc, char **argv) { return run(uri, argc, argv, VV_SNAP_LIST); }
/* vol-snapshot-revert: go back to a snapshot. */
int cmd_vol_snapshot_revert(const char *uri, int argc, char **argv) { return run(uri, argc, argv, VV_SNAP_REVERT); }
/* vol-snapshot-delete: delete a snapshot. */
int cmd_vol_snapshot_delete(const char *uri, int argc, char **argv) { return run(uri, argc, argv, VV_SNAP_DELETE); }
