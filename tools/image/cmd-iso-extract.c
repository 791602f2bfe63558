/* vdisk-virsh iso-extract — copy files out of an ISO image.
 *
 *   iso-extract [--names auto|rock|joliet|iso] FILE.iso [PATH ...] [-C DIR]
 *
 * Extracts PATHs (default: everything) below DIR (default: the current
 * directory), each at its place in the tree, as tar does.  Never writes
 * outside DIR: see vdisk_iso_extract.
 */
#include <getopt.h>
#include <stdio.h>

#include "commands.h"
#include "isoutil.h"
#include "options.h"

enum { OPT_NAMES = 256 };

/* iso-extract: copy files, directories and symlinks out of an image. */
int
cmd_iso_extract(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "help", no_argument, NULL, 'h' },
        { "directory", required_argument, NULL, 'C' },
        { "names", required_argument, NULL, OPT_NAMES },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = ".", *names = NULL;
    int c;
    while ((c = getopt_long(argc, argv, ":hC:", longopts, NULL)) != -1) {
        switch (c) {
        case 'h': return vv_command_help("iso-extract");
        case 'C': dir = optarg; break;
        case OPT_NAMES: names = optarg; break;
        default: return vv_getopt_fail(c, argv);
        }
    }
    if (optind >= argc)
        return vv_usage_error("Expecting an ISO image file name");
    const char *file = argv[optind];
    vdisk_iso *iso;
    if (vv_iso_open(file, names, &iso) < 0)
        return 1;
    vdisk_error err = { 0 };
    int r = vdisk_iso_extract(iso, (const char *const *)argv + optind + 1, (size_t)(argc - optind - 1),
                              dir, &err);
    vdisk_iso_close(iso);
    if (r < 0) {
        vv_report_file(&err, file);
        return 1;
    }
    return 0;
}
