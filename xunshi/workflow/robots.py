"""Group robots: WeCom (企业微信), DingTalk (钉钉) and Feishu (飞书) webhooks.

Each posts its platform's documented robot message (`docs/notifications.md` says which
documents and what was followed) with the readable Chinese message of `messages.py`, signs
where the platform does (DingTalk and Feishu signed robots: a timestamp and a base64
HMAC-SHA256), and reads the answer: these platforms answer HTTP 200 to a refused message
too, with an error code in the body, so only code 0 is a delivery; anything else is a failed
attempt whose reason is the platform's code and message (`errcode 310000: keywords not in
content`), retried and given up like any channel's. Robots do not de-duplicate: the outbox
keeps the idempotency key and never sends a delivered row again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus, urlsplit

from xunshi.workflow.messages import SIGNATURE, Message, escalation_message
from xunshi.workflow.notify import DeliveryFailed, post_json


def shown_url(url: str) -> str:
    """How messages name a robot: scheme and host only (its path or query holds its token)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class RobotChannel(ABC):
    """A group robot: post the platform's message, check the platform's answer."""

    name = "robot"

    def __init__(
        self,
        url: str,
        *,
        secret: str | None,
        timeout: float,
        now: Callable[[], datetime],
        desk_url: str | None = None,
    ) -> None:
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.now = now
        self.desk_url = desk_url
        self.target = shown_url(url)

    def send(self, payload: Mapping[str, Any], key: str) -> str:
        """Post the escalation's message; the platform's answer (`errcode 0: ok`)."""
        return self.send_message(escalation_message(payload, self.desk_url))

    def send_message(self, message: Message) -> str:
        """Post one message now; the platform's answer, or DeliveryFailed with its reason."""
        url, body = self.request(message, self.now())
        _status, answer = post_json(
            url,
            json.dumps(body, ensure_ascii=False).encode(),
            {},
            self.timeout,
            shown=self.target,
        )
        return self.check(answer)

    @abstractmethod
    def request(self, message: Message, now: datetime) -> tuple[str, dict[str, Any]]:
        """The URL to post to and the JSON body, signed as of `now` where signing applies."""

    def check(self, answer: bytes) -> str:
        """`errcode 0: ok` for a delivery; DeliveryFailed with the platform's code otherwise."""
        data = _json_answer(answer)
        code, text = data.get("errcode"), data.get("errmsg", "")
        if code is None:
            raise DeliveryFailed(f"unexpected answer: {_excerpt(answer)}")
        if code != 0:
            raise DeliveryFailed(f"errcode {code}: {text}")
        return f"errcode 0: {text}"


class WeComChannel(RobotChannel):
    """企业微信群机器人: `{"msgtype": "markdown", "markdown": {"content": …}}`, unsigned."""

    name = "wecom"

    def request(self, message: Message, now: datetime) -> tuple[str, dict[str, Any]]:
        """The webhook URL as configured (it carries the robot's key) and a markdown body."""
        return self.url, {"msgtype": "markdown", "markdown": {"content": message.markdown()}}


class DingTalkChannel(RobotChannel):
    """钉钉自定义机器人: markdown with a title; signed robots get `&timestamp=…&sign=…`."""

    name = "dingtalk"

    def request(self, message: Message, now: datetime) -> tuple[str, dict[str, Any]]:
        """The URL (signed as of `now` when a secret is set) and a markdown body."""
        body = {
            "msgtype": "markdown",
            "markdown": {"title": message.title, "text": message.markdown(line_break="\n\n")},
        }
        if self.secret is None:
            return self.url, body
        timestamp = str(int(now.timestamp() * 1000))
        sign = quote_plus(dingtalk_sign(timestamp, self.secret))
        joiner = "&" if urlsplit(self.url).query else "?"
        return f"{self.url}{joiner}timestamp={timestamp}&sign={sign}", body


class FeishuChannel(RobotChannel):
    """飞书自定义机器人: a rich-text `post` message; signed robots get `timestamp` and `sign`
    in the body."""

    name = "feishu"

    def request(self, message: Message, now: datetime) -> tuple[str, dict[str, Any]]:
        """The URL as configured and a `post` body (signed as of `now` when a secret is set)."""
        content: list[list[dict[str, str]]] = [
            [{"tag": "text", "text": line}] for line in message.body()
        ]
        if message.link:
            content.append([{"tag": "a", "text": "查看详情", "href": message.link}])
        content.append([{"tag": "text", "text": f"—— {SIGNATURE}"}])
        body: dict[str, Any] = {}
        if self.secret is not None:
            timestamp = str(int(now.timestamp()))
            body.update(timestamp=timestamp, sign=feishu_sign(timestamp, self.secret))
        body.update(
            msg_type="post",
            content={"post": {"zh_cn": {"title": message.title, "content": content}}},
        )
        return self.url, body

    def check(self, answer: bytes) -> str:
        """`code 0: success`; older robots answer `StatusCode` instead of `code`."""
        data = _json_answer(answer)
        if "code" in data:
            code, text = data["code"], data.get("msg", "")
        elif "StatusCode" in data:
            code, text = data["StatusCode"], data.get("StatusMessage", "")
        else:
            raise DeliveryFailed(f"unexpected answer: {_excerpt(answer)}")
        if code != 0:
            raise DeliveryFailed(f"code {code}: {text}")
        return f"code 0: {text}"


def dingtalk_sign(timestamp: str, secret: str) -> str:
    """base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")) (URL-encode it)."""
    digest = hmac.new(
        secret.encode(), f"{timestamp}\n{secret}".encode(), digestmod=hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode()


def feishu_sign(timestamp: str, secret: str) -> str:
    """base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b""))."""
    digest = hmac.new(f"{timestamp}\n{secret}".encode(), b"", digestmod=hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _json_answer(answer: bytes) -> dict[str, Any]:
    try:
        data = json.loads(answer)
    except (ValueError, UnicodeDecodeError):
        raise DeliveryFailed(f"answer is not JSON: {_excerpt(answer)}") from None
    if not isinstance(data, dict):
        raise DeliveryFailed(f"unexpected answer: {_excerpt(answer)}")
    return data


def _excerpt(answer: bytes) -> str:
    text = answer.decode("utf-8", errors="replace").strip() or "(empty)"
    return text if len(text) <= 200 else text[:200] + "…"
