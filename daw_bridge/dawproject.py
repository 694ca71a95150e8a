"""A ``.dawproject`` for a render (Bitwig Studio, Studio One and Cubase 14 open it).

DAWproject is an open format (bitwig/dawproject): a zip holding ``project.xml`` (schema
``Project.xsd``), ``metadata.xml`` (``MetaData.xsd``) and, optionally, the audio. This writer puts:

* ``Transport``: the project's first tempo (``Tempo``, bpm) and time signature;
* ``Structure``: one audio ``Track`` + ``Channel`` per stem (named after the part), the mix on
  its own muted track (unless left out), and a master track they are routed to;
* ``Arrangement`` (time in beats = quarter notes of the session):
  a ``Lanes`` per track holding one ``Clip`` at the stem's session beat, whose ``Warps`` map
  clip beats to seconds of the file at the clip start, at every tempo change inside the clip
  and at its end (the file plays at its own speed under any tempo map); ``Markers`` per
  section; ``TempoAutomation`` (``RealPoint`` bpm, ``hold``) and ``TimeSignatureAutomation``
  (``TimeSignaturePoint``) at every change of the project's map.

Audio is stored inside the zip under ``audio/<path in the render>`` (uncompressed) by default;
with ``embed_audio=False`` each ``File`` is ``external="true"`` with a path relative to the
``.dawproject`` file (absolute when the audio is not below its folder). The zip entries carry
a fixed timestamp, so the same render gives the same bytes.
"""

from __future__ import annotations

import zipfile
from fractions import Fraction
from pathlib import Path

from ainur_cli import __version__

from daw_bridge.placement import Placement, StemFile, atomic_output

PROJECT_VERSION = "1.0"
_ZIP_TIME = (2000, 1, 1, 0, 0, 0)


def _f(x: float | Fraction) -> str:
    """An xs:double: shortest repr of the float (exact fractions rounded once)."""
    return repr(float(x))


class _Ids:
    """``id1``, ``id2``, ... (xs:ID values, unique in the document)."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"id{self.n}"


def warp_points(p: Placement, f: StemFile) -> list[tuple[Fraction, Fraction]]:
    """``(beats from the clip start, seconds into the file)`` at the clip start, every
    project tempo change inside the clip, and the clip end."""
    start, end = p.stem_start_beat(f), p.stem_end_beat(f)
    proj = p.project
    t0 = proj.beat_to_seconds(start)
    beats = [start] + [t.beat for t in proj.tempo if start < t.beat < end] + [end]
    return [(b - start, proj.beat_to_seconds(b) - t0) for b in beats]


def audio_entry(f: StemFile) -> str:
    """The file's name inside the zip."""
    return f"audio/{f.rel_path}"


def _external_path(f: StemFile, base: Path) -> str:
    try:
        return f.path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(f.path.resolve())


