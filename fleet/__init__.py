"""The platform team's view of every project made from this template (README, "The fleet").

    uv run fleet report --group platform [--format table|json|html] [--output FILE]

It finds, through GitLab's REST API v4 (python-gitlab), every project of a group and its
subgroups whose ``.copier-answers.yml`` records this template, and says for each: its release,
how many releases behind it is, the last template-drift and template-update job results, the
open template-update merge request (draft, conflicts, age); archived projects and those it
cannot read are named apart. The token comes from ``GITLAB_TOKEN`` (read-only access is
enough) and is never printed.
"""
