"""Drive a running virt-manager through its accessibility tree (dogtail),
as a user would: its Connection Details window, Storage tab; optionally
make a pool with the create-pool wizard; open a pool, read what it shows,
create a volume with the new-volume dialog and take a picture of it.

Run by test_virt_manager.py on the desktop of desktop.py (DISPLAY and the
session bus in the environment), with Debian's /usr/bin/python3:

    virt_manager_ui.py --pool P [--new-pool-type vdisk --new-pool-path DIR]
        --volume NAME --format raw|qcow2 --capacity GIB [--allocate]
        --screenshot FILE

Prints one JSON object on its last line: what the wizard offered, the
pool's provisioning row, the dialog's provisioning line, and whether the
volume showed up in the pool's volume list.  Exits non-zero (with the
reason) when a step cannot be done.
"""
import argparse
import json
import shutil
import sys
import tempfile
import time

import gi

gi.require_version("Gdk", "3.0")
gi.require_version("Atspi", "2.0")
from gi.repository import Gdk, Gio  # noqa: E402

# dogtail checks the GNOME accessibility setting when dogtail.tree loads;
# GSettings lives in memory here, so turn it on in this process.
Gio.Settings.new("org.gnome.desktop.interface").set_boolean("toolkit-accessibility", True)

import dogtail.config  # noqa: E402

_scratch = tempfile.mkdtemp(prefix="dogtail-")
dogtail.config.config.scratchDir = _scratch + "/"
dogtail.config.config.logDir = _scratch + "/"
dogtail.config.config.logDebugToFile = False
dogtail.config.config.logDebugToStdOut = False
dogtail.config.config.searchBackoffDuration = 0.5
dogtail.config.config.searchCutoffCount = 120      # a minute per search
dogtail.config.config.actionDelay = 0.2
dogtail.config.config.defaultDelay = 0.2

import dogtail.rawinput  # noqa: E402
import dogtail.tree  # noqa: E402

# dogtail replaces the exception hook with one that stays silent when its
# logging is off: errors must show
sys.excepthook = sys.__excepthook__

DEADLINE = 300     # seconds for the app to do what was asked (a bound, not a measure)


def wait_for(what, cond):
    """Poll cond() until true; fail naming what."""
    end = time.monotonic() + DEADLINE
    while not cond():
        if time.monotonic() > end:
            sys.exit(f"virt_manager_ui: gave up waiting for {what}")
        time.sleep(0.5)


def labels(n):
    """The accessible name of n and that of the label for it (GTK names an
    entry or a combo box through a 'labelled by' relation)."""
    names = [n.name]
    try:
        if n.labeler is not None:
            names.append(n.labeler.name)
    except Exception:        # no relation set on some roles
        pass
    return names


def find(node, name=None, role=None, contains=None):
    """The first descendant with that accessible name or label (or a name
    containing `contains`) and role."""
    def pred(n):
        if role and n.roleName != role:
            return False
        if name is not None and name not in labels(n):
            return False
        if contains is not None and contains not in (n.name or ""):
            return False
        return True
    return node.findChild(pred, retry=True, requireResult=True)


def window(app, title_part):
    return find(app, contains=title_part, role="frame")


def choose(combo, item, shown=None):
    """Pick an item of a GtkComboBox by its menu item's action (no pointer
    needed: the popup's geometry is not known before it is mapped); the
    combo box then shows `shown` (the item itself by default)."""
    shown = shown or item
    if combo.name == shown:
        return
    find(combo, name=item, role="menu item").doActionNamed("click")
    wait_for(f"'{item}' selected", lambda: combo.name == shown)


def screenshot(node, path):
    """Save the window of node (its on-screen extents) as PNG."""
    x, y = node.position
    w, h = node.size
    root = Gdk.get_default_root_window()
    pixbuf = Gdk.pixbuf_get_from_window(root, x, y, w, h)
    if pixbuf is None:
        sys.exit("virt_manager_ui: could not read the screen")
    pixbuf.savev(path, "png", [], [])


def make_pool(app, host, kind, name, path, result):
    find(host, "pool-add", "push button").click()
    wiz = window(app, "Add a New Storage Pool")
    combo = find(wiz, "Type:", "combo box")
    menu_items = [n.name for n in combo.findChildren(lambda n: n.roleName == "menu item")]
    result["wizard_types"] = menu_items
    wanted = next((m for m in menu_items if m.startswith(kind + ":")), None)
    if wanted is None:
        sys.exit(f"virt_manager_ui: the wizard offers no '{kind}' pool: {menu_items}")
    choose(combo, wanted, shown=kind)
    find(wiz, "Name:", "text").text = name
    # the target path entry has no label relation: it is the text entry on
    # the row of the target's Browse button
    row = find(wiz, "target-browse", "push button").position[1]
    target = wiz.findChild(lambda n: n.roleName == "text" and n.showing and
                           n.position[1] == row, retry=True, requireResult=True)
    target.text = path
    wait_for("the target path to be set", lambda: target.text == path)
    find(wiz, "Finish", "push button").click()
    wait_for("the wizard to close", lambda: not wiz.showing)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pool", required=True)
    ap.add_argument("--new-pool-type")
    ap.add_argument("--new-pool-path")
    ap.add_argument("--volume", required=True)
    ap.add_argument("--format", required=True)
    ap.add_argument("--capacity", required=True)
    ap.add_argument("--allocate", action="store_true")
    ap.add_argument("--screenshot", required=True)
    a = ap.parse_args()
    result = {}

    app = dogtail.tree.root.application("virt-manager")
    host = window(app, "Connection Details")
    find(host, "Storage", "page tab").click()
    if a.new_pool_type:
        make_pool(app, host, a.new_pool_type, a.pool, a.new_pool_path, result)

    pools = find(host, "pool-list", "table")
    find(pools, role="table cell", contains=a.pool).click()
    prov = find(host, "pool-provisioning", "label")
    result["pool_provisioning"] = prov.text if prov.showing else None
    vol_add = find(host, "vol-new", "push button")
    result["vol_add_sensitive"] = vol_add.sensitive
    result["vol_add_tooltip"] = vol_add.description
    if not vol_add.sensitive:
        print(json.dumps(result))
        return
    vol_add.click()

    dlg = window(app, "Add a Storage Volume")
    choose(find(dlg, "Format:", "combo box"), a.format)
    name = find(dlg, "Name:", "text")
    name.text = a.volume
    cap = find(dlg, "Capacity:", "spin button")
    cap.text = a.capacity
    cap.click()
    dogtail.rawinput.pressKey("Tab")
    alloc = find(dlg, "Allocate entire volume now", "check box")
    if alloc.checked != a.allocate:
        alloc.click()
    wait_for("the allocation box to follow", lambda: alloc.checked == a.allocate)
    line = find(dlg, "vol-provisioning", "label")
    result["dialog_provisioning"] = line.text if line.showing else None
    screenshot(dlg, a.screenshot)
    find(dlg, "Finish", "push button").click()
    wait_for("the dialog to close", lambda: not dlg.showing)

    vols = find(host, "vol-list", "table")
    wait_for(f"'{a.volume}' in the volume list",
             lambda: vols.findChild(lambda n: n.roleName == "table cell" and
                                    (n.name or "").startswith(a.volume),
                                    retry=False, requireResult=False) is not None)
    result["listed"] = True
    print(json.dumps(result))


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(_scratch, ignore_errors=True)
