/* vdisk-virsh — dumpxml's --xpath and --wrap (dump-xml.h), with libxml2's
 * XPath as virsh uses it. */
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

#include "dump-xml.h"
#include "virsh-args.h"

/* One node as virsh prints it: formatted, at indent level 0. */
static int
print_node(xmlDocPtr doc, xmlNodePtr node)
{
    xmlBufferPtr buf = xmlBufferCreate();
    if (!buf)
        return -1;
    int r = xmlNodeDump(buf, doc, node, 0, 1) == 0 ? -1 : 0;
    if (r == 0)
        printf("%s\n", (const char *)xmlBufferContent(buf));
    else
        vv_virsh_error("internal error: failed to convert the XML node tree");
    xmlBufferFree(buf);
    return r;
}

/* --wrap: copies of the nodes under a new <nodes> root, printed as one. */
static int
print_wrapped(xmlNodeSetPtr set)
{
    xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
    xmlNodePtr root = doc ? xmlNewNode(NULL, (const xmlChar *)"nodes") : NULL;
    int r = root ? 0 : -1;
    if (root)
        xmlDocSetRootElement(doc, root);
    for (int i = 0; r == 0 && set && i < set->nodeNr; i++) {
        xmlNodePtr copy = xmlDocCopyNode(set->nodeTab[i], doc, 1);
        if (!copy || !xmlAddChild(root, copy)) {
            xmlFreeNode(copy);
            r = -1;
        }
    }
    if (r == 0)
        r = print_node(doc, root);
    if (doc)
        xmlFreeDoc(doc);
    return r;
}

/* Evaluate and print; an expression libxml2 cannot read selects nothing
 * (libxml2 says why on stderr), one that is not a node set is refused. */
static int
print_selected(xmlDocPtr doc, const char *xpath, bool wrap)
{
    xmlXPathContextPtr ctxt = xmlXPathNewContext(doc);
    if (!ctxt)
        return -1;
    ctxt->node = xmlDocGetRootElement(doc);
    xmlXPathObjectPtr obj = xmlXPathEval((const xmlChar *)xpath, ctxt);
    int r = 0;
    if (obj && obj->type != XPATH_NODESET) {
        vv_virsh_error("internal error: Incorrect xpath '%s'", xpath);
        r = -1;
    } else if (wrap) {
        r = print_wrapped(obj ? obj->nodesetval : NULL);
    } else if (obj && obj->nodesetval) {
        for (int i = 0; r == 0 && i < obj->nodesetval->nodeNr; i++)
            r = print_node(doc, obj->nodesetval->nodeTab[i]);
    }
    xmlXPathFreeObject(obj);
    xmlXPathFreeContext(ctxt);
    return r;
}

int
vv_dump_xml(const char *xml, const char *url, const char *xpath, bool wrap)
{
    if (!xpath) {
        fputs(xml, stdout);
        return 0;
    }
    /* Blank text dropped, so that the nodes are indented afresh. */
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), url, NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS);
    if (!doc) {
        vv_virsh_error("(%s):1: the XML could not be parsed", url);
        return 1;
    }
    int r = print_selected(doc, xpath, wrap) < 0;
    xmlFreeDoc(doc);
    return r;
}
