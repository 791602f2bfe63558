/* vdisk plugin — helpers shared by the pool and volume XML code (internal).
 *
 *   xml-read.c     safe parsing (size, depth, no entities, no DTD loading,
 *                  no network) and file loading
 *   xml-node.c     walking the tree: unique children, text, attributes,
 *                  errors that cite "doc:line: <element attr='v'>: cause"
 *   xml-units.c    libvirt's scaled integers (<capacity unit='GiB'>)
 *   xml-buf.c      the output buffer: indentation and escaping
 *   xml-perms.c    <permissions>, and names of pools and volumes
 *   xml-encryption.c  a volume's <encryption>
 */
#ifndef VDISK_PLUGIN_XML_INTERNAL_H
#define VDISK_PLUGIN_XML_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include <vdisk/error.h>
#include <vdisk/storage-def.h>

/* Deepest element nesting accepted (libvirt's storage XML needs 4). */
#define VDISK_XML_MAX_DEPTH 32
#define VDISK_XML_MAX_DEPTH_TEXT "32"
/* Longest pool or volume name, in bytes (NAME_MAX). */
#define VDISK_XML_NAME_MAX 255

/* ---- xml-read.c ---------------------------------------------------------- */

/* A parsed document and the name it is cited by in errors. */
typedef struct vdisk_xml_doc {
    xmlDoc *doc;
    xmlNode *root;
    const char *name;          /* borrowed: the docname given to read */
} vdisk_xml_doc;

/* Parse len bytes of XML safely; the root element must be `root`.  On
 * failure nothing is left to free. */
int vdisk_xml_doc_read(vdisk_xml_doc *d, const char *xml, size_t len,
                       const char *docname, const char *root, vdisk_error *err);
void vdisk_xml_doc_close(vdisk_xml_doc *d);

/* Builds a definition from a document (into opaque). */
typedef int (*vdisk_xml_fill_fn)(const vdisk_xml_doc *d, void *opaque, vdisk_error *err);

/* Read xml (NULL: the file named docname) as vdisk_xml_doc_read does and
 * hand the document to fill; the document is gone when this returns. */
int vdisk_xml_parse_with(const char *xml, size_t len, const char *docname, const char *root,
                         vdisk_xml_fill_fn fill, void *opaque, vdisk_error *err);

/* Read a whole file of at most VDISK_XML_MAX_SIZE bytes into a malloc'ed,
 * NUL-terminated buffer the caller frees. */
int vdisk_xml_file_load(const char *path, char **buf, size_t *len, vdisk_error *err);

/* ---- xml-validate.c ------------------------------------------------------ */

/* Validate xml (cited as docname, root element root) against the RelaxNG
 * schema file `schema` ("storagepool-vdisk.rng", "storagevol.rng",
 * "secret.rng") of $VDISK_SCHEMA_DIR, else the installed schemas.
 * -EINVAL with libvirt's message ("XML document failed to validate
 * against schema: ...") and libxml2's reasons when it does not validate. */
int vdisk_xml_validate(const char *xml, size_t len, const char *docname, const char *root, const char *schema,
                       vdisk_error *err);
/* The same for a file. */
int vdisk_xml_validate_file(const char *file, const char *root, const char *schema, vdisk_error *err);

/* ---- xml-node.c ---------------------------------------------------------- */

/* Fill err with "<doc>:<line>: <element attr='value'...>: <cause>" and
 * return -errnum. */
