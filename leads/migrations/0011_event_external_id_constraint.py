"""An event's client id is unique by a named constraint instead of `unique=True`.

On PostgreSQL `unique=True` also built a `varchar_pattern_ops` index for `LIKE` queries, which
none runs; each insert wrote it. There the migration only drops that index and renames the
unique constraint (its index stays: no rebuild of a large table). Elsewhere it runs the two
operations as Django would."""

from typing import Any

from django.db import migrations, models

ALTER = migrations.AlterField(
    model_name="event",
    name="external_id",
    field=models.CharField(blank=True, max_length=128, null=True),
)
ADD = migrations.AddConstraint(
    model_name="event",
    constraint=models.UniqueConstraint(fields=("external_id",), name="event_external_id_unique"),
)
TABLE, NAME, LIKE = "leads_event", "event_external_id_unique", "leads_event_external_id_like"


def _external_id_indexes(schema_editor: Any) -> tuple[str, list[str]]:
    """The unique constraint on external_id, and its LIKE indexes (by introspection: Django
    names them with a hash)."""
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, TABLE)
    unique = [
        name
        for name, c in found.items()
        if c["columns"] == ["external_id"] and c["unique"] and not c["primary_key"]
    ]
    like = [
        name
        for name, c in found.items()
        if c["columns"] == ["external_id"] and not c["unique"] and name.endswith("_like")
    ]
    return unique[0], like


class NamedUniqueConstraint(migrations.operations.base.Operation):
    reversible = True

    def state_forwards(self, app_label: str, state: Any) -> None:
        ALTER.state_forwards(app_label, state)
        ADD.state_forwards(app_label, state)

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            unique, like = _external_id_indexes(schema_editor)
            q = schema_editor.quote_name
            for name in like:
                schema_editor.execute(f"DROP INDEX {q(name)}")
            schema_editor.execute(
                f"ALTER TABLE {q(TABLE)} RENAME CONSTRAINT {q(unique)} TO {q(NAME)}"
            )
            return
        middle = from_state.clone()
        ALTER.state_forwards(app_label, middle)
        ALTER.database_forwards(app_label, schema_editor, from_state, middle)
        ADD.database_forwards(app_label, schema_editor, middle, to_state)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            q = schema_editor.quote_name
            schema_editor.execute(
                f"ALTER TABLE {q(TABLE)} RENAME CONSTRAINT {q(NAME)} TO {q(TABLE + '_external_id_key')}"
            )
            schema_editor.execute(
                f"CREATE INDEX {q(LIKE)} ON {q(TABLE)} (external_id varchar_pattern_ops)"
            )
            return
        middle = to_state.clone()
        ALTER.state_forwards(app_label, middle)
        ADD.database_backwards(app_label, schema_editor, from_state, middle)
        ALTER.database_backwards(app_label, schema_editor, middle, to_state)

    def describe(self) -> str:
        return f"Unique external_id of event by the constraint {NAME}, without a LIKE index"


class Migration(migrations.Migration):

    dependencies = [
        ("leads", "0010_rescore_marks"),
    ]

    operations = [NamedUniqueConstraint()]
