"""The storyboard of a film or a series: one frame per shot of the shot list, as a contact sheet.

`storyboard.html` is one self-contained page: for each episode and scene (with its heading
from the screenplay), the scene's shots in order, each a frame with its number, size, movement
and description. No image model draws shots, so every frame is the rehearsal illustrator's
stand-in, drawn from the shot (its size frames the figures, its description names who is in
frame, its move is drawn as arrows) in the style guide's palette. Text is escaped, never markup.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass

from podium.domain.artifacts import Shot, ShotList
from podium.domain.production import Format
from podium.domain.tasks import TaskKind
from podium.export.manuscript import parsed
from podium.export.screenplay import slots
from podium.export.sources import ExportSource, number, one_line

FRAME = (384, 216)  # pixels: 16:9, small enough for hundreds of shots in one page


@dataclass(frozen=True)
class Frame:
    episode: int | None
    shot: Shot
    status: str | None  # how unfinished the shot list is, or None


def frames(source: ExportSource) -> list[Frame]:
    """Every shot of the current shot lists, by episode, scene and plan order."""
    series = source.format is Format.SERIES
    found: list[tuple[int, int, int, Frame]] = []
    for index, record in enumerate(source.plan()):
        if record.spec.kind is not TaskKind.SHOT_LIST:
            continue
        artifact = source.current(record)
        content = parsed(artifact) if artifact is not None else None
        if artifact is None or not isinstance(content, ShotList):
            continue
        episode = number(record.spec.params.get("episode")) if series else None
        status = source.short_status(artifact)
        for order, shot in enumerate(content.shots):
            key = (episode or 0, shot.scene, index * 10_000 + order)
            found.append((*key, Frame(episode, shot, status)))
    return [f for *_, f in sorted(found, key=lambda k: k[:3])]


def _e(value: object) -> str:
    return html.escape(one_line(value), quote=True)


CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em; background: #f4f3ef; color: #222; }
h1 { font-weight: 600; margin: 0 0 0.2em; }
h2 { margin: 1.6em 0 0.4em; border-bottom: 2px solid #222; }
h3 { margin: 1.2em 0 0.5em; font-size: 1em; font-family: 'Courier Prime', Courier, monospace; }
.sheet { display: grid; grid-template-columns: repeat(auto-fill, minmax(17em, 1fr)); gap: 1em; }
figure { margin: 0; background: #fff; border: 1px solid #ccc; padding: 0.4em; }
figure img { width: 100%; height: auto; display: block; }
figcaption { font-size: 0.85em; margin-top: 0.3em; }
.shot { font-weight: 700; }
.meta { color: #555; }
.status { color: #8a4b00; font-size: 0.8em; }
"""


def storyboard(source: ExportSource) -> str | None:
    """The storyboard page; None for an illustrated story or before any shot list exists."""
    from podium.llm.rehearsal.illustrator import draw
    from podium.llm.rehearsal.sketch import from_shot

    spec = source.view.spec
    if spec is None or not spec.production.format.screenplay:
        return None
    shots = frames(source)
    if not shots:
        return None
    cast = [c.name for c in (source.view.vision or spec.vision).characters]
    headings = {
        (episode, slot.number): slot.scene.heading
        for episode, chosen in slots(source).items()
        for slot in chosen
    }
    parts = [f"<h1>{_e(source.title)}: storyboard</h1>"]
    parts.append(
        f'<p class="meta">{len(shots)} shots. Frames are rehearsal sketches drawn from each '
        "shot's size, movement and description in the style guide's palette.</p>"
    )
    episode_open: object = object()
    scene_open: tuple[int | None, int] | None = None
    for frame in shots:
        shot = frame.shot
        if frame.episode != episode_open:
            if scene_open is not None:
                parts.append("</div>")
                scene_open = None
            episode_open = frame.episode
            if frame.episode is not None:
                parts.append(f'<h2 id="episode-{frame.episode}">Episode {frame.episode}</h2>')
        if scene_open != (frame.episode, shot.scene):
            if scene_open is not None:
                parts.append("</div>")
            scene_open = (frame.episode, shot.scene)
            heading = headings.get(scene_open, "")
            title = f"{shot.scene}. {one_line(heading)}" if heading else f"Scene {shot.scene}"
            parts.append(f'<h3>{html.escape(title, quote=True)}</h3>\n<div class="sheet">')
        label = f"{shot.scene}{one_line(shot.shot)}"
        png = draw(from_shot(shot, cast, spec.style.palette, label=label), *FRAME)
        src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        meta = " · ".join(
            _e(v) for v in (shot.size, shot.movement, f"{shot.duration_s:g} s") if one_line(v)
        )
        status = f' <span class="status">({_e(frame.status)})</span>' if frame.status else ""
        parts.append(
            f'<figure><img src="{src}" alt="Shot {_e(label)}" width="{FRAME[0]}" '
            f'height="{FRAME[1]}"/>\n<figcaption><span class="shot">{_e(label)}</span> '
            f'<span class="meta">{meta}</span>{status}<br/>{_e(shot.description)}'
            "</figcaption></figure>"
        )
    if scene_open is not None:
        parts.append("</div>")
    body = "\n".join(parts)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<title>{_e(source.title)}: storyboard</title>
<style>{CSS}</style>
</head>
<body>
{body}
</body>
</html>
"""
