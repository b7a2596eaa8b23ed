"""Template-owned: copier-uv-gitlab keeps this file (README.md, "Who owns which file").

The kinds of secret that secret_scan.py finds beside detect-secrets' own detectors: gitleaks'
default rules (github.com/gitleaks/gitleaks, config/gitleaks.toml; each names its rule id) as
detect-secrets detectors. Each reports the whole token, so that .secrets.baseline accepts one
value, never every token of its kind (detect-secrets' GitLab detector reports the prefix alone).
detect-secrets imports this file by its path (.secrets.baseline names it, "plugins_used").
"""

from __future__ import annotations

import re

from detect_secrets.plugins.base import RegexBasedDetector


def _kind(
    name: str, kind: str, rule: str, pattern: str, flags: int = 0
) -> type[RegexBasedDetector]:
    """A detector of one kind: the whole match is the secret (no capturing group), as hashed."""
    regex = re.compile(pattern, flags)
    if regex.groups:  # a group would make the secret a part of the token
        raise ValueError(rule)
    return type(
        name, (RegexBasedDetector,), {"secret_type": kind, "denylist": [regex], "gitleaks": rule}
    )


CHARS = r"[0-9A-Za-z_-]"
KINDS = [
    # GitLab's tokens (docs.gitlab.com, security/tokens: each prefix).
    _kind(
        "GitLabPersonalAccessToken",
        "GitLab personal access token",
        "gitlab-pat",
        rf"glpat-{CHARS}{{20,}}(?:\.[0-9a-z]{{2,}})?",
    ),
    _kind(
        "GitLabDeployToken", "GitLab deploy token", "gitlab-deploy-token", rf"gldt-{CHARS}{{20,}}"
    ),
    _kind(
        "GitLabRunnerToken",
        "GitLab runner authentication token",
        "gitlab-runner-authentication-token",
        rf"glrt-{CHARS}{{20,}}",
    ),
    _kind(
        "GitLabJobToken",
        "GitLab CI/CD job token",
        "gitlab-cicd-job-token",
        rf"glcbt-(?:[0-9a-fA-F]{{1,5}}_)?{CHARS}{{20,}}",
    ),
    _kind(
        "GitLabTriggerToken", "GitLab pipeline trigger token", "gitlab-ptt", r"glptt-[0-9a-f]{40}"
    ),
    _kind("GitLabFeedToken", "GitLab feed token", "gitlab-feed-token", rf"glft-{CHARS}{{20,}}"),
    _kind(
        "GitLabIncomingMailToken",
        "GitLab incoming mail token",
        "gitlab-incoming-mail-token",
        rf"glimt-{CHARS}{{25}}",
    ),
    _kind(
        "GitLabAgentToken",
        "GitLab agent for Kubernetes token",
        "gitlab-kubernetes-agent-token",
        rf"glagent-{CHARS}{{50,1024}}",
    ),
    _kind("GitLabScimToken", "GitLab SCIM token", "gitlab-scim-token", rf"glsoat-{CHARS}{{20,}}"),
    _kind(
        "GitLabOAuthSecret",
        "GitLab OAuth application secret",
        "gitlab-oauth-app-secret",
        rf"gloas-{CHARS}{{64}}",
    ),
    _kind(
        "GitLabFeatureFlagToken",
        "GitLab feature flag client token",
        "gitlab-feature-flag-client-token",
        rf"glffct-{CHARS}{{20,}}",
    ),
    _kind(
        "GitLabRunnerRegistrationToken",
        "GitLab runner registration token",
        "gitlab-rrt",
        rf"GR1348941{CHARS}{{20,}}",
    ),
    # Package indexes.
    _kind(
        "PyPIToken",
        "PyPI upload token",
        "pypi-upload-token",
        rf"pypi-AgEIcHlwaS5vcmc{CHARS}{{50,1000}}",
    ),
    _kind(
        "NpmToken", "npm access token", "npm-access-token", r"\bnpm_[a-z0-9]{36}\b", re.IGNORECASE
    ),
    # GitHub.
    _kind(
        "GitHubPersonalAccessToken",
        "GitHub personal access token",
        "github-pat",
        r"ghp_[0-9A-Za-z]{36}",
    ),
    _kind(
        "GitHubFineGrainedToken",
        "GitHub fine-grained token",
        "github-fine-grained-pat",
        r"github_pat_\w{82}",
    ),
    _kind("GitHubOAuthToken", "GitHub OAuth token", "github-oauth", r"gho_[0-9A-Za-z]{36}"),
    _kind("GitHubAppToken", "GitHub app token", "github-app-token", r"(?:ghu|ghs)_[0-9A-Za-z]{36}"),
    _kind(
        "GitHubRefreshToken", "GitHub refresh token", "github-refresh-token", r"ghr_[0-9A-Za-z]{36}"
    ),
    # Model APIs.
    _kind(
        "OpenAIKey",
        "OpenAI API key",
        "openai-api-key",
        r"sk-(?:proj|svcacct|admin)-[\w-]{58,74}T3BlbkFJ[\w-]{58,74}|sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}",
    ),
    _kind("AnthropicKey", "Anthropic API key", "anthropic-api-key", r"sk-ant-api03-[\w-]{93}AA"),
    _kind(
        "AnthropicAdminKey",
        "Anthropic admin key",
        "anthropic-admin-api-key",
        r"sk-ant-admin01-[\w-]{93}AA",
    ),
    _kind(
        "HuggingFaceToken",
        "Hugging Face access token",
        "huggingface-access-token",
        r"\bhf_[A-Za-z]{34}\b",
    ),
    # Chat.
    _kind(
        "SlackBotToken",
        "Slack bot token",
        "slack-bot-token",
        r"xoxb-[0-9]{10,13}-[0-9]{10,13}[A-Za-z0-9-]*",
    ),
    _kind(
        "SlackUserToken",
        "Slack user token",
        "slack-user-token",
        r"xox[pe](?:-[0-9]{10,13}){3}-[A-Za-z0-9-]{28,34}",
    ),
    _kind(
        "SlackAppToken",
        "Slack app token",
        "slack-app-token",
        r"xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+",
        re.IGNORECASE,
    ),
    _kind(
        "SlackWebhook",
        "Slack webhook URL",
        "slack-webhook-url",
        r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{43,56}",
    ),
    # Payments and clouds (AWS: detect-secrets' own detector, the same rule as aws-access-token).
    _kind(
        "StripeKey",
        "Stripe secret key",
        "stripe-access-token",
        r"\b(?:sk|rk)_(?:test|live|prod)_[A-Za-z0-9]{10,99}",
    ),
    _kind("GCPAPIKey", "Google Cloud API key", "gcp-api-key", r"\bAIza[\w-]{35}"),
    _kind(
        "AzureClientSecret",
        "Azure AD client secret",
        "azure-ad-client-secret",
        r"(?<![\w~.-])[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34}(?![\w~.-])",
    ),
]
globals().update({detector.__name__: detector for detector in KINDS})  # where detect-secrets looks
