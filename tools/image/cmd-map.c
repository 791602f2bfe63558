/* vdisk-virsh map — where an image's data lives, resolved through its
 * backing chain, as `qemu-img map`: the same extent merging, the same human
 * table ("Offset Length Mapped to File", data extents only) and the same
 * one-extent-per-line JSON list.
 *
 *   map [-f FMT] [--output human|json] [-s START] [-l LENGTH] [-U] FILE
 *
 * With --bar or --picture it shows instead where the space of the image's
 * own layer goes (vdisk_alloc_map: data, reserved, zero, unallocated,
 * compressed, backing): a line of characters with a legend (--output json:
 * the bar and the bytes of each kind), and/or a PNG picture.
 *
 *   map [--bar [--width N]] [--picture FILE.png] [-f FMT] [--output human|json]
 *       [-s START] [-l LENGTH] [-U] FILE
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "images.h"
#include "map-bar.h"
#include "options.h"
#include "secrets.h"

enum { OPT_OUTPUT = 256, OPT_BAR, OPT_WIDTH, OPT_PICTURE };

/* What to show: qemu-img's table, or the space of this layer. */
typedef struct map_view {
    bool bar;
    unsigned long width;    /* bar characters; 0: the terminal's */
    const char *picture;    /* PNG to write, or NULL */
} map_view;

/* One row of the map (qemu-img's MapEntry). */
typedef struct map_entry {
    uint64_t start, length;
    int depth;
    bool present, zero, data, has_offset;
    uint64_t offset;
    const char *filename;   /* NULL unless has_offset */
} map_entry;

static void
entry_from_extent(map_entry *e, const vdisk_extent *x)
{
    memset(e, 0, sizeof(*e));
    e->start = x->offset;
    e->length = x->length;
    e->depth = x->depth;
    e->present = x->flags & VDISK_EXTENT_ALLOCATED;
    e->zero = x->flags & VDISK_EXTENT_ZERO;
    e->data = x->flags & VDISK_EXTENT_DATA;
    e->has_offset = (x->flags & VDISK_EXTENT_OFFSET_VALID) && !(x->flags & VDISK_EXTENT_COMPRESSED);
    e->offset = e->has_offset ? x->host_offset : 0;
    e->filename = e->has_offset ? x->filename : NULL;
}

/* qemu-img's entry_mergeable: same attributes and, for mapped extents,
 * contiguous in the same file. */
static bool
mergeable(const map_entry *cur, const map_entry *next)
{
    if (cur->length == 0)
        return false;
    if (cur->zero != next->zero || cur->data != next->data || cur->depth != next->depth ||
        cur->present != next->present || cur->has_offset != next->has_offset ||
        (cur->filename != NULL) != (next->filename != NULL))
        return false;
    if (cur->filename && strcmp(cur->filename, next->filename) != 0)
        return false;
    if (cur->has_offset && cur->offset + cur->length != next->offset)
        return false;
    return true;
}

/* Print one entry; next is the entry after it (NULL for the last). */
static int
dump_entry(vv_output out, const map_entry *e, map_entry *next, const char *file)
{
    if (out == VV_OUTPUT_HUMAN) {
        if (e->data && !e->has_offset) {
            vv_error("%s: contains compressed or encrypted clusters at offset %" PRIu64
                     ": they have no host offset to show (use --output json)", file, e->start);
            return -1;
        }
        if (e->data && !e->zero)
            printf("%#-16" PRIx64 "%#-16" PRIx64 "%#-16" PRIx64 "%s\n", e->start, e->length,
                   e->offset, e->filename ? e->filename : "");
        /* The table does not tell zero from hole: let those merge. */
        if (next && (!next->data || next->zero)) {
            next->data = false;
            next->zero = true;
        }
        return 0;
    }
    printf("{ \"start\": %" PRIu64 ", \"length\": %" PRIu64 ", \"depth\": %d,"
           " \"present\": %s, \"zero\": %s, \"data\": %s", e->start, e->length, e->depth,
           e->present ? "true" : "false", e->zero ? "true" : "false", e->data ? "true" : "false");
    if (e->has_offset)
        printf(", \"offset\": %" PRIu64, e->offset);
    putchar('}');
    if (next)
        puts(",");
    return 0;
}

/* Walk [start, end) and print merged extents; returns 0 or -1. */
static int
walk(vdisk_image *img, uint64_t start, uint64_t end, vv_output out, const char *file)
{
    map_entry cur = { .start = start }, next;
    while (cur.start + cur.length < end) {
        uint64_t off = cur.start + cur.length;
        vdisk_extent x;
        vdisk_error err = { 0 };
        if (vdisk_block_status_chain(img, off, end - off, &x, &err) < 0) {
            vv_error("%s: Could not read file metadata: %s", file, err.message);
            return -1;
        }
        entry_from_extent(&next, &x);
        if (mergeable(&cur, &next)) {
            cur.length += next.length;
            continue;
        }
        if (cur.length > 0 && dump_entry(out, &cur, &next, file) < 0)
            return -1;
        cur = next;
    }
    /* Always one last entry: qemu-img prints a zero-length one for an empty image. */
    return dump_entry(out, &cur, NULL, file);
}

