"""What the sample productions' comments promise holds when they are run with their seeds."""

from __future__ import annotations

from podium.domain.agents import Role
from podium.domain.artifacts import ShotList
from podium.domain.tasks import TaskKind
from podium.export.screenplay import slots

from .conftest import Made, load_source


def test_last_light_stages_writer_versus_director_debates(sample_db: Made) -> None:
    view = load_source(sample_db("last_light")).view
    roles = {agent_id: record.spec.role for agent_id, record in view.agents.items()}
    pairs = [{roles[p] for p in d.participants} for d in view.debates.values()]
    assert {Role.WRITER, Role.DIRECTOR} in pairs, pairs
    producer = next(a for a, role in roles.items() if role is Role.PRODUCER)
    judged = [
        d
        for d in view.debates.values()
        if {roles[p] for p in d.participants}
        == {
            Role.WRITER,
            Role.DIRECTOR,
        }
    ]
    assert all(d.judge == producer for d in judged)


def test_every_shot_list_covers_every_scene_of_its_script(sample_db: Made) -> None:
    for name in ("last_light", "arcadian_summers"):
        source = load_source(sample_db(name))
        scenes = {episode: {s.number for s in chosen} for episode, chosen in slots(source).items()}
        lists = [r for r in source.plan() if r.spec.kind is TaskKind.SHOT_LIST]
        assert lists, name
        for record in lists:
            artifact = source.current(record)
            assert artifact is not None, record.spec.id
            shots = artifact.parsed()
            assert isinstance(shots, ShotList)
            episode = record.spec.params.get("episode")
            assert {s.scene for s in shots.shots} == scenes[episode], (name, record.spec.id)
