"""Binary MS Project (.mpp) files, read through MPXJ (the optional extra ``[mpp]``; LGPL-2.1, needs Java).

MPXJ is the only reader of the binary format; it runs in a Java virtual machine through JPype. It converts the
file to MS Project XML (MSPDI) in a temporary folder, and ``mspdi`` reads that as any other MSPDI file, so an
.mpp file and the XML that MS Project saves from it import to the same data folder. The default install and the
tests do not need Java: without the extra, importing an .mpp file says how to get it (exit 2).
"""
from __future__ import annotations

import importlib.util
import shutil
import tempfile
from pathlib import Path

from .schedule import ImportProblem

INSTALL = ("pip install 'portfolio[mpp]' (MPXJ, LGPL-2.1; it also needs a Java runtime, 11 or later, on the PATH), "
           "or save the file from MS Project as XML (File > Save As > XML) and import that (docs/interop.md)")


def mpxj_available() -> bool:
    """Whether the ``mpxj`` package and a ``java`` command are both there."""
    return importlib.util.find_spec("mpxj") is not None and shutil.which("java") is not None


def mpp_to_mspdi(path) -> bytes:
    """The MSPDI bytes of the .mpp file ``path``, written by MPXJ."""
    name = Path(path).name
    if importlib.util.find_spec("mpxj") is None:
        raise ImportProblem(f"{name}:1:1: a binary MS Project (.mpp) file needs the optional MPXJ reader: {INSTALL}")
    if shutil.which("java") is None:
        raise ImportProblem(f"{name}:1:1: a binary MS Project (.mpp) file needs Java for MPXJ, and no 'java' is on "
                            "the PATH: install a Java runtime (11 or later), or save the file from MS Project as XML")
    import jpype
    import mpxj  # noqa: F401  (puts MPXJ's jars on the class path)

    if not jpype.isJVMStarted():
        jpype.startJVM("-Dlog4j2.loggerContextFactory=org.apache.logging.log4j.simple.SimpleLoggerContextFactory",
                       "-Dlog4j2.level=OFF")  # no logging provider in MPXJ's jars: keep stdout the tool's
    try:
        from org.mpxj.reader import UniversalProjectReader
        from org.mpxj.writer import FileFormat, UniversalProjectWriter
    except ImportError:  # MPXJ before 14 named its packages net.sf.mpxj
        from net.sf.mpxj.reader import UniversalProjectReader
        from net.sf.mpxj.writer import FileFormat, UniversalProjectWriter

    try:
        project = UniversalProjectReader().read(str(path))
    except Exception as exc:  # a Java exception: the file is not a project MPXJ can read
        raise ImportProblem(f"{name}:1:1: MPXJ cannot read it: {exc}") from None
    if project is None:
        raise ImportProblem(f"{name}:1:1: MPXJ does not recognise it as a project file")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "project.xml"
        UniversalProjectWriter(FileFormat.MSPDI).write(project, str(out))
        return out.read_bytes()