/* Parse the command line; returns -1 to go on, else an exit status. */
static int
parse_args(int argc, char **argv, const char **fmt, vv_output *output, uint64_t *start,
           uint64_t *max_len, unsigned *flags, vv_secrets *secrets, map_view *view)
{
    static const struct option longopts[] = {
        { "format", required_argument, NULL, 'f' },
        { "output", required_argument, NULL, OPT_OUTPUT },
        { "force-share", no_argument, NULL, 'U' },
        { "start-offset", required_argument, NULL, 's' },
        { "max-length", required_argument, NULL, 'l' },
        { "bar", no_argument, NULL, OPT_BAR },
        { "width", required_argument, NULL, OPT_WIDTH },
        { "picture", required_argument, NULL, OPT_PICTURE },
        { NULL, 0, NULL, 0 },
    };
    int c;
    const char *out_name = NULL;
    while ((c = vv_image_getopt(argc, argv, ":f:s:l:hU", longopts, secrets)) != -1) {
        if (c == VV_GETOPT_FAILED)
            return 1;
        switch (c) {
        case 'f': *fmt = optarg; break;
        case 'h': return vv_command_help("map");
        case 'U': *flags |= VDISK_OPEN_FORCE_SHARE; break;
        case 's':
            if (vv_parse_size("start offset", optarg, start) < 0)
                return 1;
            break;
        case 'l':
            if (vv_parse_size("max length", optarg, max_len) < 0)
                return 1;
            break;
        case OPT_OUTPUT: out_name = optarg; break;
        case OPT_BAR: view->bar = true; break;
        case OPT_WIDTH:
            if (vv_parse_ulong(optarg, 4096, &view->width) < 0 || view->width == 0) {
                vv_error("--width takes a number of characters from 1 to 4096");
                return 1;
            }
            break;
        case OPT_PICTURE: view->picture = optarg; break;
        default: return vv_getopt_fail(c, argv);
        }
    }
    if (optind != argc - 1)
        return vv_usage_error("Expecting one image file name");
    if (out_name && vv_parse_output(out_name, output) < 0)
        return 1;
    if (view->width && !view->bar)
        return vv_usage_error("--width is for --bar");
    if (view->picture && !view->bar && out_name)
        return vv_usage_error("--output is for the table or --bar, not for --picture alone");
    return -1;
}

static int map_image(vdisk_image *img, vv_output out, uint64_t start, uint64_t max_len,
                     const char *file, const map_view *view);

/* map: print the allocation map of an image and its backing chain. */
int
cmd_map(int argc, char **argv)
{
    const char *fmt = NULL;
    vv_output out = VV_OUTPUT_HUMAN;
    uint64_t start = 0, max_len = UINT64_MAX;
    unsigned flags = 0;
    vv_secrets secrets = { 0 };
    map_view view = { 0 };
    int ret = parse_args(argc, argv, &fmt, &out, &start, &max_len, &flags, &secrets, &view);
    if (ret < 0) {
        vdisk_image *img;
        ret = vv_open_secure(argv[optind], fmt, flags, &secrets, &img) < 0 ? 1 : -1;
        vv_secrets_clear(&secrets);
        if (ret < 0)
            ret = map_image(img, out, start, max_len, vdisk_get_filename(img), &view);
    }
    vv_secrets_clear(&secrets);
    return ret;
}

/* Print the map of an opened image; returns the exit status. */
static int
map_image(vdisk_image *img, vv_output out, uint64_t start, uint64_t max_len, const char *file,
          const map_view *view)
{
    int ret;
    uint64_t end = vdisk_get_size(img);
    if (max_len != UINT64_MAX && start + max_len < end)
        end = start + max_len;
    if (view->bar || view->picture) {
        uint64_t len = start < end ? end - start : 0;
        ret = view->bar ? vv_map_bar(img, start, len, view->width, out) : 0;
        if (ret == 0 && view->picture)
            ret = vv_map_picture(img, start, len, view->picture);
        vdisk_close(img, NULL);
        return ret;
    }
    if (out == VV_OUTPUT_HUMAN)
        printf("%-16s%-16s%-16s%s\n", "Offset", "Length", "Mapped to", "File");
    else
        putchar('[');
    ret = walk(img, start, end, out, file);
    if (out == VV_OUTPUT_JSON && ret == 0)
        puts("]");
    vdisk_close(img, NULL);
    return ret < 0 ? 1 : 0;
}
