"""The platform team's view of every project made from this template (docs/fleet.md).

    uv run fleet report --group platform [--format table|json|html] [--output FILE]
    uv run fleet rollout --group platform [--to vX.Y.Z] [--limit N] [--run]

It finds, through GitLab's REST API v4 (python-gitlab), every project of a group and its
subgroups whose ``.copier-answers.yml`` records this template, and says for each: its release,
how many releases behind it is, the last template-drift and template-update job results, the
open template-update merge request (draft, conflicts, age); archived projects and those it
cannot read are named apart. ``rollout`` starts the template-update job of the projects behind
a release (a dry run unless ``--run``). The token comes from ``GITLAB_TOKEN`` (read-only
access is enough for the report) and is never printed.
"""
