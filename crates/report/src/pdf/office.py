# pingan's PDF converter: one LibreOffice kept running, driven through its
# Python-UNO bridge, so a report converts in a fraction of a second instead
# of paying LibreOffice's start (about 1.2 s) every time. Started by
# crates/report/src/pdf.rs with the system Python (python3-uno):
#
#     python3 office.py SOFFICE PROFILE_DIR PIPE_NAME
#
# Prints "ready PGID" (LibreOffice's process group: `soffice` is a wrapper
# around `soffice.bin`) once connected, then reads one request per line,
# "DOCX_PATH<TAB>PDF_PATH", and answers each with "ok" or "error <reason>".
# End of input (the server stopped or was killed) ends LibreOffice too.
import os
import signal
import subprocess
import sys
import time

import uno
from com.sun.star.beans import PropertyValue


def prop(name, value):
    p = PropertyValue()
    p.Name = name
    p.Value = value
    return p


def main():
    soffice, profile, pipe = sys.argv[1], sys.argv[2], sys.argv[3]
    office = subprocess.Popen(
        [soffice, "-env:UserInstallation=" + uno.systemPathToFileUrl(profile),
         "--headless", "--invisible", "--norestore", "--nologo", "--nodefault", "--nolockcheck",
         "--accept=pipe,name=%s;urp;StarOffice.ComponentContext" % pipe],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext(
            "com.sun.star.bridge.UnoUrlResolver", local)
        ctx, deadline = None, time.time() + 60
        while ctx is None:
            try:
                ctx = resolver.resolve("uno:pipe,name=%s;urp;StarOffice.ComponentContext" % pipe)
            except Exception:
                if office.poll() is not None or time.time() > deadline:
                    print("error LibreOffice did not start", flush=True)
                    return
                time.sleep(0.05)
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        # Load Writer and the PDF filter now: the first real report would
        # otherwise wait about a second for them.
        warm = os.path.join(profile, "warm.pdf")
        doc = desktop.loadComponentFromURL("private:factory/swriter", "_blank", 0,
                                           (prop("Hidden", True),))
        doc.storeToURL(uno.systemPathToFileUrl(warm), (prop("FilterName", "writer_pdf_Export"),))
        doc.close(True)
        print("ready %d" % office.pid, flush=True)
        for line in sys.stdin:
            src, _, dst = line.rstrip("\n").partition("\t")
            try:
                doc = desktop.loadComponentFromURL(
                    uno.systemPathToFileUrl(src), "_blank", 0,
                    (prop("Hidden", True), prop("ReadOnly", True)))
                if doc is None:
                    raise RuntimeError("cannot open " + src)
                try:
                    doc.storeToURL(uno.systemPathToFileUrl(dst),
                                   (prop("FilterName", "writer_pdf_Export"),))
                finally:
                    doc.close(True)
                print("ok", flush=True)
            except Exception as e:  # a bad document: say so, keep serving
                print("error " + str(e).replace("\n", " "), flush=True)
                if office.poll() is not None:
                    return
    finally:
        try:
            os.killpg(office.pid, signal.SIGTERM)
            office.wait(10)
        except Exception:
            try:
                os.killpg(office.pid, signal.SIGKILL)
            except Exception:
                pass


main()
