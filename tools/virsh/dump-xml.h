/* vdisk-virsh — the dumpxml commands' output, as virsh's virshDumpXML:
 * the XML as it is, or with --xpath the nodes an XPath expression selects
 * (libxml2), one per line, or with --wrap inside one <nodes> element. */
#ifndef VV_DUMP_XML_H
#define VV_DUMP_XML_H

#include <stdbool.h>

/* The options every dumpxml command takes, for its argument table. */
#define VV_DUMP_XML_ARGS VV_VAL("xpath"), VV_FLAG("wrap")

/* Print xml (a document named url in messages: "pool", "volume",
 * "secret") filtered by xpath (NULL: all of it).  0, or 1 after printing
 * the error as virsh does. */
int vv_dump_xml(const char *xml, const char *url, const char *xpath, bool wrap);

#endif
