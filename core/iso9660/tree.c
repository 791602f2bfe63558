/* libvdisk — ISO writer: host files and directories -> the in-memory tree.
 *
 * A directory source contributes its contents (recursively) to its
 * destination directory; a file or symlink source becomes one entry.
 * Ownership and modes are rationalised as `genisoimage -r` does (uid/gid
 * 0, everything readable, execute bits all or none, no write or set-id
 * bits), so the image does not depend on who built it; keep_owner_modes
 * records them as they are (`genisoimage -R`).  With a fixed date,
 * no time later than it is recorded.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build.h"

#define ISO_LINK_WRITE_MAX 1800u   /* a target must fit one continuation area */

static uint32_t
rational_mode(mode_t m)
{
    if (S_ISDIR(m))
        return S_IFDIR | 0555;
    if (S_ISLNK(m))
        return S_IFLNK | 0555;   /* genisoimage -r: no write bits, links included */
    return S_IFREG | 0444 | (m & 0111 ? 0111 : 0);
}

static int64_t
clamp_time(const iso_tree *t, int64_t mtime)
{
    return t->opts.fixed_date && mtime > t->opts.date ? t->opts.date : mtime;
}

static iso_node *
node_new(const char *name, uint32_t mode, int64_t mtime)
{
    iso_node *n = calloc(1, sizeof(*n));
    if (!n || !(n->name = strdup(name))) {
        free(n);
        return NULL;
    }
    n->mode = mode;
    n->mtime = mtime;
    n->nlink = 1;
    return n;
}

static void
node_free(iso_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n_kids; i++)
        node_free(n->kids[i]);
    free(n->kids);
    free(n->jkids);
    free(n->name);
    free(n->host);
    free(n->link);
    iso_buf_free(&n->su);
    iso_buf_free(&n->su_ce);
    free(n);
}

void
iso_tree_free(iso_tree *t)
{
    node_free(t->root);
    if (!t->boot_in_tree)
        node_free(t->boot);
    if (!t->efi_in_tree)
        node_free(t->efi);
    free(t->dirs);
    free(t->jdirs);
    iso_buf_free(&t->root_er);
    t->root = t->boot = t->efi = NULL;
    t->dirs = t->jdirs = NULL;
}

static iso_node *
find_kid(const iso_node *dir, const char *name)
{
    for (size_t i = 0; i < dir->n_kids; i++)
        if (strcmp(dir->kids[i]->name, name) == 0)
            return dir->kids[i];
    return NULL;
}

static int
add_kid(iso_node *dir, iso_node *kid)
{
    if (dir->n_kids == dir->cap_kids) {
        size_t cap = dir->cap_kids ? 2 * dir->cap_kids : 8;
        iso_node **nv = realloc(dir->kids, cap * sizeof(*nv));
        if (!nv)
            return -ENOMEM;
        dir->kids = nv;
        dir->cap_kids = cap;
    }
    dir->kids[dir->n_kids++] = kid;
    kid->parent = dir;
    return 0;
}

