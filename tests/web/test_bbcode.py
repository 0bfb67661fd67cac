"""The BBCode renderer: Steam's markup becomes HTML, and nothing from the text reaches the page
as HTML of its own, whatever it holds."""

from __future__ import annotations

import re

import pytest

from openworkshop_web.bbcode import render_bbcode, safe_url


def test_known_tags_become_markup() -> None:
    html = render_bbcode(
        "[h1]Title[/h1][b]bold[/b] [i]it[/i] [u]u[/u] [s]s[/s]\n"
        "[list][*]one[*]two[/list][quote=Ann]said[/quote][code][b]x[/b][/code]"
        "[spoiler]hidden[/spoiler][hr][noparse][b]kept[/b][/noparse]"
    )
    assert '<h3 class="bb-h1">Title</h3>' in html
    assert "<strong>bold</strong> <em>it</em> <u>u</u> <s>s</s><br>" in html
    assert "<ul><li>one</li><li>two</li></ul>" in html
    assert "<blockquote><cite>Ann</cite>said</blockquote>" in html
    assert "<pre><code>[b]x[/b]</code></pre>" in html
    assert '<details class="bb-spoiler"><summary>…</summary>hidden</details>' in html
    assert "<hr>" in html and "[b]kept[/b]" in html


def test_links_and_images_are_http_only_and_marked_nofollow() -> None:
    html = render_bbcode(
        "[url=https://example.org/a?b=1&c=2]site[/url] [url]http://example.com[/url] "
        "[img]https://example.org/p.png[/img]"
    )
    assert (
        '<a href="https://example.org/a?b=1&amp;c=2" rel="nofollow noopener noreferrer" '
        'target="_blank">site</a>'
    ) in html
    assert '<a href="http://example.com" rel="nofollow noopener noreferrer"' in html
    assert '<img src="https://example.org/p.png" alt=""' in html


HOSTILE = [
    "<script>alert(1)</script>",
    "[b]<img src=x onerror=alert(1)>[/b]",
    "[url=javascript:alert(1)]click[/url]",
    "[url=JaVaScRiPt:alert(1)]click[/url]",
    "[url= javascript:alert(1)]x[/url]",
    "[url=data:text/html;base64,PHNjcmlwdD4=]x[/url]",
    '[url=https://a.org/" onmouseover="alert(1)]x[/url]',
    "[url=https://a.org/' onmouseover='alert(1)]x[/url]",
    "[img]javascript:alert(1)[/img]",
    '[img]https://a.org/x.png" onerror="alert(1)[/img]',
    "[img]//evil.org/x.png[/img]",
    "[url]javascript:alert(1)[/url]",
    '[quote="><script>alert(1)</script>]x[/quote]',
    "[code]</code><script>alert(1)</script>[/code]",
    "[noparse]<b>x</b>[/noparse]",
    "[b][i][u]unclosed",
    "[/b][/i]closing first[/list][*]",
    "[list][*][b]item[*]next[/list][/b]",
    "[url=https://a.org][url=https://b.org]nested[/url][/url]",
    "[b]" * 200 + "deep",
    "&lt;script&gt; &amp; \"quotes\" 'apos'",
    "[h1]<svg onload=alert(1)>[/h1]",
    "[url=https://a.org/\n]x[/url]",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_cannot_inject_markup(text: str) -> None:
    html = str(render_bbcode(text))
    # no element but those the renderer writes; no handler attribute; no script URL
    tags = set(re.findall(r"<\s*/?\s*([a-zA-Z0-9]+)", html))
    assert tags <= {
        "strong", "em", "u", "s", "h3", "h4", "h5", "ul", "ol", "li", "blockquote", "cite",
        "pre", "code", "details", "summary", "hr", "br", "a", "img",
    }, html  # fmt: skip
    assert "<script" not in html.lower() and "<svg" not in html.lower()
    for attribute in re.findall(r"<[a-z0-9]+((?:\s+[a-z-]+=\"[^\"]*\")*)\s*/?>", html):
        names = re.findall(r"([a-z-]+)=", attribute)
        assert set(names) <= {"href", "src", "rel", "target", "alt", "loading", "class",
                              "referrerpolicy"}, html  # fmt: skip
    for url in re.findall(r'(?:href|src)="([^"]*)"', html):
        assert url.startswith(("http://", "https://")), html
    # every element the renderer opened is closed, in order
    stack: list[str] = []
    for closing, name in re.findall(
        r"<(/?)(strong|em|u|s|h3|h4|h5|ul|ol|li|blockquote|pre|code|details|a)\b", html
    ):
        if closing:
            assert stack and stack.pop() == name, html
        else:
            stack.append(name)
    assert stack == [], html


def test_escaped_text_stays_text() -> None:
    assert str(render_bbcode("<b>&amp;</b>")) == "&lt;b&gt;&amp;amp;&lt;/b&gt;"
    assert str(render_bbcode("[unknown]x[/unknown]")) == "[unknown]x[/unknown]"
    assert str(render_bbcode("[url=javascript:alert(1)]x[/url]")) == (
        "[url=javascript:alert(1)]x[/url]"
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://a.org/x", "https://a.org/x"),
        ("http://a.org", "http://a.org"),
        ("javascript:alert(1)", None),
        ("//a.org/x", None),
        ("https://", None),
        ('https://a.org/"x', None),
        ("https://a.org/ x", None),
        ("ftp://a.org/x", None),
    ],
)
def test_safe_url(raw: str, expected: str | None) -> None:
    assert safe_url(raw) == expected