int vdisk_xml_error(vdisk_error *err, const vdisk_xml_doc *d, const xmlNode *node,
                    int errnum, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* The only child element of parent called name, in no namespace (ns NULL)
 * or in namespace ns; *out NULL if there is none.  Two of them is an error. */
int vdisk_xml_child(const vdisk_xml_doc *d, const xmlNode *parent, const char *name,
                    const char *ns, xmlNode **out, vdisk_error *err);

/* The text of node as written (not trimmed), malloc'ed. */
int vdisk_xml_text(const vdisk_xml_doc *d, const xmlNode *node, char **out, vdisk_error *err);
/* The text of node with leading and trailing blanks removed, malloc'ed. */
int vdisk_xml_text_trim(const vdisk_xml_doc *d, const xmlNode *node, char **out,
                        vdisk_error *err);
/* Attribute name of node (no namespace) as written, malloc'ed; NULL if absent. */
int vdisk_xml_attr(const vdisk_xml_doc *d, const xmlNode *node, const char *name,
                   char **out, vdisk_error *err);

/* Trimmed text of node parsed as a decimal number in [min, max]. */
int vdisk_xml_long(const vdisk_xml_doc *d, const xmlNode *node, long long min,
                   long long max, long long *out, vdisk_error *err);

/* ---- xml-units.c --------------------------------------------------------- */

/* The element's text scaled by its unit attribute, at most limit bytes. */
int vdisk_xml_scaled(const vdisk_xml_doc *d, const xmlNode *node, uint64_t limit,
                     uint64_t *out, vdisk_error *err);

/* ---- xml-buf.c ----------------------------------------------------------- */

/* Growable output text; a failed allocation is remembered and reported once
 * by vdisk_xml_buf_finish. */
typedef struct vdisk_xml_buf {
    char *data;
    size_t len, cap;
    int indent;
    bool failed;
} vdisk_xml_buf;

/* Append formatted text as is. */
void vdisk_xml_buf_add(vdisk_xml_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append s with & < > ' " and control characters escaped. */
void vdisk_xml_buf_escape(vdisk_xml_buf *b, const char *s);
/* Append " name='escaped value'"; nothing if value is NULL. */
void vdisk_xml_buf_attr(vdisk_xml_buf *b, const char *name, const char *value);
/* Append the current indentation. */
void vdisk_xml_buf_indent(vdisk_xml_buf *b);
/* Append an indented line: indentation, formatted text, newline. */
void vdisk_xml_buf_line(vdisk_xml_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* An indented line, then indent what follows by two more spaces. */
void vdisk_xml_buf_open(vdisk_xml_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Indent two spaces less, then an indented line. */
void vdisk_xml_buf_close(vdisk_xml_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "<name>escaped value</name>" on its own line; nothing if value is NULL. */
void vdisk_xml_buf_element(vdisk_xml_buf *b, const char *name, const char *value);
/* Hand the text over (*out, caller frees) or report the allocation failure. */
int vdisk_xml_buf_finish(vdisk_xml_buf *b, char **out, vdisk_error *err);
void vdisk_xml_buf_clear(vdisk_xml_buf *b);

/* ---- xml-pool-source.c -------------------------------------------------- */

/* <source> of a pool (libvirt's rbd-pool grammar) and <vdisk:config>;
 * leaves src empty for a directory pool. */
int vdisk_xml_pool_source_parse(const vdisk_xml_doc *d, vdisk_pool_source *src, vdisk_error *err);
void vdisk_xml_pool_source_format(vdisk_xml_buf *b, const vdisk_pool_source *src);

/* ---- xml-perms.c --------------------------------------------------------- */

/* Parse <permissions> (node may be NULL: nothing given). */
int vdisk_xml_perms_parse(const vdisk_xml_doc *d, const xmlNode *node, vdisk_perms *p,
                          vdisk_error *err);
/* Format <permissions> as libvirt does; nothing if no field is set. */
void vdisk_xml_perms_format(vdisk_xml_buf *b, const vdisk_perms *p);

/* Check a pool or volume name: not empty, "." or "..", no '/', no control
 * characters, at most VDISK_XML_NAME_MAX bytes.  node is cited in errors. */
int vdisk_xml_check_name(const vdisk_xml_doc *d, const xmlNode *node, const char *name,
                         vdisk_error *err);

/* ---- xml-encryption.c ---------------------------------------------------- */

int vdisk_xml_encryption_parse(const vdisk_xml_doc *d, const xmlNode *node,
                               vdisk_vol_encryption_def *enc, vdisk_error *err);
void vdisk_xml_encryption_format(vdisk_xml_buf *b, const vdisk_vol_encryption_def *enc);

#endif
