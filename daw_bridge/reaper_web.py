"""REAPER's web browser interface (Preferences > Control/OSC/web > Web browser interface).

``GET /_/CMD;CMD;…`` runs the commands in order and answers lines of TAB-separated tokens
(the command reference is the comment block of REAPER's ``reaper_www_root/main.js``). Strings
in answers escape newline, TAB and backslash as ``\\n``, ``\\t``, ``\\\\``; values sent with
``SET/EXTSTATE/section/key/value`` are URL-encoded. :class:`ReaperWeb` is the client the REAPER
adapter uses; it turns every failure into one :class:`BridgeError`.
"""

from __future__ import annotations

import base64
import urllib.error
import urllib.parse
import urllib.request
from fractions import Fraction

from ainur_cli.errors import BridgeError

EXT_SECTION = "ainur"
WEB_CHECK = ("REAPER running with Preferences > Control/OSC/web > Web browser interface "
             "enabled on this port")


def unescape(field: str) -> str:
    """Web-interface strings encode newline, tab and backslash as ``\\n``, ``\\t``, ``\\\\``."""
    out, i = [], 0
    while i < len(field):
        c = field[i]
        if c == "\\" and i + 1 < len(field):
            out.append({"n": "\n", "t": "\t", "\\": "\\"}.get(field[i + 1], field[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def decimal(text: str, what: str) -> Fraction:
    """An exact fraction from REAPER's decimal text. :raises BridgeError: not a number."""
    try:
        x = Fraction(text.strip())
    except (ValueError, ZeroDivisionError, AttributeError):
        raise BridgeError("REAPER sent something that is not a number", field=what,
                          value=text) from None
    return x



class ReaperWeb:
    """REAPER's web interface at ``http://host:port`` (optional ``user:password``)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8080, timeout_s: float = 2.0,
                 auth: str | None = None) -> None:
        self.base = f"http://{host}:{int(port)}"
        self.timeout_s = float(timeout_s)
        self.auth = auth

    def request(self, *commands: str) -> list[list[str]]:
        """Run ``commands`` (``;``-joined in one request); the answer's lines split at TABs.

        :raises BridgeError: REAPER does not answer, refuses the login, or answers non-text.
        """
        url = f"{self.base}/_/" + ";".join(commands)
        req = urllib.request.Request(url)
        if self.auth:
            req.add_header("Authorization",
                           "Basic " + base64.b64encode(self.auth.encode()).decode("ascii"))
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as r:
                body = r.read(4 * 1024 * 1024).decode("utf-8", errors="replace")
        except urllib.error.HTTPError as e:
            if e.code == 401:
                raise BridgeError(f"REAPER's web interface at {self.base} wants a login",
                                  field="--reaper-web-auth",
                                  allowed="user:password as set in REAPER's web interface "
                                          "settings") from None
            raise BridgeError(f"REAPER's web interface at {self.base} answered HTTP {e.code}",
                              allowed=WEB_CHECK) from None
        except (urllib.error.URLError, OSError, ValueError) as e:
            reason = getattr(e, "reason", e)
            raise BridgeError(f"REAPER's web interface does not answer at {self.base} "
                              f"(waited up to {self.timeout_s:g} s: {reason})",
                              allowed=WEB_CHECK) from None
        return [line.split("\t") for line in body.splitlines() if line]

    def set_ext_state(self, key: str, value: str) -> None:
        q = urllib.parse.quote
        self.request(f"SET/EXTSTATE/{q(EXT_SECTION, safe='')}/{q(key, safe='')}/"
                     f"{q(value, safe='')}")

    def get_ext_state(self, key: str) -> str:
        q = urllib.parse.quote
        for tok in self.request(f"GET/EXTSTATE/{q(EXT_SECTION, safe='')}/{q(key, safe='')}"):
            if tok[0] == "EXTSTATE" and len(tok) >= 4 and unescape(tok[2]) == key:
                return unescape("\t".join(tok[3:]))
        return ""
