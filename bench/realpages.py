"""Article pages made from real page markup: the extraction corpora's pages, new text.

The pages of ``../shared/corpora/trafilatura-eval/`` and ``fundus-dev/`` beside it
(relative to the project root; read at run time, never copied into the repository)
between 30 and 500 KB are the templates, cycled: article ``i`` of a site is made from
template ``(i + offset) % len(templates)``, in an order fixed by a hash of their
names, so the first hundred articles already mix both corpora and all sizes.
In each copy:

- the body keeps its markup, and every text in it is replaced by generated text of
  about the same length, seeded by the article number, so every article is a
  different story for the seen store's SimHash rule. The body is the smallest element
  holding the passages the corpus says the article text contains (trafilatura-eval's
  ``with`` snippets, fundus-dev's expected summary and paragraphs); where fewer than
  two are found, or they meet only at ``<body>``, it is the element whose ``<p>``
  children (grandchildren at half weight) hold the most text, as readability scores;
- texts of 100 characters or more elsewhere in the page are replaced too, so even
  an extraction that misses the body returns text unique to the article;
- ``<title>``, the first ``<h1>``, og/twitter titles and descriptions, and JSON-LD
  ``headline`` / ``articleBody`` carry the generated title and text;
- links to the template's own host become links into the generated site (older
  articles, section fronts, tag and author pages), so a crawler that follows links
  finds the same kind of graph as on the synthetic site; links to other hosts stay;
- ``<base>``, meta refresh and charset declarations go, the canonical link and
  ``og:url`` name the article's own path, and the page is written as UTF-8.

Everything else (head, scripts, styles, menus, teasers, footers, JSON state blobs)
is the template's, so the page's size and boilerplate stay real. The body text is
known, so ``body_check`` can tell how much of it an extraction returned, and how much
of the extraction was template text.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

MIN_BYTES = 30 * 1024
MAX_BYTES = 500 * 1024
#: A body needs this many characters of paragraph text in at least 3 paragraphs.
MIN_BODY_CHARS = 600
#: Texts this long outside the body are replaced too (see ``render``).
LONG_TEXT = 100
_BLOCKS = ("p", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "figcaption", "td")
_CHARSET = re.compile(rb"""charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Template:
    """One corpus page usable as an article template."""

    name: str  # "<corpus>/<file>"
    path: Path
    url: str  # the page's original URL ("" when the corpus has none)
    size: int
    #: Passages of the article text, from the corpus's expected output.
    snippets: tuple[str, ...] = ()


def corpora_dir(project_root: Path) -> Path:
    """Where the corpora are: ``../shared/corpora`` from the project root."""
    return (project_root / ".." / "shared" / "corpora").resolve()


def _spread(items: list[str], k: int) -> list[str]:
    """At most ``k`` of ``items``, first and last included, evenly apart."""
    if len(items) <= k:
        return items
    return [items[round(j * (len(items) - 1) / (k - 1))] for j in range(k)]


def _corpus_files(corpora: Path) -> list[Template]:
    files: list[Template] = []
    evaldata = corpora / "trafilatura-eval" / "evaldata.json"
    if evaldata.exists():
        entries = json.loads(evaldata.read_text(encoding="utf-8"))
        for url, entry in entries.items():
            path = corpora / "trafilatura-eval" / "pages" / f"{entry['file']}.gz"
            own = url if url.startswith(("http://", "https://")) else ""
            files.append(
                Template(
                    f"trafilatura-eval/{entry['file']}",
                    path,
                    own,
                    0,
                    tuple(entry.get("with", ())),
                )
            )
    cases = corpora / "fundus-dev" / "cases.json"
    if cases.exists():
        for case in json.loads(cases.read_text(encoding="utf-8"))["cases"]:
            path = corpora / "fundus-dev" / case["file"]
            expected = case.get("expected", {})
            paragraphs = [
                p
                for section in expected.get("sections", [])
                for p in section["paragraphs"]
            ]
            snippets = [*expected.get("summary", []), *_spread(paragraphs, 6)]
            files.append(
                Template(
                    f"fundus-dev/{case['id']}",
                    path,
                    case.get("url", ""),
                    0,
                    tuple(snippets),
                )
            )
    return sorted(files, key=lambda t: hashlib.sha256(t.name.encode()).hexdigest())


