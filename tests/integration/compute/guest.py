"""Building blocks for real QEMU guests in integration tests: disk images, config drives,
domain XML for the busybox test guest, and reading its serial log.

The guest (scripts/stack/guest.sh, scripts/stack/guest/init) prints `SKYMESH-*` marker lines
on its serial console; these helpers wait for them in the log libvirt's virtlogd writes.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

# Namespace of the <metadata> element that tags a domain with the test that made it.
TEST_XMLNS = "https://skymesh.dev/xmlns/integration-test/1"
TEST_XMLNS_PREFIX = "skymeshtest"


@dataclass(frozen=True)
class GuestArtefacts:
    kernel: Path
    initrd: Path
    kernel_version: str


@dataclass(frozen=True)
class Disk:
    path: Path
    target: str  # vda, vdb, ...
    serial: str
    fmt: str = "qcow2"
    readonly: bool = False


@dataclass(frozen=True)
class GuestSpec:
    name: str
    tag: str  # the test id written into <metadata>
    artefacts: GuestArtefacts
    console_log: Path
    memory_mib: int = 256
    vcpus: int = 1
    disks: tuple[Disk, ...] = ()
    user_nic: bool = False
    cmdline_extra: tuple[str, ...] = field(default_factory=tuple)


def run(*cmd: str | Path) -> str:
    """Run a command; fail with its output when it fails."""
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited {proc.returncode}: {proc.stderr}")
    return proc.stdout


def make_base_image(path: Path, files: dict[str, str], size_mib: int = 16) -> Path:
    """An ext4 qcow2 image holding `files` (name -> text), made without mounting anything:
    mkfs.ext4 -d fills a raw file from a directory, qemu-img converts it."""
    staging = path.parent / f"{path.name}.d"
    staging.mkdir(parents=True)
    for name, text in files.items():
        (staging / name).write_text(text)
    raw = path.with_suffix(".raw")
    run("truncate", "-s", f"{size_mib}M", raw)
    run("mkfs.ext4", "-q", "-F", "-L", "skymesh-root", "-d", staging, raw)
    run("qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", raw, path)
    raw.unlink()
    return path


def make_overlay(base: Path, path: Path) -> Path:
    """A qcow2 copy-on-write overlay on `base` (the base stays untouched)."""
    run("qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", "qcow2", path)
    return path


def make_config_drive(path: Path, meta_data: dict[str, object]) -> Path:
    """An ISO 9660 image labelled config-2 in the OpenStack layout."""
    tree = path.parent / f"{path.name}.d"
    latest = tree / "openstack" / "latest"
    latest.mkdir(parents=True)
    (latest / "meta_data.json").write_text(json.dumps(meta_data))
    run("genisoimage", "-quiet", "-o", path, "-V", "config-2", "-J", "-R", tree)
    return path


def _disk_xml(disk: Disk) -> str:
    readonly = "<readonly/>" if disk.readonly else ""
    return (
        "<disk type='file' device='disk'>"
        f"<driver name='qemu' type='{disk.fmt}'/>"
        f"<source file={quoteattr(str(disk.path))}/>"
        f"<target dev='{disk.target}' bus='virtio'/>"
        f"<serial>{escape(disk.serial)}</serial>{readonly}"
        "</disk>"
    )


def domain_xml(spec: GuestSpec) -> str:
    """A TCG domain booting the busybox guest directly from kernel + initramfs, its serial
    console on a pty (for openConsole) and logged to `console_log` by virtlogd."""
    cmdline = " ".join(("console=ttyS0", "panic=-1", *spec.cmdline_extra))
    nic = "<interface type='user'><model type='virtio'/></interface>" if spec.user_nic else ""
    disks = "".join(_disk_xml(d) for d in spec.disks)
    p = TEST_XMLNS_PREFIX
    tag = f"<{p}:test xmlns:{p}='{TEST_XMLNS}'>{escape(spec.tag)}</{p}:test>"
    return f"""<domain type='qemu'>
  <name>{escape(spec.name)}</name>
  <metadata>
    {tag}
  </metadata>
  <memory unit='MiB'>{spec.memory_mib}</memory>
  <vcpu>{spec.vcpus}</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{escape(str(spec.artefacts.kernel))}</kernel>
    <initrd>{escape(str(spec.artefacts.initrd))}</initrd>
    <cmdline>{escape(cmdline)}</cmdline>
  </os>
  <features><acpi/></features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    {disks}
    {nic}
    <serial type='pty'>
      <log file={quoteattr(str(spec.console_log))} append='off'/>
      <target port='0'/>
    </serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <memballoon model='none'/>
  </devices>
</domain>"""


def markers(log: Path) -> list[str]:
    """The SKYMESH-* markers the guest printed so far, one per line."""
    if not log.exists():
        return []
    text = log.read_text(errors="replace").replace("\r", "")
    # A marker can follow the shell's prompt on the same line (the ACPI handler prints it).
    return [
        line[line.index("SKYMESH-") :].strip() for line in text.splitlines() if "SKYMESH-" in line
    ]


def wait_for_marker(log: Path, marker: str, timeout: float = 60.0) -> list[str]:
    """Wait until a line starting with `marker` is in the serial log; return all markers.
    On timeout fail with the log's tail, so a hung boot explains itself."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = markers(log)
        if any(line.startswith(marker) for line in found):
            return found
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else "(no log file)"
    raise AssertionError(f"no {marker!r} in {log} within {timeout:.0f} s; log tail:\n{tail}")


async def wait_for_marker_async(log: Path, marker: str, timeout: float = 60.0) -> list[str]:
    """`wait_for_marker` that keeps the event loop running while it waits: once libvirtaio
    is registered in the process, libvirtd's keepalive pings are answered only by that loop,
    and a connection whose loop stalls for about 30 s is closed by the daemon."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = markers(log)
        if any(line.startswith(marker) for line in found):
            return found
        await asyncio.sleep(0.2)
    return wait_for_marker(log, marker, 0)


def marker_values(found: list[str], marker: str) -> list[str]:
    """The rest of each line starting with `marker ` (e.g. the address after SKYMESH-IP)."""
    return [line[len(marker) :].strip() for line in found if line.startswith(marker + " ")]
