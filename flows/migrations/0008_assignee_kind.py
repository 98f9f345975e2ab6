"""Assignees get a kind: a user by name, or a group by membership, never either.

Rows written before had only a name that matched a user *or* a group. Each one
is resolved once, here: a group if a group of that name exists now, otherwise a
user (templated names included). Waiting tokens and stored flow revisions (which
pinned executions still run) are rewritten to `{"users": [...], "groups": [...]}`
the same way, so an upgrade changes nobody's access to work already in flight;
new flow files must use the mapping form (the loader refuses a bare list).
"""

from django.db import migrations, models


def resolve(names, groups: set[str]) -> dict:
    names = [str(name) for name in names]
    return {
        "users": [n for n in names if n not in groups],
        "groups": [n for n in names if n in groups],
    }


def _rewrite(node, groups: set[str]) -> bool:
    """Turn every task's list of assignees into the mapping; True if any changed."""
    changed = False
    if isinstance(node, dict):
        if "type" in node and isinstance(node.get("assignees"), list):
            node["assignees"] = resolve(node["assignees"], groups)
            changed = True
        for value in node.values():
            changed = _rewrite(value, groups) or changed
    elif isinstance(node, list):
        for value in node:
            changed = _rewrite(value, groups) or changed
    return changed


def forward(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    TokenAssignee = apps.get_model("flows", "TokenAssignee")
    SuspensionToken = apps.get_model("flows", "SuspensionToken")
    FlowRevision = apps.get_model("flows", "FlowRevision")
    groups = set(Group.objects.values_list("name", flat=True))
    TokenAssignee.objects.filter(name__in=groups).update(kind="group")
    TokenAssignee.objects.exclude(name__in=groups).update(kind="user")
    for token in SuspensionToken.objects.only("assignees").iterator():
        if isinstance(token.assignees, list):
            token.assignees = resolve(token.assignees, groups)
            token.save(update_fields=["assignees"])
    for revision in FlowRevision.objects.only("definition").iterator():
        if _rewrite(revision.definition, groups):
            revision.save(update_fields=["definition"])


def _flatten(node) -> bool:
    changed = False
    if isinstance(node, dict):
        value = node.get("assignees")
        if "type" in node and isinstance(value, dict):
            node["assignees"] = [*value.get("users", []), *value.get("groups", [])]
            changed = True
        for value in node.values():
            changed = _flatten(value) or changed
    elif isinstance(node, list):
        for value in node:
            changed = _flatten(value) or changed
    return changed


def backward(apps, schema_editor):
    TokenAssignee = apps.get_model("flows", "TokenAssignee")
    SuspensionToken = apps.get_model("flows", "SuspensionToken")
    FlowRevision = apps.get_model("flows", "FlowRevision")
    seen = set()
    for row in TokenAssignee.objects.order_by("pk").iterator():
        if (row.token_id, row.name) in seen:  # (token, name) is unique again
            row.delete()
        seen.add((row.token_id, row.name))
    for token in SuspensionToken.objects.only("assignees").iterator():
        if isinstance(token.assignees, dict):
            kept = token.assignees
            token.assignees = [*kept.get("users", []), *kept.get("groups", [])]
            token.save(update_fields=["assignees"])
    for revision in FlowRevision.objects.only("definition").iterator():
        if _flatten(revision.definition):
            revision.save(update_fields=["definition"])


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0001_initial"),
        ("flows", "0007_event_chain"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="tokenassignee",
            name="assignee_once",
        ),
        migrations.RemoveIndex(
            model_name="tokenassignee",
            name="flows_token_name_290c43_idx",
        ),
        migrations.AddField(
            model_name="tokenassignee",
            name="kind",
            field=models.CharField(
                choices=[("user", "User"), ("group", "Group")],
                default="user",
                max_length=5,
            ),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="suspensiontoken",
            name="assignees",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(forward, backward),
        migrations.AddIndex(
            model_name="tokenassignee",
            index=models.Index(
                fields=["kind", "name", "token"], name="assignee_name_idx"
            ),
        ),
        migrations.AddConstraint(
            model_name="tokenassignee",
            constraint=models.UniqueConstraint(
                fields=("token", "kind", "name"), name="assignee_once"
            ),
        ),
    ]