def read_page(path: Path) -> str:
    """A corpus page as text: its declared charset, else UTF-8 (bad bytes replaced)."""
    raw = gzip.decompress(path.read_bytes())
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        found = _CHARSET.search(raw[:4096])
        charset = found.group(1).decode("ascii") if found else "windows-1252"
        try:
            text = raw.decode(charset, errors="replace")
        except LookupError:
            text = raw.decode("windows-1252", errors="replace")
    return _XML_DECL.sub("", text)


def parse(text: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(text)


def find_body(
    doc: lxml.html.HtmlElement, snippets: Iterable[str] = ()
) -> lxml.html.HtmlElement | None:
    """The body: where the snippets meet (see the module doc), else by paragraphs."""
    found = _where_snippets_meet(doc, snippets)
    return found if found is not None else _densest_paragraphs(doc)


_INLINE = frozenset(
    "p a span strong b em i u small sup sub mark abbr time q cite code font br".split()
)


def _where_snippets_meet(
    doc: lxml.html.HtmlElement, snippets: Iterable[str]
) -> lxml.html.HtmlElement | None:
    keys = [k for s in snippets if len(k := _SPACE.sub(" ", s).strip()[:24]) >= 12]
    if len(keys) < 2:
        return None
    texts = [
        (_SPACE.sub(" ", str(node)), node)
        for node in doc.xpath("//body//text()[not(ancestor::script)]")
    ]
    holders: list[lxml.html.HtmlElement] = []
    for key in keys:
        for text, node in texts:
            if key in text:
                el = node.getparent()
                if node.is_tail:
                    el = el.getparent()
                if el is not None:
                    holders.append(el)
                break
    if len(holders) < 2:
        return None
    common = [holders[0], *holders[0].iterancestors()]
    for el in holders[1:]:
        mine = {id(a) for a in [el, *el.iterancestors()]}
        common = [a for a in common if id(a) in mine]
    meet = common[0] if common else None
    while meet is not None and meet.tag in _INLINE:
        meet = meet.getparent()
    if meet is None or meet.tag in ("body", "html"):
        return None
    return meet


def _densest_paragraphs(doc: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    """The element holding the article's paragraphs (readability's scoring, simplified):
    each ``<p>`` gives its text length to its parent and half of it to its grandparent.
    None when no element holds ``MIN_BODY_CHARS`` of text in 3 or more paragraphs."""
    score: dict[lxml.html.HtmlElement, float] = {}
    count: dict[lxml.html.HtmlElement, int] = {}
    for p in doc.iter("p"):
        length = len(_SPACE.sub(" ", p.text_content()).strip())
        if length < 25:
            continue
        parent = p.getparent()
        if parent is None:
            continue
        score[parent] = score.get(parent, 0.0) + length
        count[parent] = count.get(parent, 0) + 1
        grand = parent.getparent()
        if grand is not None:
            score[grand] = score.get(grand, 0.0) + length / 2
            count[grand] = count.get(grand, 0) + 1
    if not score:
        return None
    best = max(score, key=lambda el: score[el])
    chars = sum(
        len(p.text_content().strip())
        for p in best.iter("p")
        if len(p.text_content().strip()) >= 25
    )
    if chars < MIN_BODY_CHARS or count[best] < 3:
        return None
    return best


def load_templates(corpora: Path) -> tuple[Template, ...]:
    """The corpus pages of 30-500 KB in which a body is found, in a fixed order."""
    found = []
    for template in _corpus_files(corpora):
        if not template.path.exists():
            continue
        text = read_page(template.path)
        size = len(text.encode("utf-8"))
        if not MIN_BYTES <= size <= MAX_BYTES:
            continue
        try:
            doc = parse(text)
        except (etree.ParserError, ValueError):
            continue
        if find_body(doc, template.snippets) is not None:
            found.append(replace(template, size=size))
    if not found:
        raise SystemExit(
            f"no real-page templates under {corpora} (see ../shared/corpora/README.md)"
        )
    return tuple(found)


def fingerprint(templates: Iterable[Template]) -> str:
    """Identifies a template set, so a site built from another set is rebuilt."""
    digest = hashlib.sha256()
    for t in templates:
        digest.update(f"{t.name}:{t.size}\n".encode())
    return digest.hexdigest()[:16]


# --- text --------------------------------------------------------------------------
class TextMaker:
    """Generated text from a word list, seeded per article."""

    def __init__(self, words: Sequence[str], rng: random.Random) -> None:
        self.words, self.rng = words, rng

    def like(self, original: str) -> str:
        """Text of about ``original``'s length, keeping its outer spacing."""
        core = original.strip()
        if len(core) <= 2 or not _WORD.search(core):
            return original  # separators, bullets, numbers of one digit
        out: list[str] = []
        length = -1
        while length < len(core) - 3:
            word = self.words[self.rng.randrange(len(self.words))]
            if self.rng.random() < 0.03:  # numbers: more distinct tokens, as in news
                word = str(self.rng.randrange(2, 99_999))
            out.append(word)
            length += len(word) + 1
        text = " ".join(out)
        text = text[0].upper() + text[1:]
        if core[-1] in ".!?:" and len(out) > 3:
            text += core[-1]
        lead = original[: len(original) - len(original.lstrip())]
        tail = original[len(original.rstrip()) :]
        return lead + text + tail


def _replace_text(root: lxml.html.HtmlElement, make: TextMaker) -> None:
    """Replace every text (and tail) under ``root``, scripts and styles excepted."""
    for el in root.iter():
        if not isinstance(el.tag, str):  # comments, processing instructions
            if el is not root and el.tail:
                el.tail = make.like(el.tail)
            continue
        if el.tag not in ("script", "style") and el.text:
            el.text = make.like(el.text)
        if el is not root and el.tail:
            el.tail = make.like(el.tail)


def _replace_long_texts(
    doc: lxml.html.HtmlElement, body: lxml.html.HtmlElement, make: TextMaker
) -> None:
    """Replace texts of ``LONG_TEXT`` characters or more outside the body too."""
    inside = {id(el) for el in body.iter()}
    page = doc.find("body")
    for el in page.iter() if page is not None else ():
        if id(el) in inside or not isinstance(el.tag, str):
            continue
        if (
            el.tag not in ("script", "style")
            and len((el.text or "").strip()) >= LONG_TEXT
        ):
            el.text = make.like(el.text or "")
        if len((el.tail or "").strip()) >= LONG_TEXT:
            el.tail = make.like(el.tail or "")


def _set_text(el: lxml.html.HtmlElement, text: str) -> None:
    for child in list(el):
        el.remove(child)
    el.text = text


# --- the page ----------------------------------------------------------------------
@dataclass(frozen=True)
class RealArticle:
    """A generated page and what its body says (for checking an extraction)."""

    html: str
    template: str
    #: The generated texts of the body's blocks (paragraphs, subheads, list items).
    blocks: tuple[str, ...]


def _own_host(template: Template, doc: lxml.html.HtmlElement) -> str:
    url = template.url
    if not url:
        canonical = doc.xpath('//link[@rel="canonical"]/@href')
        url = canonical[0] if canonical else ""
    return (urlsplit(url).hostname or "").lower()


def _rewrite_links(
    doc: lxml.html.HtmlElement, host: str, pick: Callable[[], str]
) -> None:
    for a in doc.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            continue
        target = urlsplit(urljoin(f"https://{host or 'template.invalid'}/", href))
        if target.scheme not in ("http", "https"):
            continue
        if (target.hostname or "").lower().removeprefix("www.") == host.removeprefix(
            "www."
        ):
            a.set("href", pick())


def _fix_head(
    doc: lxml.html.HtmlElement, title: str, path: str, make: TextMaker
) -> None:
    for el in doc.xpath(
        "//base | //meta[@charset] | //meta[translate(@http-equiv,"
        "'CONTENTYPRFSH','contentyprfsh')='content-type'] | //meta[translate("
        "@http-equiv,'REFSH','refsh')='refresh']"
    ):
        el.drop_tree()
    head = doc.find("head")
    if head is None:
        head = etree.Element("head")
        doc.insert(0, head)
    head.insert(0, etree.Element("meta", charset="utf-8"))
    title_el = head.find("title")
    if title_el is None:
        title_el = etree.SubElement(head, "title")
    _set_text(title_el, title)
    for el in doc.xpath('//link[@rel="canonical"] | //meta[@property="og:url"]'):
        el.set("href" if el.tag == "link" else "content", path)
    for el in doc.xpath(
        '//meta[@property="og:title" or @name="twitter:title" or @property='
        '"twitter:title"]'
    ):
        el.set("content", title)
    for el in doc.xpath(
        '//meta[@name="description" or @property="og:description" or @name='
        '"twitter:description" or @property="twitter:description"]'
    ):
        el.set("content", make.like(el.get("content") or "").strip())


def _fix_json_ld(doc: lxml.html.HtmlElement, title: str, body_text: str) -> None:
    for script in doc.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue

        def visit(node: object) -> None:
            if isinstance(node, dict):
                if isinstance(node.get("articleBody"), str):
                    node["articleBody"] = body_text
                if isinstance(node.get("headline"), str):
                    node["headline"] = title
                for value in node.values():
                    visit(value)
            elif isinstance(node, list):
                for value in node:
                    visit(value)

        visit(data)
        script.text = json.dumps(data, ensure_ascii=False)


def render(
    template: Template,
    *,
    title: str,
    path: str,
    words: Sequence[str],
    rng: random.Random,
    pick_link: Callable[[], str],
) -> RealArticle:
    """The page of one article from ``template`` (see the module doc)."""
    doc = parse(read_page(template.path))
    host = _own_host(template, doc)
    body = find_body(doc, template.snippets)
    if body is None:  # load_templates keeps only templates with a body
        raise ValueError(f"{template.name}: no body")
    make = TextMaker(words, rng)
    _replace_text(body, make)
    # Long texts elsewhere (a second text column, an "about us" paragraph, a cookie
    # notice) are replaced too: an extraction that takes them must still be unique
    # to the article, or the seen store would call two copies of a template one story.
    _replace_long_texts(doc, body, make)
    h1 = doc.find(".//h1")
    if h1 is not None:
        _set_text(h1, title)
    blocks = tuple(
        text
        for el in body.iter(*_BLOCKS)
        if (text := _SPACE.sub(" ", el.text_content()).strip())
    )
    paragraphs = [_SPACE.sub(" ", p.text_content()).strip() for p in body.iter("p")]
    _fix_head(doc, title, path, make)
    _fix_json_ld(doc, title, "\n\n".join(p for p in paragraphs if p))
    _rewrite_links(doc, host, pick_link)
    html = "<!DOCTYPE html>\n" + lxml.html.tostring(doc, encoding="unicode")
    return RealArticle(html, template.name, blocks)


# --- checking an extraction --------------------------------------------------------
@dataclass(frozen=True)
class BodyCheck:
    """How an extracted text compares with the generated body."""

    recall: float  # share of the body's paragraph characters found in the text
    template_share: float  # share of the text's words that are not generated text

    def passed(self, min_recall: float = 0.8, max_template: float = 0.2) -> bool:
        return self.recall >= min_recall and self.template_share <= max_template


def body_check(article: RealArticle, extracted: str) -> BodyCheck:
    """Compare an extracted text with the article's generated body blocks."""
    text = _SPACE.sub(" ", extracted).strip()
    long_blocks = [b for b in article.blocks if len(b) >= 80]
    total = sum(len(b) for b in long_blocks)
    found = sum(len(b) for b in long_blocks if b in text)
    rest = text
    for block in sorted(set(article.blocks), key=len, reverse=True):
        if len(_WORD.findall(block)) >= 3:
            rest = rest.replace(block, " ")
    words = len(_WORD.findall(text))
    return BodyCheck(
        recall=found / total if total else 0.0,
        template_share=len(_WORD.findall(rest)) / words if words else 1.0,
    )
