"""The integrations' tests share the web UI tests' small world (leads, rules, a form)."""

from tests.web.conftest import web_as, world

__all__ = ["web_as", "world"]