/* The directory at image path `dest` ("/a/b"), made as needed. */
static int
mkdir_p(iso_tree *t, const char *dest, iso_node **out, vdisk_error *err)
{
    iso_node *cur = t->root;
    for (const char *p = dest; *p;) {
        while (*p == '/')
            p++;
        size_t len = strcspn(p, "/");
        if (len == 0)
            break;
        char comp[256];
        if (len >= sizeof(comp) || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
            return vdisk_error_set(err, EINVAL, "destination '%s': bad path component", dest);
        memcpy(comp, p, len);
        comp[len] = '\0';
        iso_node *k = find_kid(cur, comp);
        if (k && !iso_node_is_dir(k))
            return vdisk_error_set(err, EEXIST, "destination '%s': '%s' is already a file in the image",
                                   dest, comp);
        if (!k) {
            if (!(k = node_new(comp, S_IFDIR | 0555, t->now)) || add_kid(cur, k) < 0) {
                node_free(k);
                return vdisk_error_set(err, ENOMEM, "out of memory");
            }
        }
        cur = k;
        p += len;
    }
    *out = cur;
    return 0;
}

/* A node for host path `src` (lstat'ed into st) named `name`. */
static int
make_node(iso_tree *t, const char *src, const struct stat *st, const char *name, iso_node **out,
          vdisk_error *err)
{
    uint32_t mode = t->opts.keep_owner_modes ? (uint32_t)(st->st_mode & (S_IFMT | 07777))
                                             : rational_mode(st->st_mode);
    iso_node *n = node_new(name, mode, clamp_time(t, st->st_mtime));
    if (!n)
        return vdisk_error_set(err, ENOMEM, "out of memory");
    if (t->opts.keep_owner_modes) {
        n->uid = (uint32_t)st->st_uid;
        n->gid = (uint32_t)st->st_gid;
    }
    n->dev = (uint64_t)st->st_dev;
    n->ino = (uint64_t)st->st_ino;
    if (S_ISREG(st->st_mode)) {
        n->size = (uint64_t)st->st_size;
        if (!(n->host = strdup(src))) {
            node_free(n);
            return vdisk_error_set(err, ENOMEM, "out of memory");
        }
    } else if (S_ISLNK(st->st_mode)) {
        char buf[ISO_LINK_WRITE_MAX + 1];
        ssize_t l = readlink(src, buf, sizeof(buf));
        if (l < 0 || (size_t)l > ISO_LINK_WRITE_MAX) {
            node_free(n);
            return l < 0 ? vdisk_error_set_errno(err, errno, "%s: readlink", src)
                         : vdisk_error_set(err, ENAMETOOLONG, "%s: symlink target longer than %u bytes",
                                           src, ISO_LINK_WRITE_MAX);
        }
        buf[l] = '\0';
        if (!(n->link = strdup(buf))) {
            node_free(n);
            return vdisk_error_set(err, ENOMEM, "out of memory");
        }
    }
    *out = n;
    return 0;
}

static int add_tree(iso_tree *t, iso_node *dir, const char *src, unsigned depth, vdisk_error *err);

/* Put host entry src (named name) into dir; directories merge. */
static int
add_entry(iso_tree *t, iso_node *dir, const char *src, const char *name, unsigned depth,
          vdisk_error *err)
{
    struct stat st;
    if (lstat(src, &st) < 0)
        return vdisk_error_set_errno(err, errno, "%s: cannot read source", src);
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
        return 0;   /* devices, fifos and sockets have no place on a CD */
    if (S_ISLNK(st.st_mode) && !t->opts.rock_ridge)
        return 0;   /* only Rock Ridge can record a link: skipped, as genisoimage does */
    if (strlen(name) > 255)
        return vdisk_error_set(err, ENAMETOOLONG, "%s: name longer than 255 bytes", src);
    iso_node *old = find_kid(dir, name);
    if (old && !(iso_node_is_dir(old) && S_ISDIR(st.st_mode)))
        return vdisk_error_set(err, EEXIST, "%s: the image already has an entry named '%s' there", src, name);
    if (old) {
        old->mtime = clamp_time(t, st.st_mtime);
        return add_tree(t, old, src, depth + 1, err);
    }
    iso_node *n;
    int r = make_node(t, src, &st, name, &n, err);
    if (r < 0)
        return r;
    if (add_kid(dir, n) < 0) {
        node_free(n);
        return vdisk_error_set(err, ENOMEM, "out of memory");
    }
    return S_ISDIR(st.st_mode) ? add_tree(t, n, src, depth + 1, err) : 0;
}

/* Add the contents of host directory src to dir. */
static int
add_tree(iso_tree *t, iso_node *dir, const char *src, unsigned depth, vdisk_error *err)
{
    if (depth > ISO_DEPTH_MAX)
        return vdisk_error_set(err, ELOOP, "%s: directories nested deeper than %u levels", src, ISO_DEPTH_MAX);
    DIR *d = opendir(src);
    if (!d)
        return vdisk_error_set_errno(err, errno, "%s: cannot read directory", src);
    int r = 0;
    struct dirent *de;
    size_t sl = strlen(src);
    while (r == 0 && (errno = 0, de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *path = malloc(sl + strlen(de->d_name) + 2);
        if (!path) {
            r = vdisk_error_set(err, ENOMEM, "out of memory");
            break;
        }
        sprintf(path, "%s/%s", src, de->d_name);
        r = add_entry(t, dir, path, de->d_name, depth, err);
        free(path);
    }
    if (r == 0 && errno)
        r = vdisk_error_set_errno(err, errno, "%s: cannot read directory", src);
    closedir(d);
    return r;
}

/* One command-line source. */
static int
add_source(iso_tree *t, const vdisk_iso_source *s, vdisk_error *err)
{
    struct stat st;
    if (stat(s->src, &st) < 0)
        return vdisk_error_set_errno(err, errno, "%s: cannot read source", s->src);
    const char *dest = s->dest ? s->dest : "/";
    iso_node *dir;
    int r;
    if (S_ISDIR(st.st_mode)) {
        r = mkdir_p(t, dest, &dir, err);
        if (r == 0 && t->opts.keep_owner_modes) {
            /* The directory the source's contents fill takes its owner and
             * modes (mkisofs -R: the root is the source directory's). */
            dir->mode = (uint32_t)(st.st_mode & (S_IFMT | 07777));
            dir->uid = (uint32_t)st.st_uid;
            dir->gid = (uint32_t)st.st_gid;
        }
        return r < 0 ? r : add_tree(t, dir, s->src, 0, err);
    }
    /* A file: dest names the file, or a directory when it ends in '/'. */
    char parent[4096], name[256];
    const char *base = strrchr(s->src, '/') ? strrchr(s->src, '/') + 1 : s->src;
    size_t dl = strlen(dest);
    if (dl >= sizeof(parent))
        return vdisk_error_set(err, ENAMETOOLONG, "destination '%s' is too long", dest);
    if (!s->dest || dest[dl - 1] == '/') {
        snprintf(parent, sizeof(parent), "%s", dest);
        snprintf(name, sizeof(name), "%s", base);
    } else {
        const char *sl = strrchr(dest, '/');
        size_t pl = sl ? (size_t)(sl - dest) : 0;
        memcpy(parent, dest, pl);
        parent[pl] = '\0';
        snprintf(name, sizeof(name), "%s", sl ? sl + 1 : dest);
    }
    if (!name[0] || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return vdisk_error_set(err, EINVAL, "destination '%s' for %s has no file name", dest, s->src);
    r = mkdir_p(t, parent, &dir, err);
    return r < 0 ? r : add_entry(t, dir, s->src, name, 0, err);
}

/* The regular file of the tree that is host file (dev, ino), if any. */
static iso_node *
find_host_file(iso_node *dir, uint64_t dev, uint64_t ino)
{
    for (size_t i = 0; i < dir->n_kids; i++) {
        iso_node *k = dir->kids[i];
        iso_node *hit = iso_node_is_dir(k) ? find_host_file(k, dev, ino)
                      : iso_node_is_reg(k) && k->dev == dev && k->ino == ino ? k : NULL;
        if (hit)
            return hit;
    }
    return NULL;
}

/* A boot image read from host file path: the tree's copy of it when one of
 * the sources holds it (visible, as mkisofs -b names a file of the tree),
 * else a hidden one. */
static int
boot_node(iso_tree *t, const char *path, iso_node **out, bool *in_tree, vdisk_error *err)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return vdisk_error_set_errno(err, errno, "%s: cannot read boot image", path);
    if (!S_ISREG(st.st_mode) || st.st_size == 0)
        return vdisk_error_set(err, EINVAL, "%s: boot image must be a non-empty regular file", path);
    *out = find_host_file(t->root, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
    *in_tree = *out != NULL;
    return *out ? 0 : make_node(t, path, &st, "", out, err);
}

/* The boot catalog as a file of the tree at path (mkisofs -c): 2048
 * bytes read-only, its data the catalog sector layout.c places. */
static int
catalog_node(iso_tree *t, const char *path, vdisk_error *err)
{
    if (!t->boot && !t->efi)
        return vdisk_error_set(err, EINVAL, "boot catalog '%s': there is no boot image to catalog", path);
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    if (!*name || strlen(name) >= 256 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return vdisk_error_set(err, EINVAL, "boot catalog '%s': bad file name", path);
    char dir[4096];
    size_t dlen = slash ? (size_t)(slash - path) : 0;
    if (dlen >= sizeof(dir))
        return vdisk_error_set(err, EINVAL, "boot catalog '%s': path too long", path);
    memcpy(dir, path, dlen);
    dir[dlen] = '\0';
    iso_node *parent;
    int r = mkdir_p(t, dir, &parent, err);
    if (r < 0)
        return r;
    if (find_kid(parent, name))
        return vdisk_error_set(err, EEXIST, "boot catalog '%s': the sources already put a file there", path);
    iso_node *c = node_new(name, S_IFREG | 0444, t->now);
    if (!c || add_kid(parent, c) < 0) {
        node_free(c);
        return vdisk_error_set(err, ENOMEM, "out of memory");
    }
    c->size = ISO_SECTOR;
    t->catalog = c;
    return 0;
}

int
iso_tree_build(iso_tree *t, const vdisk_iso_source *src, size_t n, vdisk_error *err)
{
    if (!(t->root = node_new("", S_IFDIR | 0555, t->now)))
        return vdisk_error_set(err, ENOMEM, "out of memory");
    int r = 0;
    for (size_t i = 0; r == 0 && i < n; i++)
        r = add_source(t, &src[i], err);
    if (r == 0 && t->opts.boot_image)
        r = boot_node(t, t->opts.boot_image, &t->boot, &t->boot_in_tree, err);
    if (r == 0 && t->opts.efi_boot_image)
        r = boot_node(t, t->opts.efi_boot_image, &t->efi, &t->efi_in_tree, err);
    if (r == 0 && t->opts.boot_catalog)
        r = catalog_node(t, t->opts.boot_catalog, err);
    return r;
}
