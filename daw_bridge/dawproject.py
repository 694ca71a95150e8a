"""A ``.dawproject`` for a render (Bitwig, Studio One, Cubase 14 open it).

DAWproject is an open format: a zip holding ``project.xml`` and ``metadata.xml`` (schemas:
``Project.xsd`` and ``MetaData.xsd`` of bitwig/dawproject) and the audio. This writer puts:

* ``Transport``: the first tempo and time signature;
* ``Structure``: a master track and one audio ``Track`` + ``Channel`` per stem;
* ``Arrangement``: a ``Lanes`` per track (time in beats) holding one ``Clip`` at the song
  position, whose ``Warps`` map beats to seconds of the audio at every tempo change (so the
  file plays unstretched under any tempo map); ``Markers`` per section; ``TempoAutomation``
  and ``TimeSignatureAutomation`` points.

Audio is stored inside the zip under ``audio/`` (uncompressed) unless ``embed_audio`` is
false, in which case ``File`` paths point to the render folder with ``external="true"``.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

from ainur_cli import __version__
from ainur_cli.errors import ExportError

from daw_bridge.placement import Placement, StemFile

PROJECT_VERSION = "1.0"


def _f(x: float) -> str:
    return repr(float(round(x, 9)))


class _Ids:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"id{self.n}"


def _warp_points(p: Placement, stem: StemFile) -> list[tuple[float, float]]:
    """``(beat in the clip, seconds in the file)`` at the clip start, every tempo change
    inside the clip, and its end."""
    start_beat = p.song_s_to_beat(stem.start_s)
    end_beat = p.song_s_to_beat(stem.start_s + stem.duration_s)
    beats = [start_beat] + [b for b, _ in p.tempo_map if start_beat < b < end_beat] + [end_beat]
    return [(b - start_beat, p.song_beat_to_s(b) - stem.start_s) for b in beats]


def project_xml(p: Placement, *, embed_audio: bool = True, external_base: Path | None = None) -> bytes:
    """``project.xml`` bytes (UTF-8)."""
    from lxml import etree as ET

    ids = _Ids()
    root = ET.Element("Project", version=PROJECT_VERSION)
    ET.SubElement(root, "Application", name="Ainur", version=__version__)
    transport = ET.SubElement(root, "Transport")
    tempo_id, sig_id = ids(), ids()
    first_sig = p.time_signatures[0]
    ET.SubElement(transport, "Tempo", id=tempo_id, name="Tempo", unit="bpm",
                  value=_f(p.tempo_map[0][1]), min="20", max="666")
    ET.SubElement(transport, "TimeSignature", id=sig_id, numerator=str(first_sig[1]),
                  denominator=str(first_sig[2]))
    structure = ET.SubElement(root, "Structure")
    master_track = ET.SubElement(structure, "Track", id=ids(), name="Master",
                                 contentType="audio notes", loaded="true")
    master = ET.SubElement(master_track, "Channel", id=ids(), name="Master", role="master",
                           audioChannels="2", solo="false")
    ET.SubElement(master, "Volume", id=ids(), name="Volume", unit="linear", value="1.0",
                  min="0.0", max="2.0")
    tracks = []
    for stem in p.stems:
        track = ET.SubElement(structure, "Track", id=ids(), name=stem.part, contentType="audio",
                              loaded="true")
        ch = ET.SubElement(track, "Channel", id=ids(), name=stem.part, role="regular",
                           audioChannels=str(stem.channels), destination=master.get("id"),
                           solo="false")
        ET.SubElement(ch, "Mute", id=ids(), name="Mute", value="false")
        ET.SubElement(ch, "Pan", id=ids(), name="Pan", unit="normalized", value="0.5",
                      min="0.0", max="1.0")
        ET.SubElement(ch, "Volume", id=ids(), name="Volume", unit="linear", value="1.0",
                      min="0.0", max="2.0")
        tracks.append((stem, track))

    arrangement = ET.SubElement(root, "Arrangement", id=ids())
    lanes = ET.SubElement(arrangement, "Lanes", id=ids(), timeUnit="beats")
    offset = p.session_start_beat
    for stem, track in tracks:
        lane = ET.SubElement(lanes, "Lanes", id=ids(), track=track.get("id"))
        clips = ET.SubElement(lane, "Clips", id=ids())
        warps = _warp_points(p, stem)
        clip = ET.SubElement(clips, "Clip", name=stem.part,
                             time=_f(offset + p.song_s_to_beat(stem.start_s)),
                             duration=_f(warps[-1][0]), playStart="0.0")
        w = ET.SubElement(clip, "Warps", id=ids(), timeUnit="beats", contentTimeUnit="seconds")
        audio = ET.SubElement(w, "Audio", id=ids(), algorithm="raw", channels=str(stem.channels),
                              sampleRate=str(stem.sample_rate), duration=_f(stem.duration_s))
        if embed_audio:
            ET.SubElement(audio, "File", path=f"audio/{stem.path.name}")
        else:
            rel = os.path.relpath(stem.path, external_base or p.render_dir)
            ET.SubElement(audio, "File", path=Path(rel).as_posix(), external="true")
        for beat, seconds in warps:
            ET.SubElement(w, "Warp", time=_f(beat), contentTime=_f(seconds))
    if p.sections:
        markers = ET.SubElement(arrangement, "Markers", id=ids())
        for s in p.sections:
            ET.SubElement(markers, "Marker", name=s.name, time=_f(offset + s.start_beat))
    ta = ET.SubElement(arrangement, "TempoAutomation", id=ids(), unit="bpm")
    ET.SubElement(ta, "Target", parameter=tempo_id)
    for beat, bpm in p.tempo_map:
        ET.SubElement(ta, "RealPoint", time=_f(offset + beat), value=_f(bpm), interpolation="hold")
    sa = ET.SubElement(arrangement, "TimeSignatureAutomation", id=ids())
    ET.SubElement(sa, "Target", parameter=sig_id)
    for beat, num, den in p.bar_start_beats():
        ET.SubElement(sa, "TimeSignaturePoint", time=_f(offset + beat), numerator=str(num),
                      denominator=str(den))
    return ET.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True,
                       pretty_print=True)


def metadata_xml(p: Placement) -> bytes:
    from lxml import etree as ET

    root = ET.Element("MetaData")
    ET.SubElement(root, "Title").text = p.title
    ET.SubElement(root, "Comment").text = "Rendered by Ainur; stems start at the song position."
    return ET.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True,
                       pretty_print=True)


def write_dawproject(p: Placement, path: Path | str | None = None, *,
                     embed_audio: bool = True) -> Path:
    """Write ``<render>/<render name>.dawproject`` (or ``path``) atomically; returns its path."""
    path = Path(path) if path is not None else p.render_dir / f"{p.render_dir.name}.dawproject"
    try:
        fd, tmp = tempfile.mkstemp(prefix=".ainur-dawproject-", dir=path.parent)
        os.close(fd)
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
            z.writestr("project.xml", project_xml(p, embed_audio=embed_audio,
                                                  external_base=path.parent))
            z.writestr("metadata.xml", metadata_xml(p))
            if embed_audio:
                for stem in p.stems:
                    z.write(stem.path, f"audio/{stem.path.name}", compress_type=zipfile.ZIP_STORED)
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.unlink(tmp)
        except (OSError, UnboundLocalError):
            pass
        raise ExportError(f"cannot write the DAWproject file: {e.strerror or e}", file=str(path)) from None
    return path
