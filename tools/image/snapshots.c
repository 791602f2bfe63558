/* vdisk-virsh — internal snapshot lists in qemu-img's layouts (see snapshots.h). */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "snapshots.h"

/* One row: qemu's bdrv_snapshot_dump column widths. */
static void
print_row(FILE *out, const vdisk_snapshot_info *sn)
{
    char size[32], date[32] = "", clock[64], icount[32] = "";
    time_t t = (time_t)sn->date_sec;
    struct tm tm;
    if (localtime_r(&t, &tm))
        strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
    uint64_t secs = sn->vm_clock_nsec / 1000000000u;
    snprintf(clock, sizeof(clock), "%02d:%02d:%02d.%03d", (int)(secs / 3600),
             (int)((secs / 60) % 60), (int)(secs % 60),
             (int)((sn->vm_clock_nsec / 1000000) % 1000));
    if (sn->icount != VDISK_SNAPSHOT_NO_ICOUNT)
        snprintf(icount, sizeof(icount), "%" PRId64, (int64_t)sn->icount);
    fprintf(out, "%-9s %-16s %8s%20s%13s%11s\n", sn->id, sn->name,
            vv_size_to_str(sn->vm_state_size, size, sizeof(size)), date, clock, icount);
}

void
vv_snapshots_print(FILE *out, const vdisk_snapshot_info *list, size_t n)
{
    fprintf(out, "Snapshot list:\n%-10s%-17s%8s%20s%13s%11s\n", "ID", "TAG", "VM SIZE", "DATE",
            "VM CLOCK", "ICOUNT");
    for (size_t i = 0; i < n; i++)
        print_row(out, &list[i]);
}

void
vv_snapshots_json(vv_json *j, const vdisk_snapshot_info *list, size_t n)
{
    vv_json_array_begin(j, "snapshots");
    for (size_t i = 0; i < n; i++) {
        const vdisk_snapshot_info *sn = &list[i];
        /* Member order as qemu-img prints them. */
        vv_json_object_begin(j, NULL);
        if (sn->icount != VDISK_SNAPSHOT_NO_ICOUNT)
            vv_json_uint(j, "icount", sn->icount);
        vv_json_uint(j, "vm-clock-nsec", sn->vm_clock_nsec % 1000000000u);
        vv_json_string(j, "name", sn->name);
        vv_json_uint(j, "date-sec", sn->date_sec);
        vv_json_uint(j, "date-nsec", sn->date_nsec);
        vv_json_uint(j, "vm-clock-sec", sn->vm_clock_nsec / 1000000000u);
        vv_json_string(j, "id", sn->id);
        vv_json_uint(j, "vm-state-size", sn->vm_state_size);
        vv_json_object_end(j);
    }
    vv_json_array_end(j);
}
