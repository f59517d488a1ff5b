"""Checks bodies against Slack's and Discord's incoming-webhook formats.

The schemas below are written from the services' public documentation:

- Slack, "Sending messages using incoming webhooks" and the Block Kit
  reference: a message has `text` (the notification fallback) and up to 50
  `blocks`. A `section` has a text object (`mrkdwn` or `plain_text`, 1-3000
  characters); an `actions` block has 1-25 elements, a `button` a
  `plain_text` text of at most 75 characters and an optional `url` of at most
  3000; a `context` block has 1-10 text or image elements.
- Discord, "Execute Webhook" and the Embed object: `content` of at most 2000
  characters and/or up to 10 `embeds`; an embed's `title` at most 256,
  `description` at most 4096, `url` a string, `timestamp` ISO 8601, `color` an
  integer, `footer.text` at most 2048 characters.

Reads `{"slack": [bodies...], "discord": [bodies...]}` on stdin, prints
"N valid", exits non-zero naming the first body that does not fit.
"""

import json
import sys

from jsonschema import Draft202012Validator, FormatChecker

TEXT = {
    "type": "object",
    "required": ["type", "text"],
    "properties": {
        "type": {"enum": ["mrkdwn", "plain_text"]},
        "text": {"type": "string", "minLength": 1, "maxLength": 3000},
        "emoji": {"type": "boolean"},
        "verbatim": {"type": "boolean"},
    },
    "additionalProperties": False,
}
PLAIN = {**TEXT, "properties": {**TEXT["properties"], "type": {"const": "plain_text"},
                                "text": {"type": "string", "minLength": 1, "maxLength": 75}}}
BUTTON = {
    "type": "object",
    "required": ["type", "text"],
    "properties": {
        "type": {"const": "button"},
        "text": PLAIN,
        "url": {"type": "string", "maxLength": 3000, "pattern": "^https?://"},
        "action_id": {"type": "string", "maxLength": 255},
        "value": {"type": "string", "maxLength": 2000},
        "style": {"enum": ["primary", "danger"]},
    },
    "additionalProperties": False,
}
SLACK = {
    "type": "object",
    "required": ["text"],
    "properties": {
        "text": {"type": "string", "minLength": 1},
        "blocks": {
            "type": "array",
            "maxItems": 50,
            "items": {
                "oneOf": [
                    {
                        "type": "object",
                        "required": ["type", "text"],
                        "properties": {"type": {"const": "section"}, "text": TEXT,
                                       "block_id": {"type": "string"}},
                        "additionalProperties": False,
                    },
                    {
                        "type": "object",
                        "required": ["type", "elements"],
                        "properties": {
                            "type": {"const": "actions"},
                            "elements": {"type": "array", "minItems": 1, "maxItems": 25,
                                         "items": BUTTON},
                            "block_id": {"type": "string"},
                        },
                        "additionalProperties": False,
                    },
                    {
                        "type": "object",
                        "required": ["type", "elements"],
                        "properties": {
                            "type": {"const": "context"},
                            "elements": {"type": "array", "minItems": 1, "maxItems": 10,
                                         "items": TEXT},
                            "block_id": {"type": "string"},
                        },
                        "additionalProperties": False,
                    },
                ]
            },
        },
    },
    "additionalProperties": False,
}
EMBED = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "maxLength": 256},
        "description": {"type": "string", "maxLength": 4096},
        "url": {"type": "string", "format": "uri"},
        "timestamp": {"type": "string", "format": "date-time"},
        "color": {"type": "integer", "minimum": 0, "maximum": 16777215},
        "footer": {
            "type": "object",
            "required": ["text"],
            "properties": {"text": {"type": "string", "maxLength": 2048},
                           "icon_url": {"type": "string"}},
            "additionalProperties": False,
        },
    },
    "additionalProperties": False,
}
DISCORD = {
    "type": "object",
    "anyOf": [{"required": ["content"]}, {"required": ["embeds"]}],
    "properties": {
        "content": {"type": "string", "maxLength": 2000},
        "embeds": {"type": "array", "maxItems": 10, "items": EMBED},
        "username": {"type": "string", "maxLength": 80},
        "avatar_url": {"type": "string"},
    },
    "additionalProperties": False,
}


def main() -> int:
    given = json.load(sys.stdin)
    count = 0
    for name, schema in (("slack", SLACK), ("discord", DISCORD)):
        validator = Draft202012Validator(schema, format_checker=FormatChecker())
        for body in given.get(name, []):
            errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
            if errors:
                print(f"{name} body does not fit: {errors[0].message} at {list(errors[0].path)}\n"
                      f"{json.dumps(body)}")
                return 1
            count += 1
    print(f"{count} valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