def project_xml(p: Placement, *, embed_audio: bool = True, project_dir: Path | None = None,
                with_mix: bool = True) -> bytes:
    """``project.xml`` (UTF-8 bytes); ``project_dir`` is where the ``.dawproject`` lives
    (external paths are relative to it)."""
    from lxml import etree as ET

    ids = _Ids()
    proj = p.project
    root = ET.Element("Project", version=PROJECT_VERSION)
    ET.SubElement(root, "Application", name="Ainur", version=__version__)
    transport = ET.SubElement(root, "Transport")
    tempo_id, sig_id = ids(), ids()
    ET.SubElement(transport, "Tempo", id=tempo_id, name="Tempo", unit="bpm",
                  value=_f(proj.tempo[0].tempo_bpm), min="20.0", max="999.0")
    ET.SubElement(transport, "TimeSignature", id=sig_id, name="Time Signature",
                  numerator=str(proj.meters[0].numerator),
                  denominator=str(proj.meters[0].denominator))

    structure = ET.SubElement(root, "Structure")
    files = p.files(with_mix)
    tracks = [(f, ET.SubElement(structure, "Track", id=ids(), name=f.part, contentType="audio",
                                loaded="true")) for f in files]
    master_track = ET.SubElement(structure, "Track", id=ids(), name="Master",
                                 contentType="audio", loaded="true")
    master = ET.SubElement(master_track, "Channel", id=ids(), name="Master", role="master",
                           audioChannels="2", solo="false")
    ET.SubElement(master, "Volume", id=ids(), name="Volume", unit="linear", value="1.0",
                  min="0.0", max="2.0")
    for f, track in tracks:
        ch = ET.SubElement(track, "Channel", id=ids(), name=f.part, role="regular",
                           audioChannels=str(f.channels), destination=master.get("id"),
                           solo="false")
        ET.SubElement(ch, "Mute", id=ids(), name="Mute", value="true" if f.part == "mix" else "false")
        ET.SubElement(ch, "Pan", id=ids(), name="Pan", unit="normalized", value="0.5",
                      min="0.0", max="1.0")
        ET.SubElement(ch, "Volume", id=ids(), name="Volume", unit="linear", value="1.0",
                      min="0.0", max="2.0")

    arrangement = ET.SubElement(root, "Arrangement", id=ids())
    lanes = ET.SubElement(arrangement, "Lanes", id=ids(), timeUnit="beats")
    base = Path(project_dir or p.render_dir)
    for f, track in tracks:
        lane = ET.SubElement(lanes, "Lanes", id=ids(), track=track.get("id"))
        clips = ET.SubElement(lane, "Clips", id=ids())
        warps = warp_points(p, f)
        length = _f(warps[-1][0])
        clip = ET.SubElement(clips, "Clip", name=f.part, time=_f(p.stem_start_beat(f)),
                             duration=length, playStart="0.0", fadeTimeUnit="beats",
                             fadeInTime="0.0", fadeOutTime="0.0")
        inner = ET.SubElement(ET.SubElement(clip, "Clips", id=ids()), "Clip", time="0.0",
                              duration=length, contentTimeUnit="beats", playStart="0.0")
        w = ET.SubElement(inner, "Warps", id=ids(), timeUnit="beats", contentTimeUnit="seconds")
        audio = ET.SubElement(w, "Audio", id=ids(), algorithm="stretch", channels=str(f.channels),
                              sampleRate=str(f.sample_rate),
                              duration=_f(Fraction(f.duration_samples, f.sample_rate)))
        if embed_audio:
            ET.SubElement(audio, "File", path=audio_entry(f))
        else:
            ET.SubElement(audio, "File", path=_external_path(f, base), external="true")
        for beat, seconds in warps:
            ET.SubElement(w, "Warp", time=_f(beat), contentTime=_f(seconds))
    if p.sections:
        markers = ET.SubElement(arrangement, "Markers", id=ids())
        for s in p.sections:
            ET.SubElement(markers, "Marker", name=s.name, time=_f(p.start_beat + s.start_beat))
    ta = ET.SubElement(arrangement, "TempoAutomation", id=ids(), unit="bpm")
    ET.SubElement(ta, "Target", parameter=tempo_id)
    for t in proj.tempo:
        ET.SubElement(ta, "RealPoint", time=_f(t.beat), value=_f(t.tempo_bpm),
                      interpolation="hold")
    sa = ET.SubElement(arrangement, "TimeSignatureAutomation", id=ids())
    ET.SubElement(sa, "Target", parameter=sig_id)
    for m in proj.meters:
        ET.SubElement(sa, "TimeSignaturePoint", time=_f(m.beat), numerator=str(m.numerator),
                      denominator=str(m.denominator))
    return ET.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True,
                       pretty_print=True)


def metadata_xml(p: Placement) -> bytes:
    """``metadata.xml`` (UTF-8 bytes): title and a comment."""
    from lxml import etree as ET

    root = ET.Element("MetaData")
    ET.SubElement(root, "Title").text = p.title
    ET.SubElement(root, "Comment").text = (
        f"Rendered by Ainur {__version__}; the song starts at beat {float(p.start_beat):g} "
        f"({float(p.start_s):.6f} s) of this project.")
    return ET.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True,
                       pretty_print=True)


def _entry(name: str, compress: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = compress
    info.external_attr = 0o644 << 16
    return info


def dawproject_path(p: Placement) -> Path:
    """The default path: ``<render>/<render folder name>.dawproject``."""
    return p.render_dir / f"{p.render_dir.name}.dawproject"


def write_dawproject(p: Placement, path: Path | str | None = None, *, embed_audio: bool = True,
                     with_mix: bool = True, force: bool = False) -> Path:
    """Write ``<render>/<render name>.dawproject`` (or ``path``) atomically; an existing file
    is replaced only with ``force``. Returns its path.

    :raises ExportError: the file exists (without ``force``) or cannot be written.
    """
    path = Path(path) if path is not None else dawproject_path(p)
    xml = project_xml(p, embed_audio=embed_audio, project_dir=path.parent, with_mix=with_mix)
    with atomic_output(path, force=force, what="the DAWproject file") as tmp:
        with zipfile.ZipFile(tmp, "w") as z:
            z.writestr(_entry("project.xml", zipfile.ZIP_DEFLATED), xml)
            z.writestr(_entry("metadata.xml", zipfile.ZIP_DEFLATED), metadata_xml(p))
            if embed_audio:
                for f in p.files(with_mix):
                    with open(f.path, "rb") as src, \
                            z.open(_entry(audio_entry(f), zipfile.ZIP_STORED), "w",
                                   force_zip64=True) as dst:
                        while chunk := src.read(1 << 20):
                            dst.write(chunk)
    return path
